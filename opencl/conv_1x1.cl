// 1x1 convolution (pointwise), NHWC activations, float32 or half storage, groups 1, no padding, any stride: a GEMM of
// the pixels (rows) by the packed weights, with bias and activation fused into the store.
//
// Register blocking (Mali style, no local memory): a work-item computes 4 output channels (one float4) for
// 4 consecutive output pixels counted over the whole batch, so a 7x7 map does not leave lanes idle at
// each row's end as the row-based direct kernel does. Weights are packed on the host as
// [block][ic][4 output channels], zero-padded past the last channel; the input channel run is read with vload4.
//
// NDRange: x = output channel block, y = pixel quad (over batch·OH·OW); rounded up to the local size, so
// items past the end return.
//
// Precision (precision.h): float or half storage of activations, weights and bias; half arithmetic where the
// device has cl_khr_fp16 and the host asks for it.

#include "precision.h"


// The input offset of output pixel p (a flat index over batch·OH·OW) with strides SY, SX.
inline size_t input_offset(int p, int H, int W, int C, int OH, int OW, int SY, int SX)
{
    const int n = p / (OH * OW);
    const int r = p - n * OH * OW;
    const int oy = r / OW;
    const int ox = r - oy * OW;
    return (((size_t)n * H + (size_t)oy * SY) * W + (size_t)ox * SX) * C;
}

__kernel void conv2d_1x1_nhwc_4x4(
    __global const DATA_T* input,
    __global const DATA_T* weights,
    __global const DATA_T* bias,
    __global DATA_T* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset, int SY, int SX,
    int OC, int blocks, int pixels,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    const int p0 = (int)get_global_id(1) * 4;
    if (ob >= blocks || p0 >= pixels)
    {
        return;
    }

    // Pixels past the last one repeat pixel p0: computed, never stored.
    const __global DATA_T* x0 = input + input_offset(p0, H, W, C, OH, OW, SY, SX);
    const __global DATA_T* x1 = input + input_offset(min(p0 + 1, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global DATA_T* x2 = input + input_offset(min(p0 + 2, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global DATA_T* x3 = input + input_offset(min(p0 + 3, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global DATA_T* wp = weights + (size_t)ob * C * 4;

    ACC4_T acc0 = LOAD4(ob, bias);
    ACC4_T acc1 = acc0;
    ACC4_T acc2 = acc0;
    ACC4_T acc3 = acc0;

    int c = 0;
    for (; c + 4 <= C; c += 4)
    {
        const ACC4_T w0 = LOAD4(0, wp);
        const ACC4_T w1 = LOAD4(1, wp);
        const ACC4_T w2 = LOAD4(2, wp);
        const ACC4_T w3 = LOAD4(3, wp);
        wp += 16;
        const ACC4_T a0 = LOAD4(0, x0 + c);
        const ACC4_T a1 = LOAD4(0, x1 + c);
        const ACC4_T a2 = LOAD4(0, x2 + c);
        const ACC4_T a3 = LOAD4(0, x3 + c);
        acc0 = fma((ACC4_T)a0.s0, w0, acc0);
        acc0 = fma((ACC4_T)a0.s1, w1, acc0);
        acc0 = fma((ACC4_T)a0.s2, w2, acc0);
        acc0 = fma((ACC4_T)a0.s3, w3, acc0);
        acc1 = fma((ACC4_T)a1.s0, w0, acc1);
        acc1 = fma((ACC4_T)a1.s1, w1, acc1);
        acc1 = fma((ACC4_T)a1.s2, w2, acc1);
        acc1 = fma((ACC4_T)a1.s3, w3, acc1);
        acc2 = fma((ACC4_T)a2.s0, w0, acc2);
        acc2 = fma((ACC4_T)a2.s1, w1, acc2);
        acc2 = fma((ACC4_T)a2.s2, w2, acc2);
        acc2 = fma((ACC4_T)a2.s3, w3, acc2);
        acc3 = fma((ACC4_T)a3.s0, w0, acc3);
        acc3 = fma((ACC4_T)a3.s1, w1, acc3);
        acc3 = fma((ACC4_T)a3.s2, w2, acc3);
        acc3 = fma((ACC4_T)a3.s3, w3, acc3);
    }

    for (; c < C; c++)
    {
        const ACC4_T w = LOAD4(0, wp);
        wp += 4;
        acc0 = fma((ACC4_T)LOAD1(c, x0), w, acc0);
        acc1 = fma((ACC4_T)LOAD1(c, x1), w, acc1);
        acc2 = fma((ACC4_T)LOAD1(c, x2), w, acc2);
        acc3 = fma((ACC4_T)LOAD1(c, x3), w, acc3);
    }

    const int count = min(4, OC - ob * 4);
    __global DATA_T* out = output + out_offset + (size_t)p0 * out_stride + ob * 4;
    store_acc4(out, activate4(acc0, act, slope), count);
    if (p0 + 1 < pixels) store_acc4(out + out_stride, activate4(acc1, act, slope), count);
    if (p0 + 2 < pixels) store_acc4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (p0 + 3 < pixels) store_acc4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
