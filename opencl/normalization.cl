// Normalizations over the channels of each NHWC pixel, float32 or half storage: local response normalization across
// channels (AlexNet, GoogLeNet) and softmax (every classifier here). No local memory.
//
// The output may be a channel slice of a wider tensor: pixel p's channels start at out_offset + p·out_stride.
// Storage is float or half (precision.h); the arithmetic is float either way (exp, pow and sums).

#include "precision.h"

// Lanes c .. c+3 of a pixel's C channels at p, zeros for the lanes outside [0, C).
inline float4 load4_masked(const __global DATA_T* p, int c, int C)
{
    if (c >= 0 && c + 4 <= C)
    {
        return LOADF4(0, p + c);
    }

    return (float4)(
        c >= 0 && c < C ? LOADF1(c, p) : 0.0f,
        c + 1 >= 0 && c + 1 < C ? LOADF1(c + 1, p) : 0.0f,
        c + 2 >= 0 && c + 2 < C ? LOADF1(c + 2, p) : 0.0f,
        c + 3 >= 0 && c + 3 < C ? LOADF1(c + 3, p) : 0.0f);
}


// b[c] = a[c] · (bias + scale·Σ a[i]²)^-beta, i over c - before .. c + after that exist (scale = alpha / size).
// A work-item takes 4 channels of one pixel: the window of each lane is the float4 window shifted by
// d = -before .. after, so the sum is size masked vector loads, with no running sum to cancel.
// It reads channels other work-items write, so it never runs in place.
// NDRange: x = channel block, y = pixel (over batch·H·W).
__kernel void lrn_across_channels_c4(
    __global const DATA_T* input,
    __global DATA_T* output,
    int C, int pixels, int out_stride, int out_offset, int blocks,
    int before, int after, float scale, float beta, float bias)
{
    const int cb = (int)get_global_id(0);
    const int p = (int)get_global_id(1);
    if (cb >= blocks || p >= pixels)
    {
        return;
    }

    const int c0 = cb * 4;
    const __global DATA_T* x = input + (size_t)p * C;
    float4 sum = (float4)(0.0f);
    for (int d = -before; d <= after; d++)
    {
        const float4 v = load4_masked(x, c0 + d, C);
        sum = fma(v, v, sum);
    }

    const float4 a = load4_masked(x, c0, C);
    const float4 b = a * pow(fma((float4)scale, sum, (float4)bias), (float4)(-beta));
    store_f4(output + out_offset + (size_t)p * out_stride + c0, b, min(4, C - c0));
}

// y[c] = exp(x[c] - max) / Σ exp(x[i] - max): subtracting the pixel's maximum keeps exp from overflowing.
// A work-item owns a whole pixel (three passes over its channels: max, exp and sum, scale), so the output
// may be the input. NDRange: x = pixel (over batch·H·W).
__kernel void softmax_channels_c4(
    __global const DATA_T* input,
    __global DATA_T* output,
    int C, int pixels, int out_stride, int out_offset)
{
    const int p = (int)get_global_id(0);
    if (p >= pixels)
    {
        return;
    }

    const __global DATA_T* x = input + (size_t)p * C;
    __global DATA_T* y = output + out_offset + (size_t)p * out_stride;
    float4 m4 = (float4)(-INFINITY);
    int c = 0;
    for (; c + 4 <= C; c += 4)
    {
        m4 = fmax(m4, LOADF4(0, x + c));
    }

    float m = fmax(fmax(m4.s0, m4.s1), fmax(m4.s2, m4.s3));
    for (; c < C; c++)
    {
        m = fmax(m, LOADF1(c, x));
    }

    // The exponentials are stored as they are summed, then scaled in place: x is read once more, not twice.
    float4 s4 = (float4)(0.0f);
    float s = 0.0f;
    for (c = 0; c + 4 <= C; c += 4)
    {
        const float4 e = exp(LOADF4(0, x + c) - m);
        s4 += e;
        STOREF4(e, 0, y + c);
    }

    for (; c < C; c++)
    {
        const float e = exp(LOADF1(c, x) - m);
        s += e;
        STOREF1(e, c, y);
    }

    const float inv = 1.0f / (s + (s4.s0 + s4.s1) + (s4.s2 + s4.s3));
    for (c = 0; c + 4 <= C; c += 4)
    {
        STOREF4(LOADF4(0, y + c) * inv, 0, y + c);
    }

    for (; c < C; c++)
    {
        STOREF1(LOADF1(c, y) * inv, c, y);
    }
}
