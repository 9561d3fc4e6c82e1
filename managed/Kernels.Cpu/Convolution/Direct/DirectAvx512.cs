using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>
/// f32-conv-direct-6x32-avx512: direct convolution vectorized over output channels for layers with few input
/// channels. Weights are packed per 32-channel block as [KH][KW][IC][32]; a step computes six output pixels of a
/// row × two vectors of output channels (12 of 32 zmm accumulators), broadcasting each input value once and
/// loading each weight pair once per six pixels. Interior columns run with no padding checks (rows outside the
/// image are skipped as a range per row); border columns go through the checked single-pixel path.
/// </summary>
internal static unsafe class DirectAvx512
{
    public const int Width = 16;

    /// <summary>Output channels per block: two vectors.</summary>
    public const int Block = 2 * Width;

    /// <summary>One output row, every output-channel block; kernel rows [kyBegin, kyEnd) are the ones inside the image.</summary>
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
        var min = Vector512.Create(g.Activation.Min);
        var max = Vector512.Create(g.Activation.Max);
        var slope = Vector512.Create(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        nint kwFloats = (nint)g.KernelWidth * ic * Block;
        for (int block = 0; block < g.Blocks; block++)
        {
            float* wb = weights + ((nint)block * g.BlockFloats);
            var bias0 = Vector512.Load(bias + (block * Block));
            var bias1 = Vector512.Load(bias + (block * Block) + Width);
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
                            var w0 = Vector512.Load(wp);
                            var w1 = Vector512.Load(wp + Width);
                            var x0 = Vector512.Create(ip[c]);
                            a00 = Vector512.FusedMultiplyAdd(x0, w0, a00);
                            a01 = Vector512.FusedMultiplyAdd(x0, w1, a01);
                            var x1 = Vector512.Create(ip[pixelStep + c]);
                            a10 = Vector512.FusedMultiplyAdd(x1, w0, a10);
                            a11 = Vector512.FusedMultiplyAdd(x1, w1, a11);
                            var x2 = Vector512.Create(ip[(2 * pixelStep) + c]);
                            a20 = Vector512.FusedMultiplyAdd(x2, w0, a20);
                            a21 = Vector512.FusedMultiplyAdd(x2, w1, a21);
                            var x3 = Vector512.Create(ip[(3 * pixelStep) + c]);
                            a30 = Vector512.FusedMultiplyAdd(x3, w0, a30);
                            a31 = Vector512.FusedMultiplyAdd(x3, w1, a31);
                            var x4 = Vector512.Create(ip[(4 * pixelStep) + c]);
                            a40 = Vector512.FusedMultiplyAdd(x4, w0, a40);
                            a41 = Vector512.FusedMultiplyAdd(x4, w1, a41);
                            var x5 = Vector512.Create(ip[(5 * pixelStep) + c]);
                            a50 = Vector512.FusedMultiplyAdd(x5, w0, a50);
                            a51 = Vector512.FusedMultiplyAdd(x5, w1, a51);
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
        in DirectGeometry g, float* image, float* wb, Vector512<float> a0, Vector512<float> a1, int iy0, int kyBegin, int kyEnd,
        int ox, float* o, int channels, int mode, Vector512<float> min, Vector512<float> max, Vector512<float> slope)
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
                    var xv = Vector512.Create(ip[c]);
                    a0 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(wp + (c * Block)), a0);
                    a1 = Vector512.FusedMultiplyAdd(xv, Vector512.Load(wp + (c * Block) + Width), a1);
                }
            }
        }

        Store(o, a0, a1, channels, mode, min, max, slope);
    }

    /// <summary>Stores one pixel's two vectors with the activation; a partial last block goes through a local tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(
        float* o, Vector512<float> v0, Vector512<float> v1, int channels, int mode,
        Vector512<float> min, Vector512<float> max, Vector512<float> slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v0 = Vector512.Min(Vector512.Max(v0, min), max);
            v1 = Vector512.Min(Vector512.Max(v1, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v0 = Vector512.FusedMultiplyAdd(Vector512.Min(v0, Vector512<float>.Zero), slope, Vector512.Max(v0, Vector512<float>.Zero));
            v1 = Vector512.FusedMultiplyAdd(Vector512.Min(v1, Vector512<float>.Zero), slope, Vector512.Max(v1, Vector512<float>.Zero));
        }

        if (channels == Block)
        {
            v0.Store(o);
            v1.Store(o + Width);
            return;
        }

        Unsafe.SkipInit(out DirectTile storage);
        float* tile = (float*)Unsafe.AsPointer(ref storage[0]);
        v0.Store(tile);
        v1.Store(tile + Width);
        for (int i = 0; i < channels; i++)
        {
            o[i] = tile[i];
        }
    }
}
