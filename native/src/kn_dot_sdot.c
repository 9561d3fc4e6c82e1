/* int8 dot product with the ARMv8.2 dot-product extension (sdot).
 * On aarch64 this translation unit alone is compiled with -march=armv8.2-a+dotprod (see
 * CMakeLists.txt); it must only be reached when HWCAP_ASIMDDP is set. On x86 the intrinsic is
 * emulated by SIMDe. */
#include "kernels_native.h"
#include "kn_neon.h"

#if KN_NEON_NATIVE && !defined(__ARM_FEATURE_DOTPROD)
#  error "kn_dot_sdot.c must be compiled with the dotprod extension enabled"
#endif

int32_t kn_dot_s8_sdot(const int8_t* a, const int8_t* b, size_t n)
{
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = acc0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = vdotq_s32(acc0, vld1q_s8(a + i), vld1q_s8(b + i));
        acc1 = vdotq_s32(acc1, vld1q_s8(a + i + 16), vld1q_s8(b + i + 16));
    }
    if (i + 16 <= n) {
        acc0 = vdotq_s32(acc0, vld1q_s8(a + i), vld1q_s8(b + i));
        i += 16;
    }
    int32_t sum = vaddvq_s32(vaddq_s32(acc0, acc1));
    for (; i < n; ++i) sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}
