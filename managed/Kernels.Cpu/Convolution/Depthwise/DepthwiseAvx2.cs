using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-*-avx2: depthwise rows vectorized over 8 channels. Weights are packed [KH][KW][C rounded up
/// to 8] so one load gives one tap of 8 channels. The 3x3 kernels step four output pixels at a time and run
/// all channel blocks of that step before moving on: a block's nine weight vectors are loaded into registers
/// once per step and each is used four times, the input columns once per kernel row (six for stride 1, nine
/// for stride 2). Channel blocks inner keeps each row's accesses one contiguous stream. Open: layers whose
/// pixel stride is a multiple of 4 KiB (1024 channels) run at about a third of the speed of 1008 channels, measured with AVX-512
/// (every column of a step falls in one L1 set, and loads alias earlier stores); either loop order does.
/// Rows above or below the image read a zero row instead of being checked; columns whose kernel overlaps the
/// left or right padding go through the checked general pixel.
/// </summary>
internal static unsafe class DepthwiseAvx2
{
    public const int Width = 8;

    /// <summary>One output row of a 3x3 stride-1 layer (dilation 1): four pixels per step share six input columns per kernel row.</summary>
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
        var min = Vector256.Create(g.Activation.Min);
        var max = Vector256.Create(g.Activation.Max);
        var slope = Vector256.Create(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector256.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }

        nint ix = begin - g.PadLeft;
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
                var a0 = Vector256.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4(i0 + cb, c, Vector256.Load(w), Vector256.Load(w + ws), Vector256.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i1 + cb, c, Vector256.Load(w + (3 * ws)), Vector256.Load(w + (4 * ws)), Vector256.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i2 + cb, c, Vector256.Load(w + (6 * ws)), Vector256.Load(w + (7 * ws)), Vector256.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
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
                var a = Vector256.Load(bias + cb);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + cb), Vector256.Load(w), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + c + cb), Vector256.Load(w + ws), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + (2 * c) + cb), Vector256.Load(w + (2 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + cb), Vector256.Load(w + (3 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + c + cb), Vector256.Load(w + (4 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + (2 * c) + cb), Vector256.Load(w + (5 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + cb), Vector256.Load(w + (6 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + c + cb), Vector256.Load(w + (7 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + (2 * c) + cb), Vector256.Load(w + (8 * ws)), a);
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
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector256.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
        var min = Vector256.Create(g.Activation.Min);
        var max = Vector256.Create(g.Activation.Max);
        var slope = Vector256.Create(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector256.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
                var a0 = Vector256.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4Stride2(i0 + cb, c, Vector256.Load(w), Vector256.Load(w + ws), Vector256.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i1 + cb, c, Vector256.Load(w + (3 * ws)), Vector256.Load(w + (4 * ws)), Vector256.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i2 + cb, c, Vector256.Load(w + (6 * ws)), Vector256.Load(w + (7 * ws)), Vector256.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
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
                var a = Vector256.Load(bias + cb);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + cb), Vector256.Load(w), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + c + cb), Vector256.Load(w + ws), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i0 + (2 * c) + cb), Vector256.Load(w + (2 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + cb), Vector256.Load(w + (3 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + c + cb), Vector256.Load(w + (4 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i1 + (2 * c) + cb), Vector256.Load(w + (5 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + cb), Vector256.Load(w + (6 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + c + cb), Vector256.Load(w + (7 * ws)), a);
                a = Vector256.FusedMultiplyAdd(Vector256.Load(i2 + (2 * c) + cb), Vector256.Load(w + (8 * ws)), a);
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
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, Vector256.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
        var min = Vector256.Create(g.Activation.Min);
        var max = Vector256.Create(g.Activation.Max);
        var slope = Vector256.Create(g.Activation.Slope);
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < g.ChannelBlocks; block++)
            {
                nint cb = Math.Min(block * Width, g.Channels - Width);
                var a = Pixel(in g, image, weights + cb, Vector256.Load(bias + cb), oy, ox, cb);
                Store(output + (ox * os) + cb, a, mode, min, max, slope);
            }
        }
    }

    /// <summary>Adds one kernel row of four stride-1 pixels: input columns 0..5 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(
        float* i, nint c, Vector256<float> k0, Vector256<float> k1, Vector256<float> k2,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var v0 = Vector256.Load(i);
        var v1 = Vector256.Load(i + c);
        var v2 = Vector256.Load(i + (2 * c));
        a0 = Vector256.FusedMultiplyAdd(v0, k0, a0);
        a0 = Vector256.FusedMultiplyAdd(v1, k1, a0);
        a0 = Vector256.FusedMultiplyAdd(v2, k2, a0);
        var v3 = Vector256.Load(i + (3 * c));
        a1 = Vector256.FusedMultiplyAdd(v1, k0, a1);
        a1 = Vector256.FusedMultiplyAdd(v2, k1, a1);
        a1 = Vector256.FusedMultiplyAdd(v3, k2, a1);
        var v4 = Vector256.Load(i + (4 * c));
        a2 = Vector256.FusedMultiplyAdd(v2, k0, a2);
        a2 = Vector256.FusedMultiplyAdd(v3, k1, a2);
        a2 = Vector256.FusedMultiplyAdd(v4, k2, a2);
        var v5 = Vector256.Load(i + (5 * c));
        a3 = Vector256.FusedMultiplyAdd(v3, k0, a3);
        a3 = Vector256.FusedMultiplyAdd(v4, k1, a3);
        a3 = Vector256.FusedMultiplyAdd(v5, k2, a3);
    }

    /// <summary>Adds one kernel row of four stride-2 pixels: input columns 0..8 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4Stride2(
        float* i, nint c, Vector256<float> k0, Vector256<float> k1, Vector256<float> k2,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var v0 = Vector256.Load(i);
        var v1 = Vector256.Load(i + c);
        var v2 = Vector256.Load(i + (2 * c));
        a0 = Vector256.FusedMultiplyAdd(v0, k0, a0);
        a0 = Vector256.FusedMultiplyAdd(v1, k1, a0);
        a0 = Vector256.FusedMultiplyAdd(v2, k2, a0);
        var v3 = Vector256.Load(i + (3 * c));
        var v4 = Vector256.Load(i + (4 * c));
        a1 = Vector256.FusedMultiplyAdd(v2, k0, a1);
        a1 = Vector256.FusedMultiplyAdd(v3, k1, a1);
        a1 = Vector256.FusedMultiplyAdd(v4, k2, a1);
        var v5 = Vector256.Load(i + (5 * c));
        var v6 = Vector256.Load(i + (6 * c));
        a2 = Vector256.FusedMultiplyAdd(v4, k0, a2);
        a2 = Vector256.FusedMultiplyAdd(v5, k1, a2);
        a2 = Vector256.FusedMultiplyAdd(v6, k2, a2);
        var v7 = Vector256.Load(i + (7 * c));
        var v8 = Vector256.Load(i + (8 * c));
        a3 = Vector256.FusedMultiplyAdd(v6, k0, a3);
        a3 = Vector256.FusedMultiplyAdd(v7, k1, a3);
        a3 = Vector256.FusedMultiplyAdd(v8, k2, a3);
    }

    /// <summary>One pixel of one channel block, every tap checked against the image (padding contributes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Pixel(in DepthwiseGeometry g, float* image, float* w, Vector256<float> acc, int oy, int ox, nint cb)
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
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(irow + (ix * c)), Vector256.Load(wrow + (kx * ws)), acc);
                }
            }
        }

        return acc;
    }

    /// <summary>Stores one vector with the fused activation (the same single-rounding leaky form as the scalar definition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, Vector256<float> v, int mode, Vector256<float> min, Vector256<float> max, Vector256<float> slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v = Vector256.Min(Vector256.Max(v, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v = Vector256.FusedMultiplyAdd(Vector256.Min(v, Vector256<float>.Zero), slope, Vector256.Max(v, Vector256<float>.Zero));
        }

        v.Store(o);
    }
}
