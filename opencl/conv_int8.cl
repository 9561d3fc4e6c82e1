// 8-bit convolution, NHWC: uint8 activations (per-tensor zero point), int8 weights symmetric per output channel,
// int32 bias and accumulation, requantized to uint8 with exactly the CPU's fixed-point definition
// (Kernels.Cpu.Quantized.Requantization: y = (x·M + 2^(30+s)) >> (31+s) in 64 bits, arithmetic shift, then
// out = clamp(y + zero point, min, max); fused ReLU/ReLU6 are the tighter [min, max]). Bit-exact with the CPU layer.
//
// Signed × signed form: the activation byte x enters the dot products as x − 128 (x ^ 0x80 reinterpreted as a char),
// so one 4-lane int8 dot product (arm_dot on char4) serves both operands. The host folds (128 − input zero point)·Σw
// of each output channel into its bias, so the sum is bias + Σ (x − zero point)·w exactly (mod 2^32, as on the CPU);
// a padded tap reads the input zero point (real 0), i.e. contributes nothing.
//
// Weights are packed on the host as [group][block][ky][kx][ic quad][4 output channels][4 input channels] (chars, zeros
// past a group's last channel and past the last input channel of the quad), so each (tap, ic quad) step is four char4
// loads, one per output channel, each dotted with the pixel's char4 of input channels.
//
// Depthwise layers (conv2d_int8_depthwise_nhwc_4x4, at the end) take one input channel per output channel: plain int32
// multiply-adds of (x − zero point)·w over 4 channels, no dot product and no bias fold.
//
// With cl_arm_integer_dot_product_int8 (the host also defines KERNELS_ARM_DOT8 only where the device reports it) the
// dot is arm_dot; with cl_arm_integer_dot_product_accumulate_int8, arm_dot_acc; otherwise a plain int multiply-add of
// the four lanes (see multiply_quad). All three give the same int32.

#if defined(KERNELS_ARM_DOT8) && defined(cl_arm_integer_dot_product_accumulate_int8)
#pragma OPENCL EXTENSION cl_arm_integer_dot_product_accumulate_int8 : enable
#define KERNELS_INT8_DOT 1
#define DOT4_ACC(a, b, acc) arm_dot_acc((a), (b), (acc))
#elif defined(KERNELS_ARM_DOT8) && defined(cl_arm_integer_dot_product_int8)
#pragma OPENCL EXTENSION cl_arm_integer_dot_product_int8 : enable
#define KERNELS_INT8_DOT 1
#define DOT4_ACC(a, b, acc) ((acc) + arm_dot((a), (b)))
#endif

// The activation bytes as x − 128.
inline char4 centered4(uchar4 x)
{
    return as_char4(x ^ (uchar4)(uchar)0x80);
}

// One (tap, input channel quad) step of a 4 output channels × 4 pixels block: acc_p[o] += Σ_i x_p[i]·w_o[i], w_o being
// output channel o's char4 of input channels. With the dot product, 16 arm_dots. Without, the same sums as int32
// multiply-adds in the other direction: the weights are regrouped once per step into one int4 per input channel (its 4
// output channels), so each pixel takes 4 int4 multiply-adds, as the float kernels do, with no horizontal adds.
inline void multiply_quad(int4* acc0, int4* acc1, int4* acc2, int4* acc3,
                          char4 x0, char4 x1, char4 x2, char4 x3, char4 w0, char4 w1, char4 w2, char4 w3)
{
#if defined(KERNELS_INT8_DOT)
    *acc0 = (int4)(DOT4_ACC(x0, w0, (*acc0).s0), DOT4_ACC(x0, w1, (*acc0).s1), DOT4_ACC(x0, w2, (*acc0).s2), DOT4_ACC(x0, w3, (*acc0).s3));
    *acc1 = (int4)(DOT4_ACC(x1, w0, (*acc1).s0), DOT4_ACC(x1, w1, (*acc1).s1), DOT4_ACC(x1, w2, (*acc1).s2), DOT4_ACC(x1, w3, (*acc1).s3));
    *acc2 = (int4)(DOT4_ACC(x2, w0, (*acc2).s0), DOT4_ACC(x2, w1, (*acc2).s1), DOT4_ACC(x2, w2, (*acc2).s2), DOT4_ACC(x2, w3, (*acc2).s3));
    *acc3 = (int4)(DOT4_ACC(x3, w0, (*acc3).s0), DOT4_ACC(x3, w1, (*acc3).s1), DOT4_ACC(x3, w2, (*acc3).s2), DOT4_ACC(x3, w3, (*acc3).s3));
#else
    const int4 t0 = convert_int4((char4)(w0.s0, w1.s0, w2.s0, w3.s0));
    const int4 t1 = convert_int4((char4)(w0.s1, w1.s1, w2.s1, w3.s1));
    const int4 t2 = convert_int4((char4)(w0.s2, w1.s2, w2.s2, w3.s2));
    const int4 t3 = convert_int4((char4)(w0.s3, w1.s3, w2.s3, w3.s3));
    const int4 a0 = convert_int4(x0);
    const int4 a1 = convert_int4(x1);
    const int4 a2 = convert_int4(x2);
    const int4 a3 = convert_int4(x3);
    *acc0 += t0 * a0.s0 + t1 * a0.s1 + t2 * a0.s2 + t3 * a0.s3;
    *acc1 += t0 * a1.s0 + t1 * a1.s1 + t2 * a1.s2 + t3 * a1.s3;
    *acc2 += t0 * a2.s0 + t1 * a2.s1 + t2 * a2.s2 + t3 * a2.s3;
    *acc3 += t0 * a3.s0 + t1 * a3.s1 + t2 * a3.s2 + t3 * a3.s3;
#endif
}

// Requantization.Apply's definition in 64 bits: round to nearest, ties toward +inf; clamp after the zero point.
inline uchar requantize(int x, int multiplier, int shift, int zero_point, int qmin, int qmax)
{
    const long p = (long)x * (long)multiplier;
    const long y = (p + ((long)1 << (30 + shift))) >> (31 + shift);
    return (uchar)clamp(y + (long)zero_point, (long)qmin, (long)qmax);
}

inline void store_q4(__global uchar* out, int4 acc, int4 m, int4 s, int zero_point, int qmin, int qmax, int count)
{
    out[0] = requantize(acc.s0, m.s0, s.s0, zero_point, qmin, qmax);
    if (count > 1) out[1] = requantize(acc.s1, m.s1, s.s1, zero_point, qmin, qmax);
    if (count > 2) out[2] = requantize(acc.s2, m.s2, s.s2, zero_point, qmin, qmax);
    if (count > 3) out[3] = requantize(acc.s3, m.s3, s.s3, zero_point, qmin, qmax);
}

// A pixel's 4 input channels from c on, centered; lanes at or past `valid` are 0 (their weights are zero too, and they
// are never read: the last pixel's run may end at the buffer's end).
inline char4 load_centered(const __global uchar* p, int c, int valid)
{
    if (valid >= 4)
    {
        return centered4(vload4(0, p + c));
    }

    uchar4 x = (uchar4)(uchar)0x80;
    x.s0 = p[c];
    if (valid > 1) x.s1 = p[c + 1];
    if (valid > 2) x.s2 = p[c + 2];
    return centered4(x);
}

// General k×k: any kernel size, stride, asymmetric padding, dilation and groups (depthwise is groups = channels).
// A work-item computes 4 output channels for 4 consecutive output pixels of one row.
// NDRange: x = group·blocks + block, y = output pixel quad of the row, z = image·OH + output row.
// shape: H, W, C (input), OH, OW, output pixel stride and offset (bytes)
// geometry: KH, KW, stride y, stride x, pad top, pad left, dilation y, dilation x
// channels: ICG, ICG rounded up to 4, OCG, blocks per group, groups, batch
// quantization: input zero point, output zero point, clamp [qmin, qmax]
__kernel void conv2d_int8_direct_nhwc_4x4(
    __global const uchar* input,
    __global const char* weights,
    __global const int* bias,
    __global const int* multipliers,
    __global const int* shifts,
    __global uchar* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int DY, int DX,
    int ICG, int ICG4, int OCG, int blocks, int groups, int batch,
    int in_zero_point, int out_zero_point, int qmin, int qmax)
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

    int4 acc0 = vload4(blk, bias);
    int4 acc1 = acc0;
    int4 acc2 = acc0;
    int4 acc3 = acc0;

    const char4 pad = centered4((uchar4)(uchar)in_zero_point);
    const __global uchar* in_n = input + (size_t)n * H * W * C + g * ICG;
    const __global char* wp = weights + (size_t)blk * KH * KW * ICG4 * 4;
    const int wstep_tap = ICG4 * 4;

    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        const bool row_inside = iy >= 0 && iy < H;
        const __global uchar* in_row = in_n + (size_t)(row_inside ? iy : 0) * W * C;
        for (int kx = 0; kx < KW; kx++, wp += wstep_tap)
        {
            const int ix0 = ox0 * SX - PL + kx * DX;
            const int ix1 = ix0 + SX;
            const int ix2 = ix1 + SX;
            const int ix3 = ix2 + SX;
            // A tap outside the input reads the zero point; a pixel past the row's end is computed and never stored.
            const bool v0 = row_inside && ix0 >= 0 && ix0 < W;
            const bool v1 = row_inside && ix1 >= 0 && ix1 < W;
            const bool v2 = row_inside && ix2 >= 0 && ix2 < W;
            const bool v3 = row_inside && ix3 >= 0 && ix3 < W;
            const __global uchar* p0 = in_row + (v0 ? ix0 : 0) * C;
            const __global uchar* p1 = in_row + (v1 ? ix1 : 0) * C;
            const __global uchar* p2 = in_row + (v2 ? ix2 : 0) * C;
            const __global uchar* p3 = in_row + (v3 ? ix3 : 0) * C;

            for (int c = 0; c < ICG; c += 4)
            {
                const __global char* wq = wp + c * 4;
                const char4 w0 = vload4(0, wq);
                const char4 w1 = vload4(1, wq);
                const char4 w2 = vload4(2, wq);
                const char4 w3 = vload4(3, wq);
                const int valid = ICG - c;
                const char4 x0 = v0 ? load_centered(p0, c, valid) : pad;
                const char4 x1 = v1 ? load_centered(p1, c, valid) : pad;
                const char4 x2 = v2 ? load_centered(p2, c, valid) : pad;
                const char4 x3 = v3 ? load_centered(p3, c, valid) : pad;
                multiply_quad(&acc0, &acc1, &acc2, &acc3, x0, x1, x2, x3, w0, w1, w2, w3);
            }
        }
    }

    const int4 m = vload4(blk, multipliers);
    const int4 s = vload4(blk, shifts);
    const int oc = g * OCG + ob * 4;
    const int count = min(4, OCG - ob * 4);
    __global uchar* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + oc;
    store_q4(out, acc0, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 1 < OW) store_q4(out + out_stride, acc1, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 2 < OW) store_q4(out + 2 * out_stride, acc2, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 3 < OW) store_q4(out + 3 * out_stride, acc3, m, s, out_zero_point, qmin, qmax, count);
}

// 1×1, groups 1, no padding, any stride: a GEMM of the output pixels (counted over the whole batch, so small maps do
// not leave lanes idle at each row's end) by the packed weights; 4 output channels × 4 pixels per work-item.
// Weights packed as the general kernel's with KH = KW = 1: [block][ic quad][4 output channels][4 input channels].
// NDRange: x = output channel block, y = pixel quad.
__kernel void conv2d_int8_1x1_nhwc_4x4(
    __global const uchar* input,
    __global const char* weights,
    __global const int* bias,
    __global const int* multipliers,
    __global const int* shifts,
    __global uchar* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset, int SY, int SX,
    int C4, int OC, int blocks, int pixels,
    int out_zero_point, int qmin, int qmax)
{
    const int ob = (int)get_global_id(0);
    const int q0 = (int)get_global_id(1) * 4;
    if (ob >= blocks || q0 >= pixels)
    {
        return;
    }

    // Pixels past the last one repeat the last: computed, never stored.
    const __global uchar* x[4];
    for (int i = 0; i < 4; i++)
    {
        const int q = min(q0 + i, pixels - 1);
        const int n = q / (OH * OW);
        const int r = q - n * OH * OW;
        const int oy = r / OW;
        const int ox = r - oy * OW;
        x[i] = input + (((size_t)n * H + (size_t)oy * SY) * W + (size_t)ox * SX) * C;
    }

    const __global char* wp = weights + (size_t)ob * C4 * 4;
    int4 acc0 = vload4(ob, bias);
    int4 acc1 = acc0;
    int4 acc2 = acc0;
    int4 acc3 = acc0;
    for (int c = 0; c < C; c += 4)
    {
        const __global char* wq = wp + c * 4;
        const char4 w0 = vload4(0, wq);
        const char4 w1 = vload4(1, wq);
        const char4 w2 = vload4(2, wq);
        const char4 w3 = vload4(3, wq);
        const int valid = C - c;
        multiply_quad(&acc0, &acc1, &acc2, &acc3,
                      load_centered(x[0], c, valid), load_centered(x[1], c, valid), load_centered(x[2], c, valid), load_centered(x[3], c, valid),
                      w0, w1, w2, w3);
    }

    const int4 m = vload4(ob, multipliers);
    const int4 s = vload4(ob, shifts);
    const int count = min(4, OC - ob * 4);
    __global uchar* out = output + out_offset + (size_t)q0 * out_stride + ob * 4;
    store_q4(out, acc0, m, s, out_zero_point, qmin, qmax, count);
    if (q0 + 1 < pixels) store_q4(out + out_stride, acc1, m, s, out_zero_point, qmin, qmax, count);
    if (q0 + 2 < pixels) store_q4(out + 2 * out_stride, acc2, m, s, out_zero_point, qmin, qmax, count);
    if (q0 + 3 < pixels) store_q4(out + 3 * out_stride, acc3, m, s, out_zero_point, qmin, qmax, count);
}

// count lanes (1..4) of a pixel's bytes from p as ints, zeros in the others; never reads past them.
inline int4 load_u4(const __global uchar* p, int count)
{
    if (count >= 4)
    {
        return convert_int4(vload4(0, p));
    }

    return (int4)(p[0], count > 1 ? p[1] : 0, count > 2 ? p[2] : 0, 0);
}

// Depthwise (groups = input = output channels, multiplier 1), any kernel size, stride, asymmetric padding and dilation.
// A depthwise tap has one input channel per output channel, so there is no 4-lane dot product to take: a work-item
// computes 4 channels (int4 lanes) for 4 consecutive output pixels of one row with int32 multiply-adds of (x − zero point)·w.
// In that form a padded tap contributes nothing and is skipped, and the bias is the CPU's int32 bias as it is.
// Weights packed as [ky][kx][channels rounded up to 4] (chars, zeros in the padding lanes), bias as [channels rounded up to 4].
// NDRange: x = channel block, y = output pixel quad of the row, z = image·OH + output row.
__kernel void conv2d_int8_depthwise_nhwc_4x4(
    __global const uchar* input,
    __global const char* weights,
    __global const int* bias,
    __global const int* multipliers,
    __global const int* shifts,
    __global uchar* output,
    int H, int W, int C, int OH, int OW, int out_stride, int out_offset,
    int KH, int KW, int SY, int SX, int PT, int PL, int DY, int DX,
    int blocks, int batch,
    int in_zero_point, int out_zero_point, int qmin, int qmax)
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
    const int4 zero_point = (int4)(in_zero_point);

    int4 acc0 = vload4(cb, bias);
    int4 acc1 = acc0;
    int4 acc2 = acc0;
    int4 acc3 = acc0;

    const __global uchar* in_n = input + (size_t)n * H * W * C + c0;
    for (int ky = 0; ky < KH; ky++)
    {
        const int iy = oy * SY - PT + ky * DY;
        if (iy < 0 || iy >= H)
        {
            continue;
        }

        const __global uchar* in_row = in_n + (size_t)iy * W * C;
        const __global char* wrow = weights + (size_t)ky * KW * blocks * 4 + c0;
        for (int kx = 0; kx < KW; kx++)
        {
            const int4 w = convert_int4(vload4(0, wrow + kx * blocks * 4));
            const int ix0 = ox0 * SX - PL + kx * DX;
            const int ix1 = ix0 + SX;
            const int ix2 = ix1 + SX;
            const int ix3 = ix2 + SX;
            // A pixel in the padding or past the row's end contributes nothing and is never read.
            if (ix0 >= 0 && ix0 < W) acc0 += (load_u4(in_row + ix0 * C, count) - zero_point) * w;
            if (ix1 >= 0 && ix1 < W && ox0 + 1 < OW) acc1 += (load_u4(in_row + ix1 * C, count) - zero_point) * w;
            if (ix2 >= 0 && ix2 < W && ox0 + 2 < OW) acc2 += (load_u4(in_row + ix2 * C, count) - zero_point) * w;
            if (ix3 >= 0 && ix3 < W && ox0 + 3 < OW) acc3 += (load_u4(in_row + ix3 * C, count) - zero_point) * w;
        }
    }

    const int4 m = vload4(cb, multipliers);
    const int4 s = vload4(cb, shifts);
    __global uchar* out = output + out_offset + ((size_t)row * OW + ox0) * out_stride + c0;
    store_q4(out, acc0, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 1 < OW) store_q4(out + out_stride, acc1, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 2 < OW) store_q4(out + 2 * out_stride, acc2, m, s, out_zero_point, qmin, qmax, count);
    if (ox0 + 3 < OW) store_q4(out + 3 * out_stride, acc3, m, s, out_zero_point, qmin, qmax, count);
}
