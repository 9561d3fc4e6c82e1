using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-*-avx512 (<see cref="Avx512Lanes"/>) and f32-dwconv-*-avx2 (<see cref="Avx2Lanes"/>): depthwise rows
/// vectorized over 16 or 8 channels, written once for both widths. Weights are packed [KH][KW][C rounded up to
/// the width] so one load gives one tap of a vector of channels. The 3x3 kernels step four output pixels at a
/// time (with AVX-512 eight for stride 1: ten input columns per kernel row for 24 FMAs, 7% faster on 112x112x32
/// than four; AVX2's 16 ymm do not hold eight accumulators, nine weights and the inputs) and run
/// all channel blocks of that step before moving on: a block's nine weight vectors are loaded into registers
/// once per step and each is used four times, the input columns once per kernel row (six for stride 1, nine
/// for stride 2). Channel blocks inner keeps each row's accesses one contiguous stream. Open: layers whose
/// pixel stride is a multiple of 4 KiB (1024 channels) run at about a third of the speed of 1008 channels
/// (every column of a step falls in one L1 set, and loads alias earlier stores); either loop order does.
/// Rows above or below the image read a zero row instead of being checked; columns whose kernel overlaps the
/// left or right padding go through the checked general pixel.
/// </summary>
internal static unsafe class DepthwiseVector<TLanes>
    where TLanes : unmanaged, IFloatLanes<TLanes>
{
    /// <summary>Channels per vector.</summary>
    public static int Width => TLanes.Count;

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
        var min = TLanes.Splat(g.Activation.Min);
        var max = TLanes.Splat(g.Activation.Max);
        var slope = TLanes.Splat(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, TLanes.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
            }
        }

        nint ix = begin - g.PadLeft;
        float* i0 = row0 + (ix * c);
        float* i1 = row1 + (ix * c);
        float* i2 = row2 + (ix * c);
        float* o = output + (begin * os);
        int x = begin;
        int steps8 = TLanes.Count >= 16 ? (end - x) / 8 : 0;
        if (steps8 > 0)
        {
            Columns8(i0, i1, i2, o, steps8, c, ws, os, weights, bias, blocks, lastBlock, mode, min, max, slope);
            x += 8 * steps8;
            i0 += 8 * steps8 * c;
            i1 += 8 * steps8 * c;
            i2 += 8 * steps8 * c;
            o += 8 * steps8 * os;
        }

        int steps4 = (end - x) / 4;
        if (steps4 > 0)
        {
            Columns4(i0, i1, i2, o, steps4, c, ws, os, weights, bias, blocks, lastBlock, mode, min, max, slope);
            x += 4 * steps4;
            i0 += 4 * steps4 * c;
            i1 += 4 * steps4 * c;
            i2 += 4 * steps4 * c;
            o += 4 * steps4 * os;
        }

        for (; x < end; x++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a = TLanes.Load(bias + cb);
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + cb), TLanes.Load(w));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + c + cb), TLanes.Load(w + ws));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + (2 * c) + cb), TLanes.Load(w + (2 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + cb), TLanes.Load(w + (3 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + c + cb), TLanes.Load(w + (4 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + (2 * c) + cb), TLanes.Load(w + (5 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + cb), TLanes.Load(w + (6 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + c + cb), TLanes.Load(w + (7 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + (2 * c) + cb), TLanes.Load(w + (8 * ws)));
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
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, TLanes.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
        var min = TLanes.Splat(g.Activation.Min);
        var max = TLanes.Splat(g.Activation.Max);
        var slope = TLanes.Splat(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        int blocks = g.ChannelBlocks;
        nint lastBlock = c - Width;
        for (int ox = 0; ox < begin; ox++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, TLanes.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
                var a0 = TLanes.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4Stride2(i0 + cb, c, TLanes.Load(w), TLanes.Load(w + ws), TLanes.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i1 + cb, c, TLanes.Load(w + (3 * ws)), TLanes.Load(w + (4 * ws)), TLanes.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4Stride2(i2 + cb, c, TLanes.Load(w + (6 * ws)), TLanes.Load(w + (7 * ws)), TLanes.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
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
                var a = TLanes.Load(bias + cb);
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + cb), TLanes.Load(w));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + c + cb), TLanes.Load(w + ws));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i0 + (2 * c) + cb), TLanes.Load(w + (2 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + cb), TLanes.Load(w + (3 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + c + cb), TLanes.Load(w + (4 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i1 + (2 * c) + cb), TLanes.Load(w + (5 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + cb), TLanes.Load(w + (6 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + c + cb), TLanes.Load(w + (7 * ws)));
                a = TLanes.MultiplyAdd(a, TLanes.Load(i2 + (2 * c) + cb), TLanes.Load(w + (8 * ws)));
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
                Store(output + (ox * os) + cb, Pixel(in g, image, weights + cb, TLanes.Load(bias + cb), oy, ox, cb), mode, min, max, slope);
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
        var min = TLanes.Splat(g.Activation.Min);
        var max = TLanes.Splat(g.Activation.Max);
        var slope = TLanes.Splat(g.Activation.Slope);
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < g.ChannelBlocks; block++)
            {
                nint cb = Math.Min(block * Width, g.Channels - Width);
                var a = Pixel(in g, image, weights + cb, TLanes.Load(bias + cb), oy, ox, cb);
                Store(output + (ox * os) + cb, a, mode, min, max, slope);
            }
        }
    }

    /// <summary>
    /// <paramref name="steps"/> × eight stride-1 pixels of every channel block. A method of its own (not inlined) so that its lane calls get the
    /// JIT's whole inlining budget: in one method with the four-pixel step they exceeded it and stayed calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Columns8(
        float* i0, float* i1, float* i2, float* o, int steps, nint c, nint ws, nint os, float* weights, float* bias, int blocks, nint lastBlock,
        int mode, TLanes min, TLanes max, TLanes slope)
    {
        for (int step = 0; step < steps; step++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a0 = TLanes.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                var a4 = a0;
                var a5 = a0;
                var a6 = a0;
                var a7 = a0;
                Row8(i0 + cb, c, TLanes.Load(w), TLanes.Load(w + ws), TLanes.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                Row8(i1 + cb, c, TLanes.Load(w + (3 * ws)), TLanes.Load(w + (4 * ws)), TLanes.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                Row8(i2 + cb, c, TLanes.Load(w + (6 * ws)), TLanes.Load(w + (7 * ws)), TLanes.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
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
    }

    /// <summary><paramref name="steps"/> × four stride-1 pixels of every channel block (see <see cref="Columns8"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Columns4(
        float* i0, float* i1, float* i2, float* o, int steps, nint c, nint ws, nint os, float* weights, float* bias, int blocks, nint lastBlock,
        int mode, TLanes min, TLanes max, TLanes slope)
    {
        for (int step = 0; step < steps; step++)
        {
            for (int block = 0; block < blocks; block++)
            {
                nint cb = Math.Min(block * Width, lastBlock);
                float* w = weights + cb;
                var a0 = TLanes.Load(bias + cb);
                var a1 = a0;
                var a2 = a0;
                var a3 = a0;
                Row4(i0 + cb, c, TLanes.Load(w), TLanes.Load(w + ws), TLanes.Load(w + (2 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i1 + cb, c, TLanes.Load(w + (3 * ws)), TLanes.Load(w + (4 * ws)), TLanes.Load(w + (5 * ws)), ref a0, ref a1, ref a2, ref a3);
                Row4(i2 + cb, c, TLanes.Load(w + (6 * ws)), TLanes.Load(w + (7 * ws)), TLanes.Load(w + (8 * ws)), ref a0, ref a1, ref a2, ref a3);
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
    }

    /// <summary>Adds one kernel row of eight stride-1 pixels: input columns 0..9 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row8(
        float* i, nint c, TLanes k0, TLanes k1, TLanes k2,
        ref TLanes a0, ref TLanes a1, ref TLanes a2, ref TLanes a3,
        ref TLanes a4, ref TLanes a5, ref TLanes a6, ref TLanes a7)
    {
        var v0 = TLanes.Load(i);
        var v1 = TLanes.Load(i + c);
        a0 = TLanes.MultiplyAdd(a0, v0, k0);
        a0 = TLanes.MultiplyAdd(a0, v1, k1);
        a1 = TLanes.MultiplyAdd(a1, v1, k0);
        var v2 = TLanes.Load(i + (2 * c));
        a0 = TLanes.MultiplyAdd(a0, v2, k2);
        a1 = TLanes.MultiplyAdd(a1, v2, k1);
        a2 = TLanes.MultiplyAdd(a2, v2, k0);
        var v3 = TLanes.Load(i + (3 * c));
        a1 = TLanes.MultiplyAdd(a1, v3, k2);
        a2 = TLanes.MultiplyAdd(a2, v3, k1);
        a3 = TLanes.MultiplyAdd(a3, v3, k0);
        var v4 = TLanes.Load(i + (4 * c));
        a2 = TLanes.MultiplyAdd(a2, v4, k2);
        a3 = TLanes.MultiplyAdd(a3, v4, k1);
        a4 = TLanes.MultiplyAdd(a4, v4, k0);
        var v5 = TLanes.Load(i + (5 * c));
        a3 = TLanes.MultiplyAdd(a3, v5, k2);
        a4 = TLanes.MultiplyAdd(a4, v5, k1);
        a5 = TLanes.MultiplyAdd(a5, v5, k0);
        var v6 = TLanes.Load(i + (6 * c));
        a4 = TLanes.MultiplyAdd(a4, v6, k2);
        a5 = TLanes.MultiplyAdd(a5, v6, k1);
        a6 = TLanes.MultiplyAdd(a6, v6, k0);
        var v7 = TLanes.Load(i + (7 * c));
        a5 = TLanes.MultiplyAdd(a5, v7, k2);
        a6 = TLanes.MultiplyAdd(a6, v7, k1);
        a7 = TLanes.MultiplyAdd(a7, v7, k0);
        var v8 = TLanes.Load(i + (8 * c));
        a6 = TLanes.MultiplyAdd(a6, v8, k2);
        a7 = TLanes.MultiplyAdd(a7, v8, k1);
        var v9 = TLanes.Load(i + (9 * c));
        a7 = TLanes.MultiplyAdd(a7, v9, k2);
    }

    /// <summary>Adds one kernel row of four stride-1 pixels: input columns 0..5 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(
        float* i, nint c, TLanes k0, TLanes k1, TLanes k2,
        ref TLanes a0, ref TLanes a1, ref TLanes a2, ref TLanes a3)
    {
        var v0 = TLanes.Load(i);
        var v1 = TLanes.Load(i + c);
        var v2 = TLanes.Load(i + (2 * c));
        a0 = TLanes.MultiplyAdd(a0, v0, k0);
        a0 = TLanes.MultiplyAdd(a0, v1, k1);
        a0 = TLanes.MultiplyAdd(a0, v2, k2);
        var v3 = TLanes.Load(i + (3 * c));
        a1 = TLanes.MultiplyAdd(a1, v1, k0);
        a1 = TLanes.MultiplyAdd(a1, v2, k1);
        a1 = TLanes.MultiplyAdd(a1, v3, k2);
        var v4 = TLanes.Load(i + (4 * c));
        a2 = TLanes.MultiplyAdd(a2, v2, k0);
        a2 = TLanes.MultiplyAdd(a2, v3, k1);
        a2 = TLanes.MultiplyAdd(a2, v4, k2);
        var v5 = TLanes.Load(i + (5 * c));
        a3 = TLanes.MultiplyAdd(a3, v3, k0);
        a3 = TLanes.MultiplyAdd(a3, v4, k1);
        a3 = TLanes.MultiplyAdd(a3, v5, k2);
    }

    /// <summary>Adds one kernel row of four stride-2 pixels: input columns 0..8 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4Stride2(
        float* i, nint c, TLanes k0, TLanes k1, TLanes k2,
        ref TLanes a0, ref TLanes a1, ref TLanes a2, ref TLanes a3)
    {
        var v0 = TLanes.Load(i);
        var v1 = TLanes.Load(i + c);
        var v2 = TLanes.Load(i + (2 * c));
        a0 = TLanes.MultiplyAdd(a0, v0, k0);
        a0 = TLanes.MultiplyAdd(a0, v1, k1);
        a0 = TLanes.MultiplyAdd(a0, v2, k2);
        var v3 = TLanes.Load(i + (3 * c));
        var v4 = TLanes.Load(i + (4 * c));
        a1 = TLanes.MultiplyAdd(a1, v2, k0);
        a1 = TLanes.MultiplyAdd(a1, v3, k1);
        a1 = TLanes.MultiplyAdd(a1, v4, k2);
        var v5 = TLanes.Load(i + (5 * c));
        var v6 = TLanes.Load(i + (6 * c));
        a2 = TLanes.MultiplyAdd(a2, v4, k0);
        a2 = TLanes.MultiplyAdd(a2, v5, k1);
        a2 = TLanes.MultiplyAdd(a2, v6, k2);
        var v7 = TLanes.Load(i + (7 * c));
        var v8 = TLanes.Load(i + (8 * c));
        a3 = TLanes.MultiplyAdd(a3, v6, k0);
        a3 = TLanes.MultiplyAdd(a3, v7, k1);
        a3 = TLanes.MultiplyAdd(a3, v8, k2);
    }

    /// <summary>One pixel of one channel block, every tap checked against the image (padding contributes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TLanes Pixel(in DepthwiseGeometry g, float* image, float* w, TLanes acc, int oy, int ox, nint cb)
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
                    acc = TLanes.MultiplyAdd(acc, TLanes.Load(irow + (ix * c)), TLanes.Load(wrow + (kx * ws)));
                }
            }
        }

        return acc;
    }

    /// <summary>Stores one vector with the fused activation (the same single-rounding leaky form as the scalar definition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, TLanes v, int mode, TLanes min, TLanes max, TLanes slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v = TLanes.Min(TLanes.Max(v, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v = TLanes.MultiplyAdd(TLanes.Max(v, TLanes.Splat(0f)), TLanes.Min(v, TLanes.Splat(0f)), slope);
        }

        TLanes.Store(o, v);
    }
}
