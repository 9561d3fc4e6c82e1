// Depthwise convolution (groups = channels, multiplier 1), NHWC activations, float32 or half storage: any kernel size,
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
//
// Precision (precision.h): float or half storage of activations, weights and bias; half arithmetic where the
// device has cl_khr_fp16 and the host asks for it.

#include "precision.h"

// count lanes from p (1..4), zeros in the others.


__kernel void conv2d_depthwise_nhwc_4x4(
    __global const DATA_T* input,
    __global const DATA_T* weights,
    __global const DATA_T* bias,
    __global DATA_T* output,
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

    ACC4_T acc0 = LOAD4(cb, bias);
    ACC4_T acc1 = acc0;
    ACC4_T acc2 = acc0;
    ACC4_T acc3 = acc0;

    const __global DATA_T* in_n = input + (size_t)n * H * W * C + c0;
    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        if (iy < 0 || iy >= H)
        {
            continue;
        }

        const __global DATA_T* in_row = in_n + (size_t)iy * W * C;
        const __global DATA_T* wrow = weights + (size_t)ky * KW * blocks * 4 + c0;
        for (int kx = 0; kx < KW; kx++)
        {
            const ACC4_T w = LOAD4(0, wrow + kx * blocks * 4);
            const int ix0 = ox0 * SX - PL + kx * DX;
            const int ix1 = ix0 + SX;
            const int ix2 = ix1 + SX;
            const int ix3 = ix2 + SX;
            // A pixel in the padding or past the row's end contributes zeros and is never read.
            if (ix0 >= 0 && ix0 < W) acc0 = fma(load_acc4(in_row + ix0 * C, count), w, acc0);
            if (ix1 >= 0 && ix1 < W && ox0 + 1 < OW) acc1 = fma(load_acc4(in_row + ix1 * C, count), w, acc1);
            if (ix2 >= 0 && ix2 < W && ox0 + 2 < OW) acc2 = fma(load_acc4(in_row + ix2 * C, count), w, acc2);
            if (ix3 >= 0 && ix3 < W && ox0 + 3 < OW) acc3 = fma(load_acc4(in_row + ix3 * C, count), w, acc3);
        }
    }

    __global DATA_T* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + c0;
    store_acc4(out, activate4(acc0, act, slope), count);
    if (ox0 + 1 < OW) store_acc4(out + out_stride, activate4(acc1, act, slope), count);
    if (ox0 + 2 < OW) store_acc4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (ox0 + 3 < OW) store_acc4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
