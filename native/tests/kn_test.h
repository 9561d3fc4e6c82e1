/* Tiny test helpers for the C tests of libkernels_native (header-only, one per executable). */
#ifndef KN_TEST_H
#define KN_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kn_test_failures = 0;
static long kn_test_checks = 0;

/* Records a failure (prints at most 20 of them) and goes on. */
#define KN_CHECK(cond, ...)                                                       \
    do {                                                                          \
        ++kn_test_checks;                                                         \
        if (!(cond)) {                                                            \
            if (kn_test_failures < 20) {                                          \
                fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,  \
                        #cond);                                                   \
                fprintf(stderr, __VA_ARGS__);                                     \
                fputc('\n', stderr);                                              \
            }                                                                     \
            ++kn_test_failures;                                                   \
        }                                                                         \
    } while (0)

static inline int kn_test_finish(const char* name)
{
    if (kn_test_failures) {
        fprintf(stderr, "%s: FAILED %d of %ld checks\n", name, kn_test_failures, kn_test_checks);
        return 1;
    }
    printf("%s: %ld checks passed\n", name, kn_test_checks);
    return 0;
}

/* Deterministic xorshift64* generator. */
static uint64_t kn_rng_state = 0x9E3779B97F4A7C15ull;
static inline uint32_t kn_rand_u32(void)
{
    kn_rng_state ^= kn_rng_state >> 12;
    kn_rng_state ^= kn_rng_state << 25;
    kn_rng_state ^= kn_rng_state >> 27;
    return (uint32_t)((kn_rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
/* uniform in [-1, 1) */
static inline float kn_rand_f32(void) { return (float)((double)kn_rand_u32() / 2147483648.0 - 1.0); }

static inline void* kn_xmalloc(size_t bytes)
{
    void* p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(2);
    }
    return p;
}

/* A recognisable quiet NaN used to poison output memory; compared bitwise. */
static const uint32_t kn_poison_bits = 0x7FC0BEEFu;
static inline float kn_poison(void)
{
    float f;
    memcpy(&f, &kn_poison_bits, sizeof f);
    return f;
}
static inline int kn_is_poison(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u == kn_poison_bits;
}
static inline void kn_fill_poison(float* p, size_t n)
{
    const float v = kn_poison();
    for (size_t i = 0; i < n; ++i) p[i] = v;
}

#endif
