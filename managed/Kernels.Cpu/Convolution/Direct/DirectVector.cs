using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>
/// f32-conv-direct-6x32-avx512 (<see cref="Avx512Lanes"/>) and f32-conv-direct-6x16-avx2 (<see cref="Avx2Lanes"/>):
/// direct convolution vectorized over output channels for layers with few input channels, written once for both
/// vector widths. Weights are packed per block of two vectors of channels as [KH][KW][IC][2·Width]; a step computes
/// six output pixels of a row × two vectors of output channels (12 accumulators: of 32 zmm, or with two weight
/// vectors and a broadcast 15 of 16 ymm), broadcasting each input value once and
/// loading each weight pair once per six pixels. Interior columns run with no padding checks (rows outside the
/// image are skipped as a range per row); border columns go through the checked single-pixel path.
/// </summary>
internal static unsafe class DirectVector<TLanes>
    where TLanes : unmanaged, IFloatLanes<TLanes>
{
    /// <summary>Channels per vector.</summary>
    public static int Width => TLanes.Count;

    /// <summary>Output channels per block: two vectors.</summary>
    public static int Block => 2 * TLanes.Count;

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
        var min = TLanes.Splat(g.Activation.Min);
        var max = TLanes.Splat(g.Activation.Max);
        var slope = TLanes.Splat(g.Activation.Slope);
        int begin = g.InteriorBegin;
        int end = g.InteriorEnd;
        nint kwFloats = (nint)g.KernelWidth * ic * Block;
        for (int block = 0; block < g.Blocks; block++)
        {
            float* wb = weights + ((nint)block * g.BlockFloats);
            var bias0 = TLanes.Load(bias + (block * Block));
            var bias1 = TLanes.Load(bias + (block * Block) + Width);
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
                            var w0 = TLanes.Load(wp);
                            var w1 = TLanes.Load(wp + Width);
                            var x0 = TLanes.Splat(ip[c]);
                            a00 = TLanes.MultiplyAdd(a00, x0, w0);
                            a01 = TLanes.MultiplyAdd(a01, x0, w1);
                            var x1 = TLanes.Splat(ip[pixelStep + c]);
                            a10 = TLanes.MultiplyAdd(a10, x1, w0);
                            a11 = TLanes.MultiplyAdd(a11, x1, w1);
                            var x2 = TLanes.Splat(ip[(2 * pixelStep) + c]);
                            a20 = TLanes.MultiplyAdd(a20, x2, w0);
                            a21 = TLanes.MultiplyAdd(a21, x2, w1);
                            var x3 = TLanes.Splat(ip[(3 * pixelStep) + c]);
                            a30 = TLanes.MultiplyAdd(a30, x3, w0);
                            a31 = TLanes.MultiplyAdd(a31, x3, w1);
                            var x4 = TLanes.Splat(ip[(4 * pixelStep) + c]);
                            a40 = TLanes.MultiplyAdd(a40, x4, w0);
                            a41 = TLanes.MultiplyAdd(a41, x4, w1);
                            var x5 = TLanes.Splat(ip[(5 * pixelStep) + c]);
                            a50 = TLanes.MultiplyAdd(a50, x5, w0);
                            a51 = TLanes.MultiplyAdd(a51, x5, w1);
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
        in DirectGeometry g, float* image, float* wb, TLanes a0, TLanes a1, int iy0, int kyBegin, int kyEnd,
        int ox, float* o, int channels, int mode, TLanes min, TLanes max, TLanes slope)
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
                    var xv = TLanes.Splat(ip[c]);
                    a0 = TLanes.MultiplyAdd(a0, xv, TLanes.Load(wp + (c * Block)));
                    a1 = TLanes.MultiplyAdd(a1, xv, TLanes.Load(wp + (c * Block) + Width));
                }
            }
        }

        Store(o, a0, a1, channels, mode, min, max, slope);
    }

    /// <summary>Stores one pixel's two vectors with the activation; a partial last block goes through a local tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(
        float* o, TLanes v0, TLanes v1, int channels, int mode,
        TLanes min, TLanes max, TLanes slope)
    {
        if (mode == StoreActivation.Clamp)
        {
            v0 = TLanes.Min(TLanes.Max(v0, min), max);
            v1 = TLanes.Min(TLanes.Max(v1, min), max);
        }
        else if (mode == StoreActivation.Leaky)
        {
            v0 = TLanes.MultiplyAdd(TLanes.Max(v0, TLanes.Splat(0f)), TLanes.Min(v0, TLanes.Splat(0f)), slope);
            v1 = TLanes.MultiplyAdd(TLanes.Max(v1, TLanes.Splat(0f)), TLanes.Min(v1, TLanes.Splat(0f)), slope);
        }

        if (channels == Block)
        {
            TLanes.Store(o, v0);
            TLanes.Store(o + Width, v1);
            return;
        }

        Unsafe.SkipInit(out DirectTile storage);
        float* tile = (float*)Unsafe.AsPointer(ref storage[0]);
        TLanes.Store(tile, v0);
        TLanes.Store(tile + Width, v1);
        for (int i = 0; i < channels; i++)
        {
            o[i] = tile[i];
        }
    }
}
