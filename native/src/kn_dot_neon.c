/* int8 dot product, ARMv8.0 NEON: smull (8x8->16) + sadalp (pairwise add-accumulate into 32).
 * Two products of -128*-128 would overflow int16, so each int16 lane holds a single product. */
#include "kernels_native.h"
#include "kn_neon.h"

int32_t kn_dot_s8_neon(const int8_t* a, const int8_t* b, size_t n)
{
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const int8x16_t va0 = vld1q_s8(a + i), vb0 = vld1q_s8(b + i);
        const int8x16_t va1 = vld1q_s8(a + i + 16), vb1 = vld1q_s8(b + i + 16);
        acc0 = vpadalq_s16(acc0, vmull_s8(vget_low_s8(va0), vget_low_s8(vb0)));
        acc1 = vpadalq_s16(acc1, vmull_high_s8(va0, vb0));
        acc2 = vpadalq_s16(acc2, vmull_s8(vget_low_s8(va1), vget_low_s8(vb1)));
        acc3 = vpadalq_s16(acc3, vmull_high_s8(va1, vb1));
    }
    for (; i + 8 <= n; i += 8)
        acc0 = vpadalq_s16(acc0, vmull_s8(vld1_s8(a + i), vld1_s8(b + i)));
    int32_t sum = vaddvq_s32(vaddq_s32(vaddq_s32(acc0, acc1), vaddq_s32(acc2, acc3)));
    for (; i < n; ++i) sum += (int32_t)a[i] * (int32_t)b[i];
    return sum;
}
