using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-*-avx512: depthwise rows vectorized over 16 channels. Weights are packed [KH][KW][C rounded up
/// to 16] so one load gives one tap of 16 channels. A channel block is the outer loop of a row, so the 3x3
/// kernels keep its nine weight vectors and the bias in registers for the whole row (22 of 32 zmm with the
/// four accumulators and the input columns). Rows above or below the image read a zero row instead of being
/// checked; columns whose kernel overlaps the left or right padding go through the checked general pixel.
/// </summary>
internal static unsafe class DepthwiseAvx512
{
    public const int Width = 16;

    /// <summary>One output row of a 3x3 stride-1 layer (dilation 1): four pixels per step share six input columns per kernel row.</summary>
    [SkipLocalsInit]
    public static void Row3x3S1(in DepthwiseGeometry g, float* image, float* zero, float* weights, float* bias, float* output, int oy)
    {
        nint c = g.Channels;
        nint ws = g.WeightStride;
        nint os = g.OutputPixelStride;
        nint rowFloats = g.InputWidth * c;
        int iy = oy - g.PadTop;
        float* row0 = (uint)iy < (uint)g.InputHeight ? image + (iy * rowFloats) : zero;
        float* row1 = (uint)(iy + 1) < (uint)g.InputHeight ? image + ((iy + 1) * rowFloats) : zero;
        float* row2 = (uint)(iy + 2) < (uint)g.InputHeight ? image + ((iy + 2) * rowFloats) : zero;
        int mode = g.Activation.Mode;
        var min = Vector512.Create(g.Activation.Min);
        var max = Vector512.Create(g.Activation.Max);
        var slope = Vector512.Create(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        for (int block = 0; block < g.ChannelBlocks; block++)
        {
            nint cb = Math.Min(block * Width, g.Channels - Width);
            float* w = weights + cb;
            var b = Vector512.Load(bias + cb);
            for (int ox = 0; ox < begin; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }

            var w00 = Vector512.Load(w);
            var w01 = Vector512.Load(w + ws);
            var w02 = Vector512.Load(w + (2 * ws));
            var w10 = Vector512.Load(w + (3 * ws));
            var w11 = Vector512.Load(w + (4 * ws));
            var w12 = Vector512.Load(w + (5 * ws));
            var w20 = Vector512.Load(w + (6 * ws));
            var w21 = Vector512.Load(w + (7 * ws));
            var w22 = Vector512.Load(w + (8 * ws));
            nint ix = begin - g.PadLeft;
            float* i0 = row0 + (ix * c) + cb;
            float* i1 = row1 + (ix * c) + cb;
            float* i2 = row2 + (ix * c) + cb;
            float* o = output + (begin * os) + cb;
            int x = begin;
            for (; x + 4 <= end; x += 4)
            {
                var a0 = b;
                var a1 = b;
                var a2 = b;
                var a3 = b;
                Row4(i0, c, w00, w01, w02, ref a0, ref a1, ref a2, ref a3);
                Row4(i1, c, w10, w11, w12, ref a0, ref a1, ref a2, ref a3);
                Row4(i2, c, w20, w21, w22, ref a0, ref a1, ref a2, ref a3);
                Store(o, a0, mode, min, max, slope);
                Store(o + os, a1, mode, min, max, slope);
                Store(o + (2 * os), a2, mode, min, max, slope);
                Store(o + (3 * os), a3, mode, min, max, slope);
                i0 += 4 * c;
                i1 += 4 * c;
                i2 += 4 * c;
                o += 4 * os;
            }

            for (; x < end; x++)
            {
                var a = b;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0), w00, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + c), w01, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + (2 * c)), w02, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1), w10, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + c), w11, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + (2 * c)), w12, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2), w20, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + c), w21, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + (2 * c)), w22, a);
                Store(o, a, mode, min, max, slope);
                i0 += c;
                i1 += c;
                i2 += c;
                o += os;
            }

            for (int ox = end; ox < g.OutputWidth; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }
        }
    }

    /// <summary>One output row of a 3x3 stride-2 layer (dilation 1): four pixels per step share nine input columns per kernel row.</summary>
    [SkipLocalsInit]
    public static void Row3x3S2(in DepthwiseGeometry g, float* image, float* zero, float* weights, float* bias, float* output, int oy)
    {
        nint c = g.Channels;
        nint ws = g.WeightStride;
        nint os = g.OutputPixelStride;
        nint rowFloats = g.InputWidth * c;
        int iy = (oy * 2) - g.PadTop;
        float* row0 = (uint)iy < (uint)g.InputHeight ? image + (iy * rowFloats) : zero;
        float* row1 = (uint)(iy + 1) < (uint)g.InputHeight ? image + ((iy + 1) * rowFloats) : zero;
        float* row2 = (uint)(iy + 2) < (uint)g.InputHeight ? image + ((iy + 2) * rowFloats) : zero;
        int mode = g.Activation.Mode;
        var min = Vector512.Create(g.Activation.Min);
        var max = Vector512.Create(g.Activation.Max);
        var slope = Vector512.Create(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        for (int block = 0; block < g.ChannelBlocks; block++)
        {
            nint cb = Math.Min(block * Width, g.Channels - Width);
            float* w = weights + cb;
            var b = Vector512.Load(bias + cb);
            for (int ox = 0; ox < begin; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }

            var w00 = Vector512.Load(w);
            var w01 = Vector512.Load(w + ws);
            var w02 = Vector512.Load(w + (2 * ws));
            var w10 = Vector512.Load(w + (3 * ws));
            var w11 = Vector512.Load(w + (4 * ws));
            var w12 = Vector512.Load(w + (5 * ws));
            var w20 = Vector512.Load(w + (6 * ws));
            var w21 = Vector512.Load(w + (7 * ws));
            var w22 = Vector512.Load(w + (8 * ws));
            nint ix = (begin * 2) - g.PadLeft;
            float* i0 = row0 + (ix * c) + cb;
            float* i1 = row1 + (ix * c) + cb;
            float* i2 = row2 + (ix * c) + cb;
            float* o = output + (begin * os) + cb;
            int x = begin;
            for (; x + 4 <= end; x += 4)
            {
                var a0 = b;
                var a1 = b;
                var a2 = b;
                var a3 = b;
                Row4Stride2(i0, c, w00, w01, w02, ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i1, c, w10, w11, w12, ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i2, c, w20, w21, w22, ref a0, ref a1, ref a2, ref a3);
                Store(o, a0, mode, min, max, slope);
                Store(o + os, a1, mode, min, max, slope);
                Store(o + (2 * os), a2, mode, min, max, slope);
                Store(o + (3 * os), a3, mode, min, max, slope);
                i0 += 8 * c;
                i1 += 8 * c;
                i2 += 8 * c;
                o += 4 * os;
            }

            for (; x < end; x++)
            {
                var a = b;
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0), w00, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + c), w01, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + (2 * c)), w02, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1), w10, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + c), w11, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + (2 * c)), w12, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2), w20, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + c), w21, a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + (2 * c)), w22, a);
                Store(o, a, mode, min, max, slope);
                i0 += 2 * c;
                i1 += 2 * c;
                i2 += 2 * c;
                o += os;
            }

            for (int ox = end; ox < g.OutputWidth; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }
        }
    }

    /// <summary>One output row of any depthwise layer: each pixel checks its taps against the image, all channel blocks per pixel.</summary>
    [SkipLocalsInit]
    public static void RowGeneral(in DepthwiseGeometry g, float* image, float* weights, float* bias, float* output, int oy)
    {
        nint os = g.OutputPixelStride;
        int mode = g.Activation.Mode;
        var min = Vector512.Create(g.Activation.Min);
        var max = Vector512.Create(g.Activation.Max);
        var slope = Vector512.Create(g.Activation.Slope);
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < g.ChannelBlocks; block++)
            {
                nint cb = Math.Min(block * Width, g.Channels - Width);
                var a = Pixel(in g, image, weights + cb, Vector512.Load(bias + cb), oy, ox, cb);
                Store(output + (ox * os) + cb, a, mode, min, max, slope);
            }
        }
    }

    /// <summary>Adds one kernel row of four stride-1 pixels: input columns 0..5 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(
        float* i, nint c, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var v0 = Vector512.Load(i);
        var v1 = Vector512.Load(i + c);
        var v2 = Vector512.Load(i + (2 * c));
        a0 = Vector512.FusedMultiplyAdd(v0, k0, a0);
        a0 = Vector512.FusedMultiplyAdd(v1, k1, a0);
        a0 = Vector512.FusedMultiplyAdd(v2, k2, a0);
        var v3 = Vector512.Load(i + (3 * c));
        a1 = Vector512.FusedMultiplyAdd(v1, k0, a1);
        a1 = Vector512.FusedMultiplyAdd(v2, k1, a1);
        a1 = Vector512.FusedMultiplyAdd(v3, k2, a1);
        var v4 = Vector512.Load(i + (4 * c));
        a2 = Vector512.FusedMultiplyAdd(v2, k0, a2);
        a2 = Vector512.FusedMultiplyAdd(v3, k1, a2);
        a2 = Vector512.FusedMultiplyAdd(v4, k2, a2);
        var v5 = Vector512.Load(i + (5 * c));
        a3 = Vector512.FusedMultiplyAdd(v3, k0, a3);
        a3 = Vector512.FusedMultiplyAdd(v4, k1, a3);
        a3 = Vector512.FusedMultiplyAdd(v5, k2, a3);
    }

    /// <summary>Adds one kernel row of four stride-2 pixels: input columns 0..8 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4Stride2(
        float* i, nint c, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        var v0 = Vector512.Load(i);
        var v1 = Vector512.Load(i + c);
        var v2 = Vector512.Load(i + (2 * c));
        a0 = Vector512.FusedMultiplyAdd(v0, k0, a0);
        a0 = Vector512.FusedMultiplyAdd(v1, k1, a0);
        a0 = Vector512.FusedMultiplyAdd(v2, k2, a0);
        var v3 = Vector512.Load(i + (3 * c));
        var v4 = Vector512.Load(i + (4 * c));
        a1 = Vector512.FusedMultiplyAdd(v2, k0, a1);
        a1 = Vector512.FusedMultiplyAdd(v3, k1, a1);
        a1 = Vector512.FusedMultiplyAdd(v4, k2, a1);
        var v5 = Vector512.Load(i + (5 * c));
        var v6 = Vector512.Load(i + (6 * c));
        a2 = Vector512.FusedMultiplyAdd(v4, k0, a2);
        a2 = Vector512.FusedMultiplyAdd(v5, k1, a2);
        a2 = Vector512.FusedMultiplyAdd(v6, k2, a2);
        var v7 = Vector512.Load(i + (7 * c));
        var v8 = Vector512.Load(i + (8 * c));
        a3 = Vector512.FusedMultiplyAdd(v6, k0, a3);
        a3 = Vector512.FusedMultiplyAdd(v7, k1, a3);
        a3 = Vector512.FusedMultiplyAdd(v8, k2, a3);
    }

    /// <summary>One pixel of one channel block, every tap checked against the image (padding contributes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pixel(in DepthwiseGeometry g, float* image, float* w, Vector512<float> acc, int oy, int ox, nint cb)
    {
        nint c = g.Channels;
        nint ws = g.WeightStride;
        int iy0 = (oy * g.StrideHeight) - g.PadTop;
        int ix0 = (ox * g.StrideWidth) - g.PadLeft;
        for (int ky = 0; ky < g.KernelHeight; ky++)
        {
            int iy = iy0 + (ky * g.DilationHeight);
            if ((uint)iy >= (uint)g.InputHeight)
            {
                continue;
            }

            float* irow = image + ((nint)iy * g.InputWidth * c) + cb;
            float* wrow = w + ((nint)ky * g.KernelWidth * ws);
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int ix = ix0 + (kx * g.DilationWidth);
                if ((uint)ix < (uint)g.InputWidth)
                {
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(irow + (ix * c)), Vector512.Load(wrow + (kx * ws)), acc);
                }
            }
        }

        return acc;
    }

    /// <summary>Stores one vector with the fused activation (the same single-rounding leaky form as the scalar definition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, Vector512<float> v, int mode, Vector512<float> min, Vector512<float> max, Vector512<float> slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v = Vector512.Min(Vector512.Max(v, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v = Vector512.FusedMultiplyAdd(Vector512.Min(v, Vector512<float>.Zero), slope, Vector512.Max(v, Vector512<float>.Zero));
        }

        v.Store(o);
    }
}
