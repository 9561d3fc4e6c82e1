// General direct convolution, NHWC activations, float32: any kernel size, stride, padding (asymmetric),
// dilation and groups, with bias and activation fused into the store.
//
// Register blocking (Mali style, no local memory): a work-item computes 4 output channels (one float4)
// for 4 consecutive output pixels of one row, 16 accumulators. Weights are packed on the host into
// blocks of 4 output channels, [group][block][ky][kx][ic][4], zero-padded past the group's last channel,
// so each (ky, kx, ic) step is one float4 load of weights and the input channel run is read with vload4.
//
// NDRange: x = group·blocks + block, y = output pixel quad of the row, z = image·OH + output row; rounded
// up to the local size, so items past the end return.

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

// shape: H, W, C (input), OH, OW, output pixel stride and offset (floats: a channel slice of a wider tensor,
// starting at its first channel)
// geometry: KH, KW, stride y, stride x, pad top, pad left, dilation y, dilation x
// channels: ICG, OCG, blocks per group, groups, batch
__kernel void conv2d_direct_nhwc_4x4(
    __global const float* input,
    __global const float* weights,
    __global const float* bias,
    __global float* output,
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

    float4 acc0 = vload4(blk, bias);
    float4 acc1 = acc0;
    float4 acc2 = acc0;
    float4 acc3 = acc0;

    const __global float* in_n = input + (size_t)n * H * W * C + g * ICG;
    const __global float* wp = weights + (size_t)blk * KH * KW * ICG * 4;
    const int wstep_row = KW * ICG * 4;

    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        if (iy < 0 || iy >= H)
        {
            wp += wstep_row;
            continue;
        }

        const __global float* in_row = in_n + (size_t)iy * W * C;
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
            const __global float* p0 = in_row + (v0 ? ix0 : 0) * C;
            const __global float* p1 = in_row + (v1 ? ix1 : 0) * C;
            const __global float* p2 = in_row + (v2 ? ix2 : 0) * C;
            const __global float* p3 = in_row + (v3 ? ix3 : 0) * C;

            int c = 0;
            for (; c + 4 <= ICG; c += 4)
            {
                const float4 w0 = vload4(0, wp);
                const float4 w1 = vload4(1, wp);
                const float4 w2 = vload4(2, wp);
                const float4 w3 = vload4(3, wp);
                wp += 16;
                const float4 x0 = v0 ? vload4(0, p0 + c) : (float4)0.0f;
                const float4 x1 = v1 ? vload4(0, p1 + c) : (float4)0.0f;
                const float4 x2 = v2 ? vload4(0, p2 + c) : (float4)0.0f;
                const float4 x3 = v3 ? vload4(0, p3 + c) : (float4)0.0f;
                acc0 = fma((float4)x0.s0, w0, acc0);
                acc0 = fma((float4)x0.s1, w1, acc0);
                acc0 = fma((float4)x0.s2, w2, acc0);
                acc0 = fma((float4)x0.s3, w3, acc0);
                acc1 = fma((float4)x1.s0, w0, acc1);
                acc1 = fma((float4)x1.s1, w1, acc1);
                acc1 = fma((float4)x1.s2, w2, acc1);
                acc1 = fma((float4)x1.s3, w3, acc1);
                acc2 = fma((float4)x2.s0, w0, acc2);
                acc2 = fma((float4)x2.s1, w1, acc2);
                acc2 = fma((float4)x2.s2, w2, acc2);
                acc2 = fma((float4)x2.s3, w3, acc2);
                acc3 = fma((float4)x3.s0, w0, acc3);
                acc3 = fma((float4)x3.s1, w1, acc3);
                acc3 = fma((float4)x3.s2, w2, acc3);
                acc3 = fma((float4)x3.s3, w3, acc3);
            }

            for (; c < ICG; c++)
            {
                const float4 w = vload4(0, wp);
                wp += 4;
                acc0 = fma((float4)(v0 ? p0[c] : 0.0f), w, acc0);
                acc1 = fma((float4)(v1 ? p1[c] : 0.0f), w, acc1);
                acc2 = fma((float4)(v2 ? p2[c] : 0.0f), w, acc2);
                acc3 = fma((float4)(v3 ? p3[c] : 0.0f), w, acc3);
            }
        }
    }

    const int oc = g * OCG + ob * 4;
    const int count = min(4, OCG - ob * 4);
    __global float* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + oc;
    store4(out, activate4(acc0, act, slope), count);
    if (ox0 + 1 < OW) store4(out + out_stride, activate4(acc1, act, slope), count);
    if (ox0 + 2 < OW) store4(out + 2 * out_stride, activate4(acc2, act, slope), count);
    if (ox0 + 3 < OW) store4(out + 3 * out_stride, activate4(acc3, act, slope), count);
}
