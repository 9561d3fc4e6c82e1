// Max, average and global average pooling, NHWC activations, float32 or half storage.
//
// NHWC keeps a pixel's channels contiguous, so a work-item takes 4 channels as one float4 (vload4) and
// reduces its window into one float4 register: pooling moves far more bytes than it computes, so the
// vector width, not a pixel block, is what matters. No local memory. A channel count that is not a
// multiple of 4 leaves a last block whose loads and stores are partial (never past the pixel).
//
// The output may be a channel slice of a wider tensor: pixel p's channels start at out_offset + p·out_stride.
// Storage is float or half (precision.h); the arithmetic is float either way (sums of many values).

#include "precision.h"

// count lanes from p (1..4), fill in the others.


// Window rows/columns of output index o: real input [*first, *last) and the padded extent [*pfirst, *plast)
// (ceil mode may run a window past the padding; those positions never count).
inline void window(int o, int S, int K, int P_before, int P_after, int size, int* first, int* last, int* pfirst, int* plast)
{
    const int start = o * S - P_before;
    *first = max(start, 0);
    *last = min(start + K, size);
    *pfirst = max(start, -P_before);
    *plast = min(start + K, size + P_after);
}

// NDRange: x = channel block, y = output column, z = image·OH + output row; rounded up, so items past the end return.
__kernel void max_pool2d_nhwc_c4(
    __global const DATA_T* input,
    __global DATA_T* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int PB, int PR,
    int blocks, int batch)
{
    const int cb = (int)get_global_id(0);
    const int ox = (int)get_global_id(1);
    const int row = (int)get_global_id(2);
    if (cb >= blocks || ox >= OW || row >= batch * OH)
    {
        return;
    }

    const int n = row / OH;
    const int oy = row - n * OH;
    const int c0 = cb * 4;
    const int count = min(4, C - c0);
    int y0, y1, py0, py1, x0, x1, px0, px1;
    window(oy, SY, KH, PT, PB, H, &y0, &y1, &py0, &py1);
    window(ox, SX, KW, PL, PR, W, &x0, &x1, &px0, &px1);

    // Padded positions never win, so only real input is read; the descriptor guarantees one per window.
    float4 m = (float4)(-INFINITY);
    const __global DATA_T* in_n = input + (size_t)n * H * W * C + c0;
    for (int iy = y0; iy < y1; iy++)
    {
        const __global DATA_T* p = in_n + ((size_t)iy * W + x0) * C;
        for (int ix = x0; ix < x1; ix++, p += C)
        {
            m = fmax(m, load_f4(p, count, -INFINITY));
        }
    }

    store_f4(output + out_offset + ((size_t)row * OW + ox) * out_stride + c0, m, count);
}

// As max_pool2d_nhwc_c4; the divisor counts the padded positions of the window when include_pad, else the real ones.
__kernel void avg_pool2d_nhwc_c4(
    __global const DATA_T* input,
    __global DATA_T* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int PB, int PR,
    int blocks, int batch, int include_pad)
{
    const int cb = (int)get_global_id(0);
    const int ox = (int)get_global_id(1);
    const int row = (int)get_global_id(2);
    if (cb >= blocks || ox >= OW || row >= batch * OH)
    {
        return;
    }

    const int n = row / OH;
    const int oy = row - n * OH;
    const int c0 = cb * 4;
    const int count = min(4, C - c0);
    int y0, y1, py0, py1, x0, x1, px0, px1;
    window(oy, SY, KH, PT, PB, H, &y0, &y1, &py0, &py1);
    window(ox, SX, KW, PL, PR, W, &x0, &x1, &px0, &px1);

    // Two accumulators over alternate columns: independent adds for the pipeline.
    float4 s0 = (float4)(0.0f);
    float4 s1 = (float4)(0.0f);
    const __global DATA_T* in_n = input + (size_t)n * H * W * C + c0;
    for (int iy = y0; iy < y1; iy++)
    {
        const __global DATA_T* p = in_n + ((size_t)iy * W + x0) * C;
        int ix = x0;
        for (; ix + 2 <= x1; ix += 2, p += 2 * C)
        {
            s0 += load_f4(p, count, 0.0f);
            s1 += load_f4(p + C, count, 0.0f);
        }

        if (ix < x1)
        {
            s0 += load_f4(p, count, 0.0f);
        }
    }

    const int divisor = include_pad ? (py1 - py0) * (px1 - px0) : (y1 - y0) * (x1 - x0);
    store_f4(output + out_offset + ((size_t)row * OW + ox) * out_stride + c0, (s0 + s1) / (float)divisor, count);
}

// Global average pooling: each image's H·W pixels averaged per channel into one output pixel.
// NDRange: x = channel block, y = image. Four accumulators over consecutive pixels.
__kernel void global_avg_pool_nhwc_c4(
    __global const DATA_T* input,
    __global DATA_T* output,
    int HW, int C, int out_stride, int out_offset, int blocks, int batch)
{
    const int cb = (int)get_global_id(0);
    const int n = (int)get_global_id(1);
    if (cb >= blocks || n >= batch)
    {
        return;
    }

    const int c0 = cb * 4;
    const int count = min(4, C - c0);
    const __global DATA_T* p = input + (size_t)n * HW * C + c0;
    float4 s0 = (float4)(0.0f);
    float4 s1 = (float4)(0.0f);
    float4 s2 = (float4)(0.0f);
    float4 s3 = (float4)(0.0f);
    int i = 0;
    for (; i + 4 <= HW; i += 4, p += 4 * C)
    {
        s0 += load_f4(p, count, 0.0f);
        s1 += load_f4(p + C, count, 0.0f);
        s2 += load_f4(p + 2 * C, count, 0.0f);
        s3 += load_f4(p + 3 * C, count, 0.0f);
    }

    for (; i < HW; i++, p += C)
    {
        s0 += load_f4(p, count, 0.0f);
    }

    store_f4(output + out_offset + (size_t)n * out_stride + c0, ((s0 + s1) + (s2 + s3)) / (float)HW, count);
}
