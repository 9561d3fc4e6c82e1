// General direct convolution, NHWC activations, float32 or half storage (precision.h): any kernel size, stride, padding (asymmetric),
// dilation and groups, with bias and activation fused into the store.
//
// Register blocking (Mali style, no local memory): a work-item computes 4 output channels (one float4)
// for 4 consecutive output pixels of one row, 16 accumulators. Weights are packed on the host into
// blocks of 4 output channels, [group][block][ky][kx][ic][4], zero-padded past the group's last channel,
// so each (ky, kx, ic) step is one float4 load of weights and the input channel run is read with vload4.
//
// NDRange: x = group·blocks + block, y = output pixel quad of the row, z = image·OH + output row; rounded
// up to the local size, so items past the end return.
//
// Precision (precision.h): float or half storage of activations, weights and bias; half arithmetic where the
// device has cl_khr_fp16 and the host asks for it.

#include "precision.h"

// shape: H, W, C (input), OH, OW, output pixel stride and offset (elements: a channel slice of a wider tensor,
// starting at its first channel)
// geometry: KH, KW, stride y, stride x, pad top, pad left, dilation y, dilation x
// channels: ICG, OCG, blocks per group, groups, batch
__kernel void conv2d_direct_nhwc_4x4(
    __global const DATA_T* input,
    __global const DATA_T* weights,
    __global const DATA_T* bias,
    __global DATA_T* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int DY, int DX,
    int ICG, int OCG, int blocks, int groups, int batch,
    int act, float slope)
{
    const int blk = (int)get_global_id(0);
    const int ox0 = (int)get_global_id(1) * 4;
    const int row = (int)get_global_id(2);
    if (blk >= groups * blocks || ox0 >= OW || row >= batch * OH)
    {
        return;
    }

    const int g = blk / blocks;
    const int ob = blk - g * blocks;
    const int n = row / OH;
    const int oy = row - n * OH;

    ACC4_T acc0 = LOAD4(blk, bias);
    ACC4_T acc1 = acc0;
    ACC4_T acc2 = acc0;
    ACC4_T acc3 = acc0;

    const __global DATA_T* in_n = input + (size_t)n * H * W * C + g * ICG;
    const __global DATA_T* wp = weights + (size_t)blk * KH * KW * ICG * 4;
    const int wstep_row = KW * ICG * 4;

    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        if (iy < 0 || iy >= H)
        {
            wp += wstep_row;
            continue;
        }

        const __global DATA_T* in_row = in_n + (size_t)iy * W * C;
        for (int kx = 0; kx < KW; kx++)
        {
            const int ix0 = ox0 * SX - PL + kx * DX;
            const int ix1 = ix0 + SX;
            const int ix2 = ix1 + SX;
            const int ix3 = ix2 + SX;
            // A pixel outside the input (padding) or past the row's end contributes zeros (its address is clamped to pixel 0, never read past the buffer).
            const bool v0 = ix0 >= 0 && ix0 < W;
            const bool v1 = ix1 >= 0 && ix1 < W && ox0 + 1 < OW;
            const bool v2 = ix2 >= 0 && ix2 < W && ox0 + 2 < OW;
            const bool v3 = ix3 >= 0 && ix3 < W && ox0 + 3 < OW;
            const __global DATA_T* p0 = in_row + (v0 ? ix0 : 0) * C;
            const __global DATA_T* p1 = in_row + (v1 ? ix1 : 0) * C;
            const __global DATA_T* p2 = in_row + (v2 ? ix2 : 0) * C;
            const __global DATA_T* p3 = in_row + (v3 ? ix3 : 0) * C;

            int c = 0;
            for (; c + 4 <= ICG; c += 4)
            {
                const ACC4_T w0 = LOAD4(0, wp);
                const ACC4_T w1 = LOAD4(1, wp);
                const ACC4_T w2 = LOAD4(2, wp);
                const ACC4_T w3 = LOAD4(3, wp);
                wp += 16;
                const ACC4_T x0 = v0 ? LOAD4(0, p0 + c) : (ACC4_T)(0);
                const ACC4_T x1 = v1 ? LOAD4(0, p1 + c) : (ACC4_T)(0);
                const ACC4_T x2 = v2 ? LOAD4(0, p2 + c) : (ACC4_T)(0);
                const ACC4_T x3 = v3 ? LOAD4(0, p3 + c) : (ACC4_T)(0);
                acc0 = fma((ACC4_T)x0.s0, w0, acc0);
                acc0 = fma((ACC4_T)x0.s1, w1, acc0);
                acc0 = fma((ACC4_T)x0.s2, w2, acc0);
                acc0 = fma((ACC4_T)x0.s3, w3, acc0);
                acc1 = fma((ACC4_T)x1.s0, w0, acc1);
                acc1 = fma((ACC4_T)x1.s1, w1, acc1);
                acc1 = fma((ACC4_T)x1.s2, w2, acc1);
                acc1 = fma((ACC4_T)x1.s3, w3, acc1);
                acc2 = fma((ACC4_T)x2.s0, w0, acc2);
                acc2 = fma((ACC4_T)x2.s1, w1, acc2);
                acc2 = fma((ACC4_T)x2.s2, w2, acc2);
                acc2 = fma((ACC4_T)x2.s3, w3, acc2);
                acc3 = fma((ACC4_T)x3.s0, w0, acc3);
                acc3 = fma((ACC4_T)x3.s1, w1, acc3);
                acc3 = fma((ACC4_T)x3.s2, w2, acc3);
                acc3 = fma((ACC4_T)x3.s3, w3, acc3);
            }

            for (; c < ICG; c++)
            {
                const ACC4_T w = LOAD4(0, wp);
                wp += 4;
                acc0 = fma((ACC4_T)(v0 ? LOAD1(c, p0) : (ACC_T)(0)), w, acc0);
                acc1 = fma((ACC4_T)(v1 ? LOAD1(c, p1) : (ACC_T)(0)), w, acc1);
                acc2 = fma((ACC4_T)(v2 ? LOAD1(c, p2) : (ACC_T)(0)), w, acc2);
                acc3 = fma((ACC4_T)(v3 ? LOAD1(c, p3) : (ACC_T)(0)), w, acc3);
            }
        }
    }

    const int oc = g * OCG + ob * 4;
    const int count = min(4, OCG - ob * 4);
    __global DATA_T* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + oc;
    store_acc4(out, activate4(acc0, act, slope), count);
    if (ox0 + 1 < OW) store_acc4(out + out_stride, activate4(acc1, act, slope), count);
    if (ox0 + 2 < OW) store_acc4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (ox0 + 3 < OW) store_acc4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
