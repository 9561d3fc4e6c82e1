using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-*-advsimd: depthwise rows on 4-channel q registers, written
/// against the <see cref="Neon"/> shim so the x86 tests run them bit-exact and tests/arm64-codegen proves they
/// compile to <c>fmla v.4s</c> with no calls. Unlike the x86 kernels the channel block is the outer loop of a
/// row: AdvSimd cores have fewer load ports per FMA, so the nine weight vectors and the bias stay in registers
/// for the whole row (loaded once per row, not once per four pixels). With four
/// accumulators and up to nine input columns that is 23 of the 32 q registers, no spills.
/// </summary>
internal static unsafe class DepthwiseAdvSimd
{
    public const int Width = 4;

    /// <summary>One output row of a 3x3 stride-1 layer (dilation 1): four pixels per step share six input columns per kernel row.</summary>
    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.4s", @"ldr +q|ld1 +\{|ldp +q")]
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
        var min = Neon.DuplicateToVector128(g.Activation.Min);
        var max = Neon.DuplicateToVector128(g.Activation.Max);
        var slope = Neon.DuplicateToVector128(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        for (int block = 0; block < g.ChannelBlocks; block++)
        {
            nint cb = Math.Min(block * Width, g.Channels - Width);
            float* w = weights + cb;
            var b = Neon.LoadVector128(bias + cb);
            for (int ox = 0; ox < begin; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }

            var w00 = Neon.LoadVector128(w);
            var w01 = Neon.LoadVector128(w + ws);
            var w02 = Neon.LoadVector128(w + (2 * ws));
            var w10 = Neon.LoadVector128(w + (3 * ws));
            var w11 = Neon.LoadVector128(w + (4 * ws));
            var w12 = Neon.LoadVector128(w + (5 * ws));
            var w20 = Neon.LoadVector128(w + (6 * ws));
            var w21 = Neon.LoadVector128(w + (7 * ws));
            var w22 = Neon.LoadVector128(w + (8 * ws));
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
                a = Fma(Neon.LoadVector128(i0), w00, a);
                a = Fma(Neon.LoadVector128(i0 + c), w01, a);
                a = Fma(Neon.LoadVector128(i0 + (2 * c)), w02, a);
                a = Fma(Neon.LoadVector128(i1), w10, a);
                a = Fma(Neon.LoadVector128(i1 + c), w11, a);
                a = Fma(Neon.LoadVector128(i1 + (2 * c)), w12, a);
                a = Fma(Neon.LoadVector128(i2), w20, a);
                a = Fma(Neon.LoadVector128(i2 + c), w21, a);
                a = Fma(Neon.LoadVector128(i2 + (2 * c)), w22, a);
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
    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.4s", @"ldr +q|ld1 +\{|ldp +q")]
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
        var min = Neon.DuplicateToVector128(g.Activation.Min);
        var max = Neon.DuplicateToVector128(g.Activation.Max);
        var slope = Neon.DuplicateToVector128(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        for (int block = 0; block < g.ChannelBlocks; block++)
        {
            nint cb = Math.Min(block * Width, g.Channels - Width);
            float* w = weights + cb;
            var b = Neon.LoadVector128(bias + cb);
            for (int ox = 0; ox < begin; ox++)
            {
                Store(output + (ox * os) + cb, Pixel(in g, image, w, b, oy, ox, cb), mode, min, max, slope);
            }

            var w00 = Neon.LoadVector128(w);
            var w01 = Neon.LoadVector128(w + ws);
            var w02 = Neon.LoadVector128(w + (2 * ws));
            var w10 = Neon.LoadVector128(w + (3 * ws));
            var w11 = Neon.LoadVector128(w + (4 * ws));
            var w12 = Neon.LoadVector128(w + (5 * ws));
            var w20 = Neon.LoadVector128(w + (6 * ws));
            var w21 = Neon.LoadVector128(w + (7 * ws));
            var w22 = Neon.LoadVector128(w + (8 * ws));
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
                a = Fma(Neon.LoadVector128(i0), w00, a);
                a = Fma(Neon.LoadVector128(i0 + c), w01, a);
                a = Fma(Neon.LoadVector128(i0 + (2 * c)), w02, a);
                a = Fma(Neon.LoadVector128(i1), w10, a);
                a = Fma(Neon.LoadVector128(i1 + c), w11, a);
                a = Fma(Neon.LoadVector128(i1 + (2 * c)), w12, a);
                a = Fma(Neon.LoadVector128(i2), w20, a);
                a = Fma(Neon.LoadVector128(i2 + c), w21, a);
                a = Fma(Neon.LoadVector128(i2 + (2 * c)), w22, a);
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
    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.4s", @"ldr +q|ld1 +\{|ldp +q")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowGeneral(in DepthwiseGeometry g, float* image, float* weights, float* bias, float* output, int oy)
    {
        nint os = g.OutputPixelStride;
        int mode = g.Activation.Mode;
        var min = Neon.DuplicateToVector128(g.Activation.Min);
        var max = Neon.DuplicateToVector128(g.Activation.Max);
        var slope = Neon.DuplicateToVector128(g.Activation.Slope);
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            for (int block = 0; block < g.ChannelBlocks; block++)
            {
                nint cb = Math.Min(block * Width, g.Channels - Width);
                var a = Pixel(in g, image, weights + cb, Neon.LoadVector128(bias + cb), oy, ox, cb);
                Store(output + (ox * os) + cb, a, mode, min, max, slope);
            }
        }
    }

    /// <summary>Adds one kernel row of four stride-1 pixels: input columns 0..5 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4(
        float* i, nint c, Vector128<float> k0, Vector128<float> k1, Vector128<float> k2,
        ref Vector128<float> a0, ref Vector128<float> a1, ref Vector128<float> a2, ref Vector128<float> a3)
    {
        var v0 = Neon.LoadVector128(i);
        var v1 = Neon.LoadVector128(i + c);
        var v2 = Neon.LoadVector128(i + (2 * c));
        a0 = Fma(v0, k0, a0);
        a0 = Fma(v1, k1, a0);
        a0 = Fma(v2, k2, a0);
        var v3 = Neon.LoadVector128(i + (3 * c));
        a1 = Fma(v1, k0, a1);
        a1 = Fma(v2, k1, a1);
        a1 = Fma(v3, k2, a1);
        var v4 = Neon.LoadVector128(i + (4 * c));
        a2 = Fma(v2, k0, a2);
        a2 = Fma(v3, k1, a2);
        a2 = Fma(v4, k2, a2);
        var v5 = Neon.LoadVector128(i + (5 * c));
        a3 = Fma(v3, k0, a3);
        a3 = Fma(v4, k1, a3);
        a3 = Fma(v5, k2, a3);
    }

    /// <summary>Adds one kernel row of four stride-2 pixels: input columns 0..8 each loaded once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row4Stride2(
        float* i, nint c, Vector128<float> k0, Vector128<float> k1, Vector128<float> k2,
        ref Vector128<float> a0, ref Vector128<float> a1, ref Vector128<float> a2, ref Vector128<float> a3)
    {
        var v0 = Neon.LoadVector128(i);
        var v1 = Neon.LoadVector128(i + c);
        var v2 = Neon.LoadVector128(i + (2 * c));
        a0 = Fma(v0, k0, a0);
        a0 = Fma(v1, k1, a0);
        a0 = Fma(v2, k2, a0);
        var v3 = Neon.LoadVector128(i + (3 * c));
        var v4 = Neon.LoadVector128(i + (4 * c));
        a1 = Fma(v2, k0, a1);
        a1 = Fma(v3, k1, a1);
        a1 = Fma(v4, k2, a1);
        var v5 = Neon.LoadVector128(i + (5 * c));
        var v6 = Neon.LoadVector128(i + (6 * c));
        a2 = Fma(v4, k0, a2);
        a2 = Fma(v5, k1, a2);
        a2 = Fma(v6, k2, a2);
        var v7 = Neon.LoadVector128(i + (7 * c));
        var v8 = Neon.LoadVector128(i + (8 * c));
        a3 = Fma(v6, k0, a3);
        a3 = Fma(v7, k1, a3);
        a3 = Fma(v8, k2, a3);
    }

    /// <summary>One pixel of one channel block, every tap checked against the image (padding contributes nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Pixel(in DepthwiseGeometry g, float* image, float* w, Vector128<float> acc, int oy, int ox, nint cb)
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
                    acc = Fma(Neon.LoadVector128(irow + (ix * c)), Neon.LoadVector128(wrow + (kx * ws)), acc);
                }
            }
        }

        return acc;
    }

    /// <summary>acc + a·b through the shim's <c>fmla</c>, in the operand order of the x86 kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> acc) => Neon.FusedMultiplyAdd(acc, a, b);

    /// <summary>Stores one vector with the fused activation (the same single-rounding leaky form as the scalar definition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, Vector128<float> v, int mode, Vector128<float> min, Vector128<float> max, Vector128<float> slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v = Neon.Min(Neon.Max(v, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v = Fma(Neon.Min(v, Vector128<float>.Zero), slope, Neon.Max(v, Vector128<float>.Zero));
        }

        Neon.Store(o, v);
    }
}
