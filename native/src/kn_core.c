/* Plain-C parts of libkernels_native: queries, im2col, packing, dot-product dispatch. */
#include "kernels_native.h"

#include <string.h>

#if defined(KN_HAVE_NEON_KERNELS) && defined(__aarch64__) && defined(__linux__)
#  include <sys/auxv.h>
#  ifndef HWCAP_ASIMDDP
#    define HWCAP_ASIMDDP (1UL << 20)
#  endif
#endif

int kn_version(void) { return KN_VERSION; }

int kn_has_neon_kernels(void)
{
#if defined(KN_HAVE_NEON_KERNELS)
    return 1;
#else
    return 0;
#endif
}

/* ------------------------------------------------------------------------------------------ */
/* im2col                                                                                     */

void kn_im2col_nhwc_f32(const float* input, size_t in_h, size_t in_w, size_t channels,
                        size_t in_pixel_stride, size_t kernel_h, size_t kernel_w,
                        size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left,
                        size_t dilation_h, size_t dilation_w, size_t out_h, size_t out_w,
                        float* output, size_t ld_output)
{
    const size_t tap_bytes = channels * sizeof(float);
    const size_t row_span = kernel_w * channels; /* floats of one kernel row in the output */
    /* A run of horizontally adjacent taps is contiguous in the input when the taps are adjacent
     * pixels (dilation 1) and pixels are packed (stride == channels). */
    const int contiguous_taps = dilation_w == 1 && in_pixel_stride == channels;

    for (size_t oy = 0; oy < out_h; ++oy) {
        for (size_t ox = 0; ox < out_w; ++ox) {
            float* out = output + (oy * out_w + ox) * ld_output;
            /* ix(kx) = ox*stride_w - pad_left + kx*dilation_w; find kx range in [0, in_w). */
            const ptrdiff_t ix0 = (ptrdiff_t)(ox * stride_w) - (ptrdiff_t)pad_left;
            size_t kx_begin = 0, kx_end = 0; /* taps kx in [kx_begin, kx_end) are inside */
            {
                /* first kx with ix >= 0 */
                if (ix0 < 0) {
                    const size_t need = (size_t)(-ix0);
                    kx_begin = (need + dilation_w - 1) / dilation_w;
                }
                /* first kx with ix >= in_w */
                if (ix0 >= (ptrdiff_t)in_w) {
                    kx_end = 0;
                } else {
                    const size_t room = (size_t)((ptrdiff_t)in_w - ix0); /* ix0 + kx*d < in_w */
                    kx_end = (room + dilation_w - 1) / dilation_w;
                }
                if (kx_end > kernel_w) kx_end = kernel_w;
                if (kx_begin > kx_end) kx_begin = kx_end;
            }

            for (size_t ky = 0; ky < kernel_h; ++ky) {
                float* orow = out + ky * row_span;
                const ptrdiff_t iy = (ptrdiff_t)(oy * stride_h + ky * dilation_h) - (ptrdiff_t)pad_top;
                if (iy < 0 || iy >= (ptrdiff_t)in_h || kx_begin == kx_end) {
                    memset(orow, 0, row_span * sizeof(float));
                    continue;
                }
                if (kx_begin > 0) memset(orow, 0, kx_begin * tap_bytes);
                const float* irow = input + (size_t)iy * in_w * in_pixel_stride;
                if (contiguous_taps) {
                    const size_t ix = (size_t)(ix0 + (ptrdiff_t)kx_begin);
                    memcpy(orow + kx_begin * channels, irow + ix * in_pixel_stride,
                           (kx_end - kx_begin) * tap_bytes);
                } else {
                    for (size_t kx = kx_begin; kx < kx_end; ++kx) {
                        const size_t ix = (size_t)(ix0 + (ptrdiff_t)(kx * dilation_w));
                        memcpy(orow + kx * channels, irow + ix * in_pixel_stride, tap_bytes);
                    }
                }
                if (kx_end < kernel_w) memset(orow + kx_end * channels, 0, (kernel_w - kx_end) * tap_bytes);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Packing                                                                                    */

void kn_pack_a_f32(size_t mr, size_t m, size_t k, const float* a, size_t lda, float* packed)
{
    for (size_t row0 = 0; row0 < m; row0 += mr) {
        const size_t rows = m - row0 < mr ? m - row0 : mr;
        const float* src = a + row0 * lda;
        if (rows == mr && mr == 8) {
            /* common case: full 8-row panel, unrolled transpose */
            for (size_t p = 0; p < k; ++p) {
                float* dst = packed + p * 8;
                dst[0] = src[0 * lda + p]; dst[1] = src[1 * lda + p];
                dst[2] = src[2 * lda + p]; dst[3] = src[3 * lda + p];
                dst[4] = src[4 * lda + p]; dst[5] = src[5 * lda + p];
                dst[6] = src[6 * lda + p]; dst[7] = src[7 * lda + p];
            }
        } else {
            for (size_t p = 0; p < k; ++p) {
                float* dst = packed + p * mr;
                size_t i = 0;
                for (; i < rows; ++i) dst[i] = src[i * lda + p];
                for (; i < mr; ++i) dst[i] = 0.0f;
            }
        }
        packed += k * mr;
    }
}

void kn_pack_b_f32(size_t nr, size_t k, size_t n, const float* b, size_t ldb, float* packed)
{
    for (size_t col0 = 0; col0 < n; col0 += nr) {
        const size_t cols = n - col0 < nr ? n - col0 : nr;
        for (size_t p = 0; p < k; ++p) {
            float* dst = packed + p * nr;
            memcpy(dst, b + p * ldb + col0, cols * sizeof(float));
            if (cols < nr) memset(dst + cols, 0, (nr - cols) * sizeof(float));
        }
        packed += k * nr;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* int8 dot product dispatch                                                                  */

typedef int32_t (*kn_dot_fn)(const int8_t*, const int8_t*, size_t);

#if !defined(KN_HAVE_NEON_KERNELS)
static int32_t kn_dot_s8_scalar(const int8_t* a, const int8_t* b, size_t n)
{
    int32_t acc = 0;
    for (size_t i = 0; i < n; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    return acc;
}
#endif

static int kn_detect_dot_path(void) /* 0 scalar, 1 neon, 2 sdot */
{
#if !defined(KN_HAVE_NEON_KERNELS)
    return 0;
#elif defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) ? 2 : 1;
#elif defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
    return 2;
#else
    return 1; /* aarch64 without a way to ask, or x86 through SIMDe */
#endif
}

/* -1 = not yet resolved. Resolution is idempotent, so a benign race only repeats it. */
static int kn_dot_path_cache = -1;

static int kn_dot_path(void)
{
    int p = __atomic_load_n(&kn_dot_path_cache, __ATOMIC_RELAXED);
    if (p < 0) {
        p = kn_detect_dot_path();
        __atomic_store_n(&kn_dot_path_cache, p, __ATOMIC_RELAXED);
    }
    return p;
}

int32_t kn_dot_s8(const int8_t* a, const int8_t* b, size_t n)
{
#if defined(KN_HAVE_NEON_KERNELS)
    return kn_dot_path() == 2 ? kn_dot_s8_sdot(a, b, n) : kn_dot_s8_neon(a, b, n);
#else
    (void)kn_dot_path;
    return kn_dot_s8_scalar(a, b, n);
#endif
}

const char* kn_dot_s8_path(void)
{
    switch (kn_dot_path()) {
    case 2: return "sdot";
    case 1: return "neon";
    default: return "scalar";
    }
}
