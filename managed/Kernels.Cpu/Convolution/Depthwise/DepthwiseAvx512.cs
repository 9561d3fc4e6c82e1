using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-*-avx512: depthwise rows vectorized over 16 channels. Weights are packed [KH][KW][C rounded up
/// to 16] so one load gives one tap of 16 channels. The 3x3 kernels step four output pixels at a time (eight
/// for stride 1: ten input columns per kernel row for 24 FMAs, 7% faster on 112x112x32 than four) and run
/// all channel blocks of that step before moving on: a block's nine weight vectors are loaded into registers
/// once per step and each is used four times, the input columns once per kernel row (six for stride 1, nine
/// for stride 2). Channel blocks inner keeps each row's accesses one contiguous stream. Open: layers whose
/// pixel stride is a multiple of 4 KiB (1024 channels) run at about a third of the speed of 1008 channels
/// (every column of a step falls in one L1 set, and loads alias earlier stores); either loop order does.
/// Rows above or below the image read a zero row instead of being checked; columns whose kernel overlaps the
/// left or right padding go through the checked general pixel.
/// </summary>
internal static unsafe class DepthwiseAvx512
{
    public const int Width = 16;

    /// <summary>One output row of a 3x3 stride-1 layer (dilation 1): eight, then four pixels per step share ten or six input columns per kernel row.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector512.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }

        nint ix = begin - g.PadLeft;
        float* i0 = row0 + (ix * c);
        float* i1 = row1 + (ix * c);
        float* i2 = row2 + (ix * c);
        float* o = output + (begin * os);
        int x = begin;
        for (; x + 8 <= end; x += 8)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a0 = Vector512.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                var a4 = a0;
                var a5 = a0;
                var a6 = a0;
                var a7 = a0;
                Row8(i0 + cb, c, Vector512.Load(w), Vector512.Load(w + ws), Vector512.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                Row8(i1 + cb, c, Vector512.Load(w + (3 * ws)), Vector512.Load(w + (4 * ws)), Vector512.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                Row8(i2 + cb, c, Vector512.Load(w + (6 * ws)), Vector512.Load(w + (7 * ws)), Vector512.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                float* ob = o + cb;
                Store(ob, a0, mode, min, max, slope);
                Store(ob + os, a1, mode, min, max, slope);
                Store(ob + (2 * os), a2, mode, min, max, slope);
                Store(ob + (3 * os), a3, mode, min, max, slope);
                Store(ob + (4 * os), a4, mode, min, max, slope);
                Store(ob + (5 * os), a5, mode, min, max, slope);
                Store(ob + (6 * os), a6, mode, min, max, slope);
                Store(ob + (7 * os), a7, mode, min, max, slope);
            }

            i0 += 8 * c;
            i1 += 8 * c;
            i2 += 8 * c;
            o += 8 * os;
        }

        for (; x + 4 <= end; x += 4)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a0 = Vector512.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4(i0 + cb, c, Vector512.Load(w), Vector512.Load(w + ws), Vector512.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i1 + cb, c, Vector512.Load(w + (3 * ws)), Vector512.Load(w + (4 * ws)), Vector512.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i2 + cb, c, Vector512.Load(w + (6 * ws)), Vector512.Load(w + (7 * ws)), Vector512.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
                Store(o + cb, a0, mode, min, max, slope);
                Store(o + os + cb, a1, mode, min, max, slope);
                Store(o + (2 * os) + cb, a2, mode, min, max, slope);
                Store(o + (3 * os) + cb, a3, mode, min, max, slope);
            }

            i0 += 4 * c;
            i1 += 4 * c;
            i2 += 4 * c;
            o += 4 * os;
        }

        for (; x < end; x++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a = Vector512.Load(bias + cb);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + cb), Vector512.Load(w), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + c + cb), Vector512.Load(w + ws), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + (2 * c) + cb), Vector512.Load(w + (2 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + cb), Vector512.Load(w + (3 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + c + cb), Vector512.Load(w + (4 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + (2 * c) + cb), Vector512.Load(w + (5 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + cb), Vector512.Load(w + (6 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + c + cb), Vector512.Load(w + (7 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + (2 * c) + cb), Vector512.Load(w + (8 * ws)), a);
                Store(o + cb, a, mode, min, max, slope);
            }

            i0 += c;
            i1 += c;
            i2 += c;
            o += os;
        }

        for (int ox = end; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector512.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }
    }

    /// <summary>One output row of a 3x3 stride-2 layer (dilation 1): four pixels per step share nine input columns per kernel row.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector512.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }

        nint ix = (begin * 2) - g.PadLeft;
        float* i0 = row0 + (ix * c);
        float* i1 = row1 + (ix * c);
        float* i2 = row2 + (ix * c);
        float* o = output + (begin * os);
        int x = begin;
        for (; x + 4 <= end; x += 4)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a0 = Vector512.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4Stride2(i0 + cb, c, Vector512.Load(w), Vector512.Load(w + ws), Vector512.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i1 + cb, c, Vector512.Load(w + (3 * ws)), Vector512.Load(w + (4 * ws)), Vector512.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i2 + cb, c, Vector512.Load(w + (6 * ws)), Vector512.Load(w + (7 * ws)), Vector512.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
                Store(o + cb, a0, mode, min, max, slope);
                Store(o + os + cb, a1, mode, min, max, slope);
                Store(o + (2 * os) + cb, a2, mode, min, max, slope);
                Store(o + (3 * os) + cb, a3, mode, min, max, slope);
            }

            i0 += 8 * c;
            i1 += 8 * c;
            i2 += 8 * c;
            o += 4 * os;
        }

        for (; x < end; x++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a = Vector512.Load(bias + cb);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + cb), Vector512.Load(w), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + c + cb), Vector512.Load(w + ws), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i0 + (2 * c) + cb), Vector512.Load(w + (2 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + cb), Vector512.Load(w + (3 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + c + cb), Vector512.Load(w + (4 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i1 + (2 * c) + cb), Vector512.Load(w + (5 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + cb), Vector512.Load(w + (6 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + c + cb), Vector512.Load(w + (7 * ws)), a);
                a = Vector512.FusedMultiplyAdd(Vector512.Load(i2 + (2 * c) + cb), Vector512.Load(w + (8 * ws)), a);
                Store(o + cb, a, mode, min, max, slope);
            }

            i0 += 2 * c;
            i1 += 2 * c;
            i2 += 2 * c;
            o += os;
        }

        for (int ox = end; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector512.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }
    }

    /// <summary>One output row of any depthwise layer: each pixel checks its taps against the image, all channel blocks per pixel.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>Adds one kernel row of eight stride-1 pixels: input columns 0..9 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row8(
        float* i, nint c, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        ref Vector512<float> a4, ref Vector512<float> a5, ref Vector512<float> a6, ref Vector512<float> a7)
    {
        var v0 = Vector512.Load(i);
        var v1 = Vector512.Load(i + c);
        a0 = Vector512.FusedMultiplyAdd(v0, k0, a0);
        a0 = Vector512.FusedMultiplyAdd(v1, k1, a0);
        a1 = Vector512.FusedMultiplyAdd(v1, k0, a1);
        var v2 = Vector512.Load(i + (2 * c));
        a0 = Vector512.FusedMultiplyAdd(v2, k2, a0);
        a1 = Vector512.FusedMultiplyAdd(v2, k1, a1);
        a2 = Vector512.FusedMultiplyAdd(v2, k0, a2);
        var v3 = Vector512.Load(i + (3 * c));
        a1 = Vector512.FusedMultiplyAdd(v3, k2, a1);
        a2 = Vector512.FusedMultiplyAdd(v3, k1, a2);
        a3 = Vector512.FusedMultiplyAdd(v3, k0, a3);
        var v4 = Vector512.Load(i + (4 * c));
        a2 = Vector512.FusedMultiplyAdd(v4, k2, a2);
        a3 = Vector512.FusedMultiplyAdd(v4, k1, a3);
        a4 = Vector512.FusedMultiplyAdd(v4, k0, a4);
        var v5 = Vector512.Load(i + (5 * c));
        a3 = Vector512.FusedMultiplyAdd(v5, k2, a3);
        a4 = Vector512.FusedMultiplyAdd(v5, k1, a4);
        a5 = Vector512.FusedMultiplyAdd(v5, k0, a5);
        var v6 = Vector512.Load(i + (6 * c));
        a4 = Vector512.FusedMultiplyAdd(v6, k2, a4);
        a5 = Vector512.FusedMultiplyAdd(v6, k1, a5);
        a6 = Vector512.FusedMultiplyAdd(v6, k0, a6);
        var v7 = Vector512.Load(i + (7 * c));
        a5 = Vector512.FusedMultiplyAdd(v7, k2, a5);
        a6 = Vector512.FusedMultiplyAdd(v7, k1, a6);
        a7 = Vector512.FusedMultiplyAdd(v7, k0, a7);
        var v8 = Vector512.Load(i + (8 * c));
        a6 = Vector512.FusedMultiplyAdd(v8, k2, a6);
        a7 = Vector512.FusedMultiplyAdd(v8, k1, a7);
        var v9 = Vector512.Load(i + (9 * c));
        a7 = Vector512.FusedMultiplyAdd(v9, k2, a7);
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
