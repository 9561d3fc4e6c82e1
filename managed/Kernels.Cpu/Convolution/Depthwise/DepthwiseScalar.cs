using System.Runtime.CompilerServices;
namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>
/// f32-dwconv-general-scalar: layers with fewer channels than one vector of the chosen ISA (a pixel is
/// narrower than a vector, so the overlapping last block of the vector kernels does not exist). Same
/// packed weights, same fused multiply-adds and activation as the vector kernels.
/// </summary>
internal static unsafe class DepthwiseScalar
{
    /// <summary>One output row, every tap checked against the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowGeneral(in DepthwiseGeometry g, float* image, float* weights, float* bias, float* output, int oy)
    {
        nint c = g.Channels;
        nint ws = g.WeightStride;
        int iy0 = (oy * g.StrideHeight) - g.PadTop;
        for (int ox = 0; ox < g.OutputWidth; ox++)
        {
            int ix0 = (ox * g.StrideWidth) - g.PadLeft;
            float* o = output + ((nint)ox * g.OutputPixelStride);
            for (int ch = 0; ch < g.Channels; ch++)
            {
                float acc = bias[ch];
                for (int ky = 0; ky < g.KernelHeight; ky++)
                {
                    int iy = iy0 + (ky * g.DilationHeight);
                    if ((uint)iy >= (uint)g.InputHeight)
                    {
                        continue;
                    }

                    float* irow = image + ((nint)iy * g.InputWidth * c) + ch;
                    float* wrow = weights + ((nint)ky * g.KernelWidth * ws) + ch;
                    for (int kx = 0; kx < g.KernelWidth; kx++)
                    {
                        int ix = ix0 + (kx * g.DilationWidth);
                        if ((uint)ix < (uint)g.InputWidth)
                        {
                            acc = MathF.FusedMultiplyAdd(irow[ix * c], wrow[kx * ws], acc);
                        }
                    }
                }

                o[ch] = g.Activation.Apply(acc);
            }
        }
    }
}
