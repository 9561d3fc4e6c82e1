// Fully connected layer, float32 or half storage: y[b][n] = act(bias[n] + Σ_k x[b][k]·W[n][k]), bias and activation fused
// into the store.
//
// Weights are packed once on the host as [block][k][4 outputs] (zeros past the last output), so a work-item
// reads its 4 outputs' weights as one contiguous stream of float4s and never a strided column. A fully
// connected layer is bound by the weight stream: every weight is read once per call for batch 1
// (fully_connected_gemv_4), and once per 4 rows for a larger batch (fully_connected_4x4).
//
// The output may be a slice of a wider tensor: row b's outputs start at out_offset + b·out_stride.
//
// Precision (precision.h): float or half storage of activations, weights and bias; half arithmetic where the
// device has cl_khr_fp16 and the host asks for it.

#include "precision.h"



// Batch 1. NDRange: x = output block. Two accumulators over alternate k quads for independent FMAs.
__kernel void fully_connected_gemv_4(
    __global const DATA_T* input,
    __global const DATA_T* weights,
    __global const DATA_T* bias,
    __global DATA_T* output,
    int K, int N, int out_offset, int blocks,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    if (ob >= blocks)
    {
        return;
    }

    const __global DATA_T* wp = weights + (size_t)ob * K * 4;
    ACC4_T acc0 = LOAD4(ob, bias);
    ACC4_T acc1 = (ACC4_T)(0);
    int k = 0;
    for (; k + 4 <= K; k += 4)
    {
        const ACC4_T x = LOAD4(0, input + k);
        acc0 = fma((ACC4_T)x.s0, LOAD4(0, wp), acc0);
        acc1 = fma((ACC4_T)x.s1, LOAD4(1, wp), acc1);
        acc0 = fma((ACC4_T)x.s2, LOAD4(2, wp), acc0);
        acc1 = fma((ACC4_T)x.s3, LOAD4(3, wp), acc1);
        wp += 16;
    }

    for (; k < K; k++, wp += 4)
    {
        acc0 = fma((ACC4_T)LOAD1(k, input), LOAD4(0, wp), acc0);
    }

    store_acc4(output + out_offset + ob * 4, activate4(acc0 + acc1, act, slope), min(4, N - ob * 4));
}

// Any batch. NDRange: x = output block, y = quad of rows; rows past the last one repeat row r0: computed,
// never stored.
__kernel void fully_connected_4x4(
    __global const DATA_T* input,
    __global const DATA_T* weights,
    __global const DATA_T* bias,
    __global DATA_T* output,
    int K, int N, int out_stride, int out_offset, int blocks, int batch,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    const int r0 = (int)get_global_id(1) * 4;
    if (ob >= blocks || r0 >= batch)
    {
        return;
    }

    const __global DATA_T* x0 = input + (size_t)r0 * K;
    const __global DATA_T* x1 = input + (size_t)min(r0 + 1, batch - 1) * K;
    const __global DATA_T* x2 = input + (size_t)min(r0 + 2, batch - 1) * K;
    const __global DATA_T* x3 = input + (size_t)min(r0 + 3, batch - 1) * K;
    const __global DATA_T* wp = weights + (size_t)ob * K * 4;
    ACC4_T acc0 = LOAD4(ob, bias);
    ACC4_T acc1 = acc0;
    ACC4_T acc2 = acc0;
    ACC4_T acc3 = acc0;
    int k = 0;
    for (; k + 4 <= K; k += 4)
    {
        const ACC4_T w0 = LOAD4(0, wp);
        const ACC4_T w1 = LOAD4(1, wp);
        const ACC4_T w2 = LOAD4(2, wp);
        const ACC4_T w3 = LOAD4(3, wp);
        wp += 16;
        const ACC4_T a0 = LOAD4(0, x0 + k);
        const ACC4_T a1 = LOAD4(0, x1 + k);
        const ACC4_T a2 = LOAD4(0, x2 + k);
        const ACC4_T a3 = LOAD4(0, x3 + k);
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

    for (; k < K; k++, wp += 4)
    {
        const ACC4_T w = LOAD4(0, wp);
        acc0 = fma((ACC4_T)LOAD1(k, x0), w, acc0);
        acc1 = fma((ACC4_T)LOAD1(k, x1), w, acc1);
        acc2 = fma((ACC4_T)LOAD1(k, x2), w, acc2);
        acc3 = fma((ACC4_T)LOAD1(k, x3), w, acc3);
    }

    const int count = min(4, N - ob * 4);
    __global DATA_T* out = output + out_offset + (size_t)r0 * out_stride + ob * 4;
    store_acc4(out, activate4(acc0, act, slope), count);
    if (r0 + 1 < batch) store_acc4(out + out_stride, activate4(acc1, act, slope), count);
    if (r0 + 2 < batch) store_acc4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (r0 + 3 < batch) store_acc4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
