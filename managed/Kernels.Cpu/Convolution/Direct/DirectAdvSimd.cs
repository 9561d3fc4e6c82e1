using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>
/// f32-conv-direct-6x8-advsimd: the direct convolution on q registers through the <see cref="Neon"/> shim
/// (bit-exact in the x86 tests; tests/arm64-codegen proves <c>fmla v.4s</c>, <c>ld1r</c> and no calls). Six
/// output pixels × two vectors of output channels: 12 accumulators, two weight vectors and the input values
/// replicated by <c>ld1r</c> straight from memory, well inside the 32 q registers.
/// </summary>
internal static unsafe class DirectAdvSimd
{
    public const int Width = 4;

    /// <summary>Output channels per block: two vectors.</summary>
    public const int Block = 2 * Width;

    /// <summary>One output row, every output-channel block; kernel rows [kyBegin, kyEnd) are the ones inside the image.</summary>
    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.4s", @"ld1r +\{")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(in DirectGeometry g, float* image, float* weights, float* bias, float* output, int oy, int kyBegin, int kyEnd)
    {
        nint ic = g.InputChannels;
        nint os = g.OutputPixelStride;
        nint rowFloats = (nint)g.InputWidth * ic;
        nint pixelStep = g.StrideWidth * ic;
        nint tapStep = g.DilationWidth * ic;
        int iy0 = (oy * g.StrideHeight) - g.PadTop;
        int mode = g.Activation.Mode;
        var min = Neon.DuplicateToVector128(g.Activation.Min);
        var max = Neon.DuplicateToVector128(g.Activation.Max);
        var slope = Neon.DuplicateToVector128(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        nint kwFloats = (nint)g.KernelWidth * ic * Block;
        for (int block = 0; block < g.Blocks; block++)
        {
            float* wb = weights + ((nint)block * g.BlockFloats);
            var bias0 = Neon.LoadVector128(bias + (block * Block));
            var bias1 = Neon.LoadVector128(bias + (block * Block) + Width);
            int channels = Math.Min(Block, g.OutputChannels - (block * Block));
            float* ob = output + (block * Block);
            int x = 0;
            for (; x < begin; x++)
            {
                Pixel(in g, image, wb, bias0, bias1, iy0, kyBegin, kyEnd, x, ob + (x * os), channels, mode, min, max, slope);
            }

            for (; x + 6 <= end; x += 6)
            {
                var a00 = bias0; var a01 = bias1;
                var a10 = bias0; var a11 = bias1;
                var a20 = bias0; var a21 = bias1;
                var a30 = bias0; var a31 = bias1;
                var a40 = bias0; var a41 = bias1;
                var a50 = bias0; var a51 = bias1;
                nint ix0 = ((nint)x * g.StrideWidth) - g.PadLeft;
                for (int ky = kyBegin; ky < kyEnd; ky++)
                {
                    float* ip = image + ((iy0 + ((nint)ky * g.DilationHeight)) * rowFloats) + (ix0 * ic);
                    float* wp = wb + (ky * kwFloats);
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        for (nint c = 0; c < ic; c++)
                        {
                            var w0 = Neon.LoadVector128(wp);
                            var w1 = Neon.LoadVector128(wp + Width);
                            var x0 = Neon.LoadAndReplicateToVector128(ip + c);
                            a00 = Fma(x0, w0, a00);
                            a01 = Fma(x0, w1, a01);
                            var x1 = Neon.LoadAndReplicateToVector128(ip + (pixelStep + c));
                            a10 = Fma(x1, w0, a10);
                            a11 = Fma(x1, w1, a11);
                            var x2 = Neon.LoadAndReplicateToVector128(ip + ((2 * pixelStep) + c));
                            a20 = Fma(x2, w0, a20);
                            a21 = Fma(x2, w1, a21);
                            var x3 = Neon.LoadAndReplicateToVector128(ip + ((3 * pixelStep) + c));
                            a30 = Fma(x3, w0, a30);
                            a31 = Fma(x3, w1, a31);
                            var x4 = Neon.LoadAndReplicateToVector128(ip + ((4 * pixelStep) + c));
                            a40 = Fma(x4, w0, a40);
                            a41 = Fma(x4, w1, a41);
                            var x5 = Neon.LoadAndReplicateToVector128(ip + ((5 * pixelStep) + c));
                            a50 = Fma(x5, w0, a50);
                            a51 = Fma(x5, w1, a51);
                            wp += Block;
                        }

                        ip += tapStep;
                    }
                }

                float* o = ob + (x * os);
                Store(o, a00, a01, channels, mode, min, max, slope);
                Store(o + os, a10, a11, channels, mode, min, max, slope);
                Store(o + (2 * os), a20, a21, channels, mode, min, max, slope);
                Store(o + (3 * os), a30, a31, channels, mode, min, max, slope);
                Store(o + (4 * os), a40, a41, channels, mode, min, max, slope);
                Store(o + (5 * os), a50, a51, channels, mode, min, max, slope);
            }

            for (; x < g.OutputWidth; x++)
            {
                Pixel(in g, image, wb, bias0, bias1, iy0, kyBegin, kyEnd, x, ob + (x * os), channels, mode, min, max, slope);
            }
        }
    }

    /// <summary>One output pixel of one block, every column checked against the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pixel(
        in DirectGeometry g, float* image, float* wb, Vector128<float> a0, Vector128<float> a1, int iy0, int kyBegin, int kyEnd,
        int ox, float* o, int channels, int mode, Vector128<float> min, Vector128<float> max, Vector128<float> slope)
    {
        nint ic = g.InputChannels;
        int ix0 = (ox * g.StrideWidth) - g.PadLeft;
        for (int ky = kyBegin; ky < kyEnd; ky++)
        {
            float* irow = image + ((iy0 + ((nint)ky * g.DilationHeight)) * g.InputWidth * ic);
            float* wk = wb + ((nint)ky * g.KernelWidth * ic * Block);
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int ix = ix0 + (kx * g.DilationWidth);
                if ((uint)ix >= (uint)g.InputWidth)
                {
                    continue;
                }

                float* ip = irow + ((nint)ix * ic);
                float* wp = wk + ((nint)kx * ic * Block);
                for (nint c = 0; c < ic; c++)
                {
                    var xv = Neon.LoadAndReplicateToVector128(ip + c);
                    a0 = Fma(xv, Neon.LoadVector128(wp + (c * Block)), a0);
                    a1 = Fma(xv, Neon.LoadVector128(wp + (c * Block) + Width), a1);
                }
            }
        }

        Store(o, a0, a1, channels, mode, min, max, slope);
    }

    /// <summary>acc + a·b through the shim's <c>fmla</c>, in the operand order of the x86 kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fma(Vector128<float> a, Vector128<float> b, Vector128<float> acc) => Neon.FusedMultiplyAdd(acc, a, b);

    /// <summary>Stores one pixel's two vectors with the activation; a partial last block goes through a local tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(
        float* o, Vector128<float> v0, Vector128<float> v1, int channels, int mode,
        Vector128<float> min, Vector128<float> max, Vector128<float> slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v0 = Neon.Min(Neon.Max(v0, min), max);
            v1 = Neon.Min(Neon.Max(v1, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v0 = Fma(Neon.Min(v0, Vector128<float>.Zero), slope, Neon.Max(v0, Vector128<float>.Zero));
            v1 = Fma(Neon.Min(v1, Vector128<float>.Zero), slope, Neon.Max(v1, Vector128<float>.Zero));
        }

        if (channels == Block)
        {
            Neon.Store(o, v0);
            Neon.Store(o + Width, v1);
            return;
        }

        Unsafe.SkipInit(out DirectTile storage);
        float* tile = (float*)Unsafe.AsPointer(ref storage[0]);
        Neon.Store(tile, v0);
        Neon.Store(tile + Width, v1);
        for (int i = 0; i < channels; i++)
        {
            o[i] = tile[i];
        }
    }
}
