/* kn_dot_s8 (dispatched) and the explicit NEON paths against a scalar int64 reference; exact. */
#include "kernels_native.h"
#include "kn_test.h"

static int64_t ref_dot(const int8_t* a, const int8_t* b, size_t n)
{
    int64_t s = 0;
    for (size_t i = 0; i < n; ++i) s += (int64_t)a[i] * (int64_t)b[i];
    return s;
}

typedef int32_t (*dot_fn)(const int8_t*, const int8_t*, size_t);

int main(void)
{
    static const size_t ns[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                                31, 32, 33, 48, 64, 100, 1000};
    const char* path = kn_dot_s8_path();
    struct { const char* name; dot_fn fn; } fns[3];
    int nf = 0;
    fns[nf].name = "kn_dot_s8"; fns[nf++].fn = kn_dot_s8;
#if KN_TEST_EXPECT_NEON
    fns[nf].name = "kn_dot_s8_neon"; fns[nf++].fn = kn_dot_s8_neon;
#  if defined(__aarch64__)
    /* sdot raises SIGILL on CPUs without the dot-product extension */
    if (strcmp(path, "sdot") == 0) { fns[nf].name = "kn_dot_s8_sdot"; fns[nf++].fn = kn_dot_s8_sdot; }
    else printf("kn_dot_s8_sdot not run: CPU has no dot product (path %s)\n", path);
#  else
    fns[nf].name = "kn_dot_s8_sdot"; fns[nf++].fn = kn_dot_s8_sdot; /* SIMDe emulation */
#  endif
#endif
    printf("dispatch path: %s; testing", path);
    for (int f = 0; f < nf; ++f) printf(" %s", fns[f].name);
    printf("\n");

    enum { MAXN = 1000, OFF = 3 };
    int8_t* abuf = kn_xmalloc(MAXN + OFF);
    int8_t* bbuf = kn_xmalloc(MAXN + OFF);
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ++ni)
    for (int pattern = 0; pattern < 5; ++pattern)
    for (size_t off = 0; off < 2; ++off) {
        const size_t n = ns[ni];
        int8_t* a = abuf + off * OFF; /* also misaligned pointers */
        int8_t* b = bbuf + off * 1;
        for (size_t i = 0; i < n; ++i) {
            switch (pattern) {
            case 0: a[i] = (int8_t)(kn_rand_u32() & 0xFF); b[i] = (int8_t)(kn_rand_u32() & 0xFF); break;
            case 1: a[i] = -128; b[i] = -128; break;              /* largest positive products */
            case 2: a[i] = -128; b[i] = 127; break;               /* most negative products */
            case 3: a[i] = 127; b[i] = 127; break;
            default: a[i] = (i & 1) ? 127 : -128; b[i] = (i % 3) ? -128 : 127; break;
            }
        }
        const int64_t want = ref_dot(a, b, n);
        for (int f = 0; f < nf; ++f) {
            const int32_t got = fns[f].fn(a, b, n);
            KN_CHECK((int64_t)got == want, "%s n %zu pattern %d offset %zu: got %d want %lld",
                     fns[f].name, n, pattern, off, (int)got, (long long)want);
        }
    }
    free(abuf);
    free(bbuf);
    return kn_test_finish("test_dot");
}
