// 1x1 convolution (pointwise), NHWC activations, float32, groups 1, no padding, any stride: a GEMM of
// the pixels (rows) by the packed weights, with bias and activation fused into the store.
//
// Register blocking (Mali style, no local memory): a work-item computes 4 output channels (one float4) for
// 4 consecutive output pixels counted over the whole batch, so a 7x7 map does not leave lanes idle at
// each row's end as the row-based direct kernel does. Weights are packed on the host as
// [block][ic][4 output channels], zero-padded past the last channel; the input channel run is read with vload4.
//
// NDRange: x = output channel block, y = pixel quad (over batch·OH·OW); rounded up to the local size, so
// items past the end return.

inline float4 activate4(float4 v, int act, float slope)
{
    switch (act)
    {
        case 1: return fmax(v, (float4)0.0f);
        case 2: return clamp(v, (float4)0.0f, (float4)6.0f);
        case 3: return select(v, v * slope, v < (float4)0.0f);
        default: return v;
    }
}

inline void store4(__global float* out, float4 v, int count)
{
    if (count >= 4)
    {
        vstore4(v, 0, out);
    }
    else
    {
        out[0] = v.s0;
        if (count > 1) out[1] = v.s1;
        if (count > 2) out[2] = v.s2;
    }
}

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
    __global const float* input,
    __global const float* weights,
    __global const float* bias,
    __global float* output,
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
    const __global float* x0 = input + input_offset(p0, H, W, C, OH, OW, SY, SX);
    const __global float* x1 = input + input_offset(min(p0 + 1, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global float* x2 = input + input_offset(min(p0 + 2, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global float* x3 = input + input_offset(min(p0 + 3, pixels - 1), H, W, C, OH, OW, SY, SX);
    const __global float* wp = weights + (size_t)ob * C * 4;

    float4 acc0 = vload4(ob, bias);
    float4 acc1 = acc0;
    float4 acc2 = acc0;
    float4 acc3 = acc0;

    int c = 0;
    for (; c + 4 <= C; c += 4)
    {
        const float4 w0 = vload4(0, wp);
        const float4 w1 = vload4(1, wp);
        const float4 w2 = vload4(2, wp);
        const float4 w3 = vload4(3, wp);
        wp += 16;
        const float4 a0 = vload4(0, x0 + c);
        const float4 a1 = vload4(0, x1 + c);
        const float4 a2 = vload4(0, x2 + c);
        const float4 a3 = vload4(0, x3 + c);
        acc0 = fma((float4)a0.s0, w0, acc0);
        acc0 = fma((float4)a0.s1, w1, acc0);
        acc0 = fma((float4)a0.s2, w2, acc0);
        acc0 = fma((float4)a0.s3, w3, acc0);
        acc1 = fma((float4)a1.s0, w0, acc1);
        acc1 = fma((float4)a1.s1, w1, acc1);
        acc1 = fma((float4)a1.s2, w2, acc1);
        acc1 = fma((float4)a1.s3, w3, acc1);
        acc2 = fma((float4)a2.s0, w0, acc2);
        acc2 = fma((float4)a2.s1, w1, acc2);
        acc2 = fma((float4)a2.s2, w2, acc2);
        acc2 = fma((float4)a2.s3, w3, acc2);
        acc3 = fma((float4)a3.s0, w0, acc3);
        acc3 = fma((float4)a3.s1, w1, acc3);
        acc3 = fma((float4)a3.s2, w2, acc3);
        acc3 = fma((float4)a3.s3, w3, acc3);
    }

    for (; c < C; c++)
    {
        const float4 w = vload4(0, wp);
        wp += 4;
        acc0 = fma((float4)x0[c], w, acc0);
        acc1 = fma((float4)x1[c], w, acc1);
        acc2 = fma((float4)x2[c], w, acc2);
        acc3 = fma((float4)x3[c], w, acc3);
    }

    const int count = min(4, OC - ob * 4);
    __global float* out = output + out_offset + (size_t)p0 * out_stride + ob * 4;
    store4(out, activate4(acc0, act, slope), count);
    if (p0 + 1 < pixels) store4(out + out_stride, activate4(acc1, act, slope), count);
    if (p0 + 2 < pixels) store4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (p0 + 3 < pixels) store4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
