// Winograd F(2x2, 3x3) convolution (Lavin and Gray 2016), NHWC activations, float32 or half storage, stride 1, dilation 1,
// groups 1, any padding: three kernels. The filter transform U = G·g·Gᵀ runs once on the host, in float64.
//
//   input transform   V[p][tile][ic] = (Bᵀ·d·B)[p] for the 4x4 input patch d of each 2x2 output tile
//   batched multiply  M[p][tile][oc] = Σ_ic V[p][tile][ic]·U[p][ic][oc], 16 independent GEMMs (p = 0..15)
//   output transform  y = Aᵀ·M·A + bias, activation, stored with the output pixel stride
//
// 16 products per tile instead of 36 (2.25x fewer multiplies). Channels are vectorized 4 at a time (float4),
// which NHWC makes contiguous; the scratch channel runs are rounded up to 4 (ICp, OCp) and their padding lanes
// hold zeros, so the multiply needs no tail. No local memory. Items past the end return.
//
// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], Aᵀ = [1 1 1 0; 0 1 -1 -1].
//
// Precision (precision.h): the input, the output, the transformed filters U and the bias are float or half storage;
// the transforms, the products and the scratch V and M stay float (the transforms add and subtract up to 16 values,
// which half would round at every step).

#include "precision.h"


// count lanes from p (1..4), zeros in the others.


// NDRange: x = input channel block, y = tile (over batch·TH·TW).
__kernel void winograd_f2x3_input_transform_c4(
    __global const DATA_T* input,
    __global float* V,
    int H, int W, int C, int TH, int TW, int PT, int PL, int blocks, int tiles)
{
    const int cb = (int)get_global_id(0);
    const int t = (int)get_global_id(1);
    if (cb >= blocks || t >= tiles)
    {
        return;
    }

    const int n = t / (TH * TW);
    const int r = t - n * TH * TW;
    const int ty = r / TW;
    const int tx = r - ty * TW;
    const int y0 = 2 * ty - PT;
    const int x0 = 2 * tx - PL;
    const int c0 = cb * 4;
    const int count = min(4, C - c0);
    const __global DATA_T* in_n = input + (size_t)n * H * W * C + c0;

    // The patch, zeros outside the input (the padding, and past it where the last tile overhangs).
    float4 d[16];
    for (int i = 0; i < 4; i++)
    {
        const int iy = y0 + i;
        for (int j = 0; j < 4; j++)
        {
            const int ix = x0 + j;
            d[i * 4 + j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? load_f4(in_n + ((size_t)iy * W + ix) * C, count, 0.0f) : (float4)(0.0f);
        }
    }

    // Bᵀ·d (rows), then ·B (columns).
    float4 s[16];
    for (int j = 0; j < 4; j++)
    {
        s[0 * 4 + j] = d[0 * 4 + j] - d[2 * 4 + j];
        s[1 * 4 + j] = d[1 * 4 + j] + d[2 * 4 + j];
        s[2 * 4 + j] = d[2 * 4 + j] - d[1 * 4 + j];
        s[3 * 4 + j] = d[1 * 4 + j] - d[3 * 4 + j];
    }

    const size_t plane = (size_t)tiles * blocks * 4;
    __global float* v = V + ((size_t)t * blocks + cb) * 4;
    for (int i = 0; i < 4; i++)
    {
        vstore4(s[i * 4 + 0] - s[i * 4 + 2], 0, v + (i * 4 + 0) * plane);
        vstore4(s[i * 4 + 1] + s[i * 4 + 2], 0, v + (i * 4 + 1) * plane);
        vstore4(s[i * 4 + 2] - s[i * 4 + 1], 0, v + (i * 4 + 2) * plane);
        vstore4(s[i * 4 + 1] - s[i * 4 + 3], 0, v + (i * 4 + 3) * plane);
    }
}

// M[p] = V[p]·U[p]: a work-item computes 4 output channels (one float4) for 4 tiles, as conv2d_1x1_nhwc_4x4.
// U is packed on the host as [p][output block][ICp][4]. NDRange: x = output block, y = tile quad, z = p (16).
// Tiles past the last one repeat tile t0: computed, never stored.
__kernel void winograd_f2x3_multiply_4x4(
    __global const float* V,
    __global const DATA_T* U,
    __global float* M,
    int in_blocks, int out_blocks, int tiles)
{
    const int ob = (int)get_global_id(0);
    const int t0 = (int)get_global_id(1) * 4;
    const int p = (int)get_global_id(2);
    if (ob >= out_blocks || t0 >= tiles || p >= 16)
    {
        return;
    }

    const int ICp = in_blocks * 4;
    const __global float* vp = V + (size_t)p * tiles * ICp;
    const __global float* x0 = vp + (size_t)t0 * ICp;
    const __global float* x1 = vp + (size_t)min(t0 + 1, tiles - 1) * ICp;
    const __global float* x2 = vp + (size_t)min(t0 + 2, tiles - 1) * ICp;
    const __global float* x3 = vp + (size_t)min(t0 + 3, tiles - 1) * ICp;
    const __global DATA_T* wp = U + ((size_t)p * out_blocks + ob) * ICp * 4;
    float4 acc0 = (float4)(0.0f);
    float4 acc1 = (float4)(0.0f);
    float4 acc2 = (float4)(0.0f);
    float4 acc3 = (float4)(0.0f);
    for (int c = 0; c < ICp; c += 4)
    {
        const float4 w0 = LOADF4(0, wp);
        const float4 w1 = LOADF4(1, wp);
        const float4 w2 = LOADF4(2, wp);
        const float4 w3 = LOADF4(3, wp);
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

    const int OCp = out_blocks * 4;
    __global float* m = M + ((size_t)p * tiles + t0) * OCp + ob * 4;
    vstore4(acc0, 0, m);
    if (t0 + 1 < tiles) vstore4(acc1, 0, m + OCp);
    if (t0 + 2 < tiles) vstore4(acc2, 0, m + 2 * OCp);
    if (t0 + 3 < tiles) vstore4(acc3, 0, m + 3 * OCp);
}

// y = Aᵀ·M·A + bias, activation; the tile's outputs past the map's edge are dropped.
// NDRange: x = output block, y = tile (over batch·TH·TW).
__kernel void winograd_f2x3_output_transform_c4(
    __global const float* M,
    __global const DATA_T* bias,
    __global DATA_T* output,
    int OH, int OW, int OC, int out_stride, int out_offset, int TH, int TW, int blocks, int tiles,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    const int t = (int)get_global_id(1);
    if (ob >= blocks || t >= tiles)
    {
        return;
    }

    const size_t plane = (size_t)tiles * blocks * 4;
    const __global float* mp = M + ((size_t)t * blocks + ob) * 4;
    float4 m[16];
    for (int p = 0; p < 16; p++)
    {
        m[p] = vload4(0, mp + p * plane);
    }

    // Aᵀ·m (rows), then ·A (columns).
    float4 s[8];
    for (int j = 0; j < 4; j++)
    {
        s[0 * 4 + j] = m[0 * 4 + j] + m[1 * 4 + j] + m[2 * 4 + j];
        s[1 * 4 + j] = m[1 * 4 + j] - m[2 * 4 + j] - m[3 * 4 + j];
    }

    const float4 b = LOADF4(ob, bias);
    const int n = t / (TH * TW);
    const int r = t - n * TH * TW;
    const int ty = r / TW;
    const int tx = r - ty * TW;
    const int count = min(4, OC - ob * 4);
    for (int i = 0; i < 2; i++)
    {
        const int oy = 2 * ty + i;
        if (oy >= OH)
        {
            break;
        }

        __global DATA_T* out = output + out_offset + (((size_t)n * OH + oy) * OW + 2 * tx) * out_stride + ob * 4;
        store_f4(out, activate_f4(s[i * 4 + 0] + s[i * 4 + 1] + s[i * 4 + 2] + b, act, slope), count);
        if (2 * tx + 1 < OW)
        {
            store_f4(out + out_stride, activate_f4(s[i * 4 + 1] - s[i * 4 + 2] - s[i * 4 + 3] + b, act, slope), count);
        }
    }
}
