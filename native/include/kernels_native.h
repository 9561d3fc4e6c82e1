/*
 * kernels_native.h - C ABI of the Kernels native helper library (libkernels_native).
 *
 * All functions are plain C, thread-safe (no global mutable state except the lazily resolved
 * dot-product dispatch, which is resolved idempotently), never allocate and never fail: the
 * caller guarantees the documented preconditions (the managed wrappers check them).
 *
 * Feature availability:
 *   - im2col, packing, kn_dot_s8 and the query functions are always exported.
 *   - kn_sgemm_ukernel_8x12_neon, kn_dot_s8_neon and kn_dot_s8_sdot are exported only when the
 *     NEON source was compiled: always on aarch64, on x86 only when SIMDe was found at configure
 *     time (the NEON intrinsics are then emulated). kn_has_neon_kernels() tells which; the macro
 *     KN_HAVE_NEON_KERNELS is NOT defined by this header (it describes the library binary, not the
 *     includer), so callers must query at run time.
 */
#ifndef KERNELS_NATIVE_H
#define KERNELS_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(KN_BUILDING_LIBRARY)
#    define KN_API __declspec(dllexport)
#  else
#    define KN_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) || defined(__clang__)
#  define KN_API __attribute__((visibility("default")))
#else
#  define KN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version: incremented whenever a signature or a semantic in this header changes. */
#define KN_VERSION 2

/* Flags of kn_sgemm_ukernel_8x12_neon. */
#define KN_GEMM_ACCUMULATE 1 /* acc += c[i*ldc+j] (the old value of C) */
#define KN_GEMM_CLAMP 2      /* acc = fminf(fmaxf(acc, min), max) */
#define KN_GEMM_LEAKY_RELU 4 /* acc = fmaf(fminf(acc, 0), min, fmaxf(acc, 0)): leaky ReLU, slope in min */

/* Returns KN_VERSION of the library binary. */
KN_API int kn_version(void);

/* 1 when the NEON source was compiled into this binary (aarch64 always; x86 through SIMDe). */
KN_API int kn_has_neon_kernels(void);

/*
 * im2col for one NHWC image.
 *   input pixel (y, x) starts at input + (y*in_w + x)*in_pixel_stride; its channels are
 *   contiguous; in_pixel_stride >= channels allows selecting a channel slice (groups).
 *   output row r = oy*out_w + ox (r < out_h*out_w), column (ky*kernel_w + kx)*channels + c;
 *   rows are ld_output floats apart (ld_output >= kernel_h*kernel_w*channels).
 *   Input coordinates: iy = oy*stride_h + ky*dilation_h - pad_top,
 *                      ix = ox*stride_w + kx*dilation_w - pad_left; outside the image -> 0.
 * Columns of a row past kernel_h*kernel_w*channels are not touched.
 */
KN_API void kn_im2col_nhwc_f32(const float* input, size_t in_h, size_t in_w, size_t channels,
                               size_t in_pixel_stride, size_t kernel_h, size_t kernel_w,
                               size_t stride_h, size_t stride_w, size_t pad_top, size_t pad_left,
                               size_t dilation_h, size_t dilation_w, size_t out_h, size_t out_w,
                               float* output, size_t ld_output);

/*
 * Packs A (m x k, row-major, lda >= k) into ceil(m/mr) panels of k*mr floats each, back to back:
 * panel q, step p holds a[q*mr + i][p] for i < mr (0 for rows >= m). mr >= 1.
 * packed must hold ceil(m/mr)*mr*k floats.
 */
KN_API void kn_pack_a_f32(size_t mr, size_t m, size_t k, const float* a, size_t lda, float* packed);

/*
 * Packs B (k x n, row-major, ldb >= n) into ceil(n/nr) panels of k*nr floats each:
 * panel q, step p holds b[p][q*nr + j] for j < nr (0 for columns >= n). nr >= 1.
 * packed must hold ceil(n/nr)*nr*k floats.
 */
KN_API void kn_pack_b_f32(size_t nr, size_t k, size_t n, const float* b, size_t ldb, float* packed);

/*
 * 8x12 single-precision GEMM micro-kernel (NEON; fmla by element, 24 q accumulators).
 *   a: one packed A panel (kc x 8, from kn_pack_a_f32 with mr = 8)
 *   b: one packed B panel (kc x 12, from kn_pack_b_f32 with nr = 12)
 *   kc >= 1, 1 <= m <= 8, 1 <= n <= 12, ldc >= n.
 * For i < m, j < n:
 *   acc = sum_{p ascending} a[p*8+i]*b[p*12+j]   (fused multiply-add)
 *   if (flags & KN_GEMM_ACCUMULATE) acc += c[i*ldc+j];
 *   if (bias)                       acc += bias[j];        (bias has >= n floats)
 *   if (flags & KN_GEMM_CLAMP)      acc = fminf(fmaxf(acc, min), max);
 *   if (flags & KN_GEMM_LEAKY_RELU) acc = fmaf(fminf(acc, 0), min, fmaxf(acc, 0));
 *   c[i*ldc+j] = acc;
 * Only the m x n corner of C is read or written.
 * Exported only when kn_has_neon_kernels() == 1.
 */
KN_API void kn_sgemm_ukernel_8x12_neon(size_t kc, const float* a, const float* b, float* c,
                                       size_t ldc, size_t m, size_t n, const float* bias,
                                       float min, float max, int flags);

/*
 * int8 dot product: sum a[i]*b[i] for i < n, accumulated in int32 (exact for n < 131072).
 * Dispatched at the first call:
 *   aarch64 Linux: "sdot" when getauxval(AT_HWCAP) has HWCAP_ASIMDDP, else "neon" (ARMv8.0
 *                  smull/sadalp); other aarch64 OSes: "sdot" if the compiler targets dotprod.
 *   x86 with SIMDe: "neon" (no HWCAP on x86; the emulated sdot path stays callable directly).
 *   no NEON source: "scalar".
 */
KN_API int32_t kn_dot_s8(const int8_t* a, const int8_t* b, size_t n);

/* The path kn_dot_s8 uses: "sdot", "neon" or "scalar" (static string). */
KN_API const char* kn_dot_s8_path(void);

/* Explicit paths (exported for tests; only when kn_has_neon_kernels() == 1).
 * kn_dot_s8_sdot needs the ARMv8.2 dot-product extension on real hardware (SIGILL otherwise). */
KN_API int32_t kn_dot_s8_neon(const int8_t* a, const int8_t* b, size_t n);
KN_API int32_t kn_dot_s8_sdot(const int8_t* a, const int8_t* b, size_t n);

/* ---- int8 GEMM, x86 AVX-512 VNNI (native/src/kn_qgemm_avx512vnni.c) ------------------------------
 * Exported by x86-64 builds only (look the symbols up; kn_has_avx512vnni_kernels() returns 1 there).
 * The kernels execute vpdpbusd zmm: call them only on a CPU with AVX512_VNNI. */

/* Requantization parameters of one micro-kernel tile (same layout as the managed RequantizeTile):
 * per-column arrays offset to the tile's first column, readable for 32 columns; low/high are the
 * output clamp minus zero_point. */
typedef struct kn_requant_tile {
    const int32_t* bias;
    const int32_t* multiplier;
    const int32_t* shift;
    int32_t low;
    int32_t high;
    int32_t zero_point;
} kn_requant_tile;

KN_API int kn_has_avx512vnni_kernels(void);

/* 12x32 uint8 x int8 -> requantized uint8 tile; see the contract at the top of kn_qgemm_avx512vnni.c.
 * groups >= 0 (K/4 rounded up), 1 <= m <= 12, 1 <= n <= 32, ldc >= n. */
KN_API void kn_qgemm_ukernel_12x32_avx512vnni(size_t groups, const uint8_t* a, const int8_t* b, uint8_t* c,
                                              size_t ldc, size_t m, size_t n, const kn_requant_tile* q);

/* Indirect (im2col-free) 12x32 tile: a holds taps x 12 row pointers (tap-major), row i of tap t reads the
 * 4 * groups_per_tap bytes at a[t*12 + i]; b holds taps * groups_per_tap groups packed as for the kernel above.
 * Same accumulation, requantization and store; 1 <= m <= 12 (rows past m must still point at readable bytes),
 * 1 <= n <= 32, ldc >= n. */
KN_API void kn_qigemm_ukernel_12x32_avx512vnni(size_t taps, size_t groups_per_tap, const uint8_t* const* a,
                                               const int8_t* b, uint8_t* c, size_t ldc, size_t m, size_t n,
                                               const kn_requant_tile* q);

/* Runs 12 independent vpdpbusd zmm chains for `iterations` rounds (1536 integer ops per round); returns
 * a value derived from the accumulators. For the VNNI peak measurement. */
KN_API int32_t kn_vnni_peak_chains(uint64_t iterations);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KERNELS_NATIVE_H */
