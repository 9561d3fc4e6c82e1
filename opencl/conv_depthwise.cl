// Depthwise convolution (groups = channels, multiplier 1), NHWC activations, float32: any kernel size,
// stride, padding (asymmetric) and dilation, with bias and activation fused into the store.
//
// NHWC keeps a pixel's channels contiguous, so a work-item takes 4 channels as one float4 (vload4 of the
// input and of the weights) for 4 consecutive output pixels of one row: 4 accumulators, no local memory.
// Weights are packed on the host as [ky][kx][channels rounded up to 4], bias as [channels rounded up to 4],
// zeros in the padding lanes. A channel count that is not a multiple of 4 leaves a last block whose
// loads and stores are partial (never past the pixel).
//
// NDRange: x = channel block, y = output pixel quad of the row, z = image·OH + output row; rounded up to the
// local size, so items past the end return.

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

// count lanes from p (1..4), zeros in the others.
inline float4 load4(const __global float* p, int count)
{
    if (count >= 4)
    {
        return vload4(0, p);
    }

    return (float4)(p[0], count > 1 ? p[1] : 0.0f, count > 2 ? p[2] : 0.0f, 0.0f);
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

__kernel void conv2d_depthwise_nhwc_4x4(
    __global const float* input,
    __global const float* weights,
    __global const float* bias,
    __global float* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int DY, int DX,
    int blocks, int batch,
    int act, float slope)
{
    const int cb = (int)get_global_id(0);
    const int ox0 = (int)get_global_id(1) * 4;
    const int row = (int)get_global_id(2);
    if (cb >= blocks || ox0 >= OW || row >= batch * OH)
    {
        return;
    }

    const int n = row / OH;
    const int oy = row - n * OH;
    const int c0 = cb * 4;
    const int count = min(4, C - c0);

    float4 acc0 = vload4(cb, bias);
    float4 acc1 = acc0;
    float4 acc2 = acc0;
    float4 acc3 = acc0;

    const __global float* in_n = input + (size_t)n * H * W * C + c0;
    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        if (iy < 0 || iy >= H)
        {
            continue;
        }

        const __global float* in_row = in_n + (size_t)iy * W * C;
        const __global float* wrow = weights + (size_t)ky * KW * blocks * 4 + c0;
        for (int kx = 0; kx < KW; kx++)
        {
            const float4 w = vload4(0, wrow + kx * blocks * 4);
            const int ix0 = ox0 * SX - PL + kx * DX;
            const int ix1 = ix0 + SX;
            const int ix2 = ix1 + SX;
            const int ix3 = ix2 + SX;
            // A pixel in the padding or past the row's end contributes zeros and is never read.
            if (ix0 >= 0 && ix0 < W) acc0 = fma(load4(in_row + ix0 * C, count), w, acc0);
            if (ix1 >= 0 && ix1 < W && ox0 + 1 < OW) acc1 = fma(load4(in_row + ix1 * C, count), w, acc1);
            if (ix2 >= 0 && ix2 < W && ox0 + 2 < OW) acc2 = fma(load4(in_row + ix2 * C, count), w, acc2);
            if (ix3 >= 0 && ix3 < W && ox0 + 3 < OW) acc3 = fma(load4(in_row + ix3 * C, count), w, acc3);
        }
    }

    __global float* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + c0;
    store4(out, activate4(acc0, act, slope), count);
    if (ox0 + 1 < OW) store4(out + out_stride, activate4(acc1, act, slope), count);
    if (ox0 + 2 < OW) store4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (ox0 + 3 < OW) store4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
