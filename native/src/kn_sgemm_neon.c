/* 8x12 fp32 GEMM micro-kernel, NEON (native on aarch64, SIMDe elsewhere).
 *
 * Register plan (aarch64, 32 q registers): 24 accumulators (8 rows x 3 q of 4 columns),
 * A step in 2 q (rows 0-3, 4-7), B step in 3 q (columns 0-3, 4-7, 8-11): 29 live registers.
 * Each k step is 5 loads + 24 `fmla vD.4s, vB.4s, vA.s[lane]`. k is unrolled by 2 (the loads
 * of the second step reuse the same 5 registers, so no extra pressure; unrolling by 4 gave no
 * further benefit in the generated code and costs more tail code).
 */
#include "kernels_native.h"
#include "kn_neon.h"

#include <math.h>

#if defined(__GNUC__) || defined(__clang__)
#  define KN_INLINE static inline __attribute__((always_inline))
#else
#  define KN_INLINE static inline
#endif

#define KN_FMA_ROW(c0, c1, c2, av, lane)                \
    c0 = vfmaq_laneq_f32(c0, b0, av, lane);             \
    c1 = vfmaq_laneq_f32(c1, b1, av, lane);             \
    c2 = vfmaq_laneq_f32(c2, b2, av, lane)

#define KN_STEP(ap, bp)                                  \
    do {                                                 \
        const float32x4_t a0 = vld1q_f32((ap));          \
        const float32x4_t a1 = vld1q_f32((ap) + 4);      \
        const float32x4_t b0 = vld1q_f32((bp));          \
        const float32x4_t b1 = vld1q_f32((bp) + 4);      \
        const float32x4_t b2 = vld1q_f32((bp) + 8);      \
        KN_FMA_ROW(c00, c01, c02, a0, 0);                \
        KN_FMA_ROW(c10, c11, c12, a0, 1);                \
        KN_FMA_ROW(c20, c21, c22, a0, 2);                \
        KN_FMA_ROW(c30, c31, c32, a0, 3);                \
        KN_FMA_ROW(c40, c41, c42, a1, 0);                \
        KN_FMA_ROW(c50, c51, c52, a1, 1);                \
        KN_FMA_ROW(c60, c61, c62, a1, 2);                \
        KN_FMA_ROW(c70, c71, c72, a1, 3);                \
    } while (0)

/* Epilogue of one 4-column block: optional accumulate, bias, clamp (same order as the spec). */
KN_INLINE float32x4_t kn_epilogue4(float32x4_t acc, const float* c, const float* bias,
                                       float32x4_t vmin, float32x4_t vmax, int flags)
{
    if (flags & KN_GEMM_ACCUMULATE) acc = vaddq_f32(acc, vld1q_f32(c));
    if (bias) acc = vaddq_f32(acc, vld1q_f32(bias));
    /* maxnm/minnm: a NaN operand yields the other one, like fmaxf/fminf */
    if (flags & KN_GEMM_CLAMP) acc = vminnmq_f32(vmaxnmq_f32(acc, vmin), vmax);
    if (flags & KN_GEMM_LEAKY_RELU)
    {
        float32x4_t zero = vdupq_n_f32(0.0f);
        acc = vfmaq_f32(vmaxnmq_f32(acc, zero), vminnmq_f32(acc, zero), vmin);
    }
    return acc;
}

static inline float kn_epilogue1(float acc, const float* c, const float* bias, float min,
                                 float max, int flags)
{
    if (flags & KN_GEMM_ACCUMULATE) acc += *c;
    if (bias) acc += *bias;
    if (flags & KN_GEMM_CLAMP) acc = fminf(fmaxf(acc, min), max);
    if (flags & KN_GEMM_LEAKY_RELU) acc = fmaf(fminf(acc, 0.0f), min, fmaxf(acc, 0.0f));
    return acc;
}

/* Writes columns [0, n) of one row. */
KN_INLINE void kn_store_row(float* c, float32x4_t v0, float32x4_t v1, float32x4_t v2,
                                size_t n, const float* bias, float min, float max,
                                float32x4_t vmin, float32x4_t vmax, int flags)
{
    if (n == 12) {
        vst1q_f32(c, kn_epilogue4(v0, c, bias, vmin, vmax, flags));
        vst1q_f32(c + 4, kn_epilogue4(v1, c + 4, bias ? bias + 4 : NULL, vmin, vmax, flags));
        vst1q_f32(c + 8, kn_epilogue4(v2, c + 8, bias ? bias + 8 : NULL, vmin, vmax, flags));
        return;
    }
    float32x4_t rest = v0;
    size_t j = 0;
    if (n >= 4) {
        vst1q_f32(c, kn_epilogue4(v0, c, bias, vmin, vmax, flags));
        j = 4;
        rest = v1;
        if (n >= 8) {
            vst1q_f32(c + 4, kn_epilogue4(v1, c + 4, bias ? bias + 4 : NULL, vmin, vmax, flags));
            j = 8;
            rest = v2;
        }
    }
    if (j < n) {
        float tmp[4];
        vst1q_f32(tmp, rest);
        for (size_t t = 0; j < n; ++j, ++t)
            c[j] = kn_epilogue1(tmp[t], c + j, bias ? bias + j : NULL, min, max, flags);
    }
}

void kn_sgemm_ukernel_8x12_neon(size_t kc, const float* a, const float* b, float* c,
                                size_t ldc, size_t m, size_t n, const float* bias,
                                float min, float max, int flags)
{
    float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00;
    float32x4_t c10 = c00, c11 = c00, c12 = c00;
    float32x4_t c20 = c00, c21 = c00, c22 = c00;
    float32x4_t c30 = c00, c31 = c00, c32 = c00;
    float32x4_t c40 = c00, c41 = c00, c42 = c00;
    float32x4_t c50 = c00, c51 = c00, c52 = c00;
    float32x4_t c60 = c00, c61 = c00, c62 = c00;
    float32x4_t c70 = c00, c71 = c00, c72 = c00;

    size_t k = kc;
    for (; k >= 2; k -= 2) {
        KN_STEP(a, b);
        KN_STEP(a + 8, b + 12);
        a += 16;
        b += 24;
    }
    if (k) KN_STEP(a, b);

    const float32x4_t vmin = vdupq_n_f32(min);
    const float32x4_t vmax = vdupq_n_f32(max);
    kn_store_row(c, c00, c01, c02, n, bias, min, max, vmin, vmax, flags);
    if (m > 1) kn_store_row(c + 1 * ldc, c10, c11, c12, n, bias, min, max, vmin, vmax, flags);
    if (m > 2) kn_store_row(c + 2 * ldc, c20, c21, c22, n, bias, min, max, vmin, vmax, flags);
    if (m > 3) kn_store_row(c + 3 * ldc, c30, c31, c32, n, bias, min, max, vmin, vmax, flags);
    if (m > 4) kn_store_row(c + 4 * ldc, c40, c41, c42, n, bias, min, max, vmin, vmax, flags);
    if (m > 5) kn_store_row(c + 5 * ldc, c50, c51, c52, n, bias, min, max, vmin, vmax, flags);
    if (m > 6) kn_store_row(c + 6 * ldc, c60, c61, c62, n, bias, min, max, vmin, vmax, flags);
    if (m > 7) kn_store_row(c + 7 * ldc, c70, c71, c72, n, bias, min, max, vmin, vmax, flags);
}
