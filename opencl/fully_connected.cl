// Fully connected layer, float32: y[b][n] = act(bias[n] + Σ_k x[b][k]·W[n][k]), bias and activation fused
// into the store.
//
// Weights are packed once on the host as [block][k][4 outputs] (zeros past the last output), so a work-item
// reads its 4 outputs' weights as one contiguous stream of float4s and never a strided column. A fully
// connected layer is bound by the weight stream: every weight is read once per call for batch 1
// (fully_connected_gemv_4), and once per 4 rows for a larger batch (fully_connected_4x4).
//
// The output may be a slice of a wider tensor: row b's outputs start at out_offset + b·out_stride.

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

// Batch 1. NDRange: x = output block. Two accumulators over alternate k quads for independent FMAs.
__kernel void fully_connected_gemv_4(
    __global const float* input,
    __global const float* weights,
    __global const float* bias,
    __global float* output,
    int K, int N, int out_offset, int blocks,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    if (ob >= blocks)
    {
        return;
    }

    const __global float* wp = weights + (size_t)ob * K * 4;
    float4 acc0 = vload4(ob, bias);
    float4 acc1 = (float4)(0.0f);
    int k = 0;
    for (; k + 4 <= K; k += 4)
    {
        const float4 x = vload4(0, input + k);
        acc0 = fma((float4)x.s0, vload4(0, wp), acc0);
        acc1 = fma((float4)x.s1, vload4(1, wp), acc1);
        acc0 = fma((float4)x.s2, vload4(2, wp), acc0);
        acc1 = fma((float4)x.s3, vload4(3, wp), acc1);
        wp += 16;
    }

    for (; k < K; k++, wp += 4)
    {
        acc0 = fma((float4)input[k], vload4(0, wp), acc0);
    }

    store4(output + out_offset + ob * 4, activate4(acc0 + acc1, act, slope), min(4, N - ob * 4));
}

// Any batch. NDRange: x = output block, y = quad of rows; rows past the last one repeat row r0: computed,
// never stored.
__kernel void fully_connected_4x4(
    __global const float* input,
    __global const float* weights,
    __global const float* bias,
    __global float* output,
    int K, int N, int out_stride, int out_offset, int blocks, int batch,
    int act, float slope)
{
    const int ob = (int)get_global_id(0);
    const int r0 = (int)get_global_id(1) * 4;
    if (ob >= blocks || r0 >= batch)
    {
        return;
    }

    const __global float* x0 = input + (size_t)r0 * K;
    const __global float* x1 = input + (size_t)min(r0 + 1, batch - 1) * K;
    const __global float* x2 = input + (size_t)min(r0 + 2, batch - 1) * K;
    const __global float* x3 = input + (size_t)min(r0 + 3, batch - 1) * K;
    const __global float* wp = weights + (size_t)ob * K * 4;
    float4 acc0 = vload4(ob, bias);
    float4 acc1 = acc0;
    float4 acc2 = acc0;
    float4 acc3 = acc0;
    int k = 0;
    for (; k + 4 <= K; k += 4)
    {
        const float4 w0 = vload4(0, wp);
        const float4 w1 = vload4(1, wp);
        const float4 w2 = vload4(2, wp);
        const float4 w3 = vload4(3, wp);
        wp += 16;
        const float4 a0 = vload4(0, x0 + k);
        const float4 a1 = vload4(0, x1 + k);
        const float4 a2 = vload4(0, x2 + k);
        const float4 a3 = vload4(0, x3 + k);
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

    for (; k < K; k++, wp += 4)
    {
        const float4 w = vload4(0, wp);
        acc0 = fma((float4)x0[k], w, acc0);
        acc1 = fma((float4)x1[k], w, acc1);
        acc2 = fma((float4)x2[k], w, acc2);
        acc3 = fma((float4)x3[k], w, acc3);
    }

    const int count = min(4, N - ob * 4);
    __global float* out = output + out_offset + (size_t)r0 * out_stride + ob * 4;
    store4(out, activate4(acc0, act, slope), count);
    if (r0 + 1 < batch) store4(out + out_stride, activate4(acc1, act, slope), count);
    if (r0 + 2 < batch) store4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (r0 + 3 < batch) store4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
