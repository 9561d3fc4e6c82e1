/* int8 GEMM micro-kernel and VNNI peak loop for x86 AVX-512 VNNI (vpdpbusd).
 *
 * Why C: .NET 10 exposes vpdpbusd only as AvxVnni (the VEX-encoded 128/256-bit form, CPUID AVX-VNNI), which
 * Zen 4 lacks, and has no Avx512Vnni class; a C function compiled for avx512vnni reaches the 512-bit EVEX form.
 * Only this translation unit uses AVX-512 (per-function target attributes); the managed side calls it only
 * when CPUID reports AVX512_VNNI and the OS enables zmm state (Avx512BW.IsSupported).
 *
 * Same contract, packed layouts and requantization as the managed kernels (Kernels.Cpu.Quantized):
 *   a: one packed A panel, groups x 12 rows x 4 uint8 (row i's 4 bytes of a group contiguous);
 *   b: one packed B panel, groups x 32 columns x 4 int8;
 *   for i < m, j < n: x = sum a*b + bias[j] (int32, wrapping); P = x * multiplier[j] (64-bit);
 *   u = bits 31..62 of P, v = bits 30..61 of P, y = (u >> shift[j]) + ((v >>> shift[j]) & 1)
 *     == (P + 2^(30+shift)) >> (31+shift), round to nearest with ties up;
 *   c[i*ldc + j] = clamp(y, low, high) + zero_point (low/high already offset by the zero point).
 *
 * The indirect kernel (kn_qigemm_...) is the same tile for a convolution without im2col or A packing (XNNPACK's
 * "igemm" idea): A is read straight from the activation through taps x 12 row pointers, each pointing at
 * 4 * groups_per_tap readable bytes (a pixel's channels, or a padding buffer of zero points); b is the weights
 * packed as above with each tap's K padded to groups_per_tap groups.
 */
#include "kernels_native.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define KN_VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define MR 12
#define NR 32

/* Requantization of 16 columns, prepared once per tile: the products x * multiplier are formed in 64 bits for the
 * even and odd lanes (vpmuldq), the rounding term 2^(30+shift) added and the 64-bit sum shifted right
 * arithmetically by 31+shift (vpsravq), which is exactly the contract's (P + 2^(30+shift)) >> (31+shift). */
typedef struct rq16 {
    __m512i bias, mul, mul_odd, round_even, round_odd, shift_even, shift_odd;
} rq16;

KN_VNNI_TARGET static inline __attribute__((always_inline)) rq16 rq16_prepare(const int32_t* bias, const int32_t* multiplier,
                                                                             const int32_t* shift)
{
    rq16 r;
    const __m512i one = _mm512_set1_epi64(1), low32 = _mm512_set1_epi64(0xFFFFFFFF), base = _mm512_set1_epi64(31);
    const __m512i sh = _mm512_loadu_si512(shift);
    r.bias = _mm512_loadu_si512(bias);
    r.mul = _mm512_loadu_si512(multiplier);
    r.mul_odd = _mm512_srli_epi64(r.mul, 32);
    r.shift_even = _mm512_add_epi64(_mm512_and_si512(sh, low32), base);
    r.shift_odd = _mm512_add_epi64(_mm512_srli_epi64(sh, 32), base);
    r.round_even = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.shift_even, one));
    r.round_odd = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.shift_odd, one));
    return r;
}

KN_VNNI_TARGET static inline __attribute__((always_inline)) __m512i requantize16(__m512i acc, const rq16* r, __m512i low, __m512i high,
                                                                                __m512i zero_point)
{
    const __m512i x = _mm512_add_epi32(acc, r->bias);
    const __m512i even = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, r->mul), r->round_even), r->shift_even);
    const __m512i odd = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), r->mul_odd), r->round_odd),
                                          r->shift_odd);
    __m512i y = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
    y = _mm512_min_epi32(_mm512_max_epi32(y, low), high);
    return _mm512_add_epi32(y, zero_point);
}

/* The epilogue shared by both kernels: requantizes the accumulators of `halves` 16-column halves (1 when n <= 16,
 * so that a narrow last panel costs half) and stores the m x n corner. */
KN_VNNI_TARGET static inline __attribute__((always_inline)) void store_tile(__m512i acc[MR][2], int halves, uint8_t* c, size_t ldc,
                                                                           size_t m, size_t n, const kn_requant_tile* q)
{
    const __m512i low = _mm512_set1_epi32(q->low);
    const __m512i high = _mm512_set1_epi32(q->high);
    const __m512i zero_point = _mm512_set1_epi32(q->zero_point);
    /* Partial columns through byte masks; rows past m are computed (registers only) and not stored. */
    const __mmask16 mask0 = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
    const __mmask16 mask1 = n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1);
    const rq16 r0 = rq16_prepare(q->bias, q->multiplier, q->shift);
    rq16 r1 = r0;
    if (halves == 2)
        r1 = rq16_prepare(q->bias + 16, q->multiplier + 16, q->shift + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        if ((size_t)i < m) {
            const __m512i y0 = requantize16(acc[i][0], &r0, low, high, zero_point);
            _mm_mask_storeu_epi8(c + (size_t)i * ldc, mask0, _mm512_cvtusepi32_epi8(y0));
            if (halves == 2) {
                const __m512i y1 = requantize16(acc[i][1], &r1, low, high, zero_point);
                _mm_mask_storeu_epi8(c + (size_t)i * ldc + 16, mask1, _mm512_cvtusepi32_epi8(y1));
            }
        }
    }
}

/* One group of 4 k for the 12 rows: a broadcast of each row's 4 bytes times the B panel's halves. */
#define KN_VNNI_GROUP(ROW_BYTES)                                                   \
    do {                                                                           \
        const __m512i b0 = _mm512_loadu_si512(b);                                  \
        const __m512i b1 = halves == 2 ? _mm512_loadu_si512(b + 64) : b0;          \
        _Pragma("GCC unroll 12") for (int i = 0; i < MR; i++)                      \
        {                                                                          \
            int32_t quad;                                                          \
            __builtin_memcpy(&quad, ROW_BYTES, 4);                                 \
            const __m512i ai = _mm512_set1_epi32(quad);                            \
            acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], ai, b0);                    \
            if (halves == 2)                                                       \
                acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], ai, b1);                \
        }                                                                          \
        b += NR * 4;                                                               \
    } while (0)

KN_VNNI_TARGET static inline __attribute__((always_inline)) void gemm_tile(int halves, size_t groups, const uint8_t* a,
                                                                          const int8_t* b, uint8_t* c, size_t ldc, size_t m,
                                                                          size_t n, const kn_requant_tile* q)
{
    __m512i acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        acc[i][0] = _mm512_setzero_si512();
        acc[i][1] = _mm512_setzero_si512();
    }

    for (size_t g = 0; g < groups; g++) {
        KN_VNNI_GROUP(a + 4 * i);
        a += MR * 4;
    }

    store_tile(acc, halves, c, ldc, m, n, q);
}

KN_VNNI_TARGET static inline __attribute__((always_inline)) void igemm_tile(int halves, size_t taps, size_t groups_per_tap,
                                                                           const uint8_t* const* a, const int8_t* b, uint8_t* c,
                                                                           size_t ldc, size_t m, size_t n, const kn_requant_tile* q)
{
    __m512i acc[MR][2];
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
        acc[i][0] = _mm512_setzero_si512();
        acc[i][1] = _mm512_setzero_si512();
    }

    for (size_t t = 0; t < taps; t++) {
        const uint8_t* row[MR];
#pragma GCC unroll 12
        for (int i = 0; i < MR; i++)
            row[i] = a[i];
        a += MR;
        for (size_t g = 0; g < groups_per_tap; g++)
            KN_VNNI_GROUP(row[i] + 4 * g);
    }

    store_tile(acc, halves, c, ldc, m, n, q);
}

KN_VNNI_TARGET void kn_qgemm_ukernel_12x32_avx512vnni(size_t groups, const uint8_t* a, const int8_t* b, uint8_t* c,
                                                      size_t ldc, size_t m, size_t n, const kn_requant_tile* q)
{
    if (n <= 16)
        gemm_tile(1, groups, a, b, c, ldc, m, n, q);
    else
        gemm_tile(2, groups, a, b, c, ldc, m, n, q);
}

KN_VNNI_TARGET void kn_qigemm_ukernel_12x32_avx512vnni(size_t taps, size_t groups_per_tap, const uint8_t* const* a,
                                                       const int8_t* b, uint8_t* c, size_t ldc, size_t m, size_t n,
                                                       const kn_requant_tile* q)
{
    if (n <= 16)
        igemm_tile(1, taps, groups_per_tap, a, b, c, ldc, m, n, q);
    else
        igemm_tile(2, taps, groups_per_tap, a, b, c, ldc, m, n, q);
}

KN_VNNI_TARGET int32_t kn_vnni_peak_chains(uint64_t iterations)
{
    /* 12 independent accumulator chains (vpdpbusd latency x throughput on Zen 4 is well under 12), the
     * operands fixed: 12 x 64 multiply-adds x 2 ops per iteration. The result is returned so that the
     * loop is not removed. */
    __m512i acc[12];
    const __m512i x = _mm512_set1_epi32(0x01020304);
    const __m512i w = _mm512_set1_epi32(0x01FF01FF);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++)
        acc[i] = _mm512_set1_epi32(i);
    for (uint64_t it = 0; it < iterations; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++)
            acc[i] = _mm512_dpbusd_epi32(acc[i], x, w);
    }
    __m512i sum = acc[0];
#pragma GCC unroll 11
    for (int i = 1; i < 12; i++)
        sum = _mm512_add_epi32(sum, acc[i]);
    return _mm512_reduce_add_epi32(sum);
}

int kn_has_avx512vnni_kernels(void)
{
    return 1;
}

#else

int kn_has_avx512vnni_kernels(void)
{
    return 0;
}

#endif
