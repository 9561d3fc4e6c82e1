using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Convolution.Gemm;

/// <summary>
/// im2col + GEMM for any kernel size, stride, padding (asymmetric included), dilation and groups. The
/// im2col matrix is never materialized: the GEMM's packer gathers each MC×KC block of it straight from
/// the NHWC input (contiguous channel runs per kernel position, zeros for padding), so its memory
/// traffic stays in cache.
/// </summary>
public sealed class Im2ColConvolution : IConvolutionImplementation
{
    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.Im2Col;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return null;
    }

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa) =>
        new Kernel(descriptor, isa, weights, bias);

    private sealed unsafe class Kernel : GemmConvolutionKernel
    {
        public Kernel(Conv2DDescriptor d, KernelIsa isa, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
            : base(d, ConvolutionAlgorithm.Im2Col, isa, weights, bias)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override void Execute(float* input, float* output, WorkerGroup? workers)
        {
            var d = Descriptor;
            int m = d.Batch * d.OutputHeight * d.OutputWidth;
            int ocg = d.GroupOutputChannels;
            for (int g = 0; g < d.Groups; g++)
            {
                Gemm.Execute(m, ocg, d.ReductionLength, new Im2ColPacker(input + ((long)g * d.GroupInputChannels), d), PackedWeightsOf(g),
                    output + ((long)g * ocg), d.EffectiveOutputPixelStride, BiasOf(g), d.Activation, workers);
            }
        }
    }

    /// <summary>
    /// Row r of the im2col matrix is output pixel r; column k = (ky·KW + kx)·(IC/G) + c is input channel c
    /// (of the group) at kernel position (ky, kx). Within a KC block, each kernel position is one
    /// column segment whose rows are channel runs of input pixels (or padding), packed four rows at a time.
    /// </summary>
    private readonly unsafe struct Im2ColPacker : IGemmAPacker
    {
        private readonly float* _input;
        private readonly int _h, _w, _ow, _ohw, _kw, _icg;
        private readonly int _strideH, _strideW, _padTop, _padLeft, _dilationH, _dilationW;
        private readonly nint _channels;

        public Im2ColPacker(float* groupInput, Conv2DDescriptor d)
        {
            _input = groupInput;
            _h = d.InputHeight;
            _w = d.InputWidth;
            _ow = d.OutputWidth;
            _ohw = d.OutputHeight * d.OutputWidth;
            _kw = d.KernelWidth;
            _icg = d.GroupInputChannels;
            _strideH = d.StrideHeight;
            _strideW = d.StrideWidth;
            _padTop = d.PadTop;
            _padLeft = d.PadLeft;
            _dilationH = d.DilationHeight;
            _dilationW = d.DilationWidth;
            _channels = d.InputChannels;
        }

        public bool TryGetMatrix(out float* a, out nint lda)
        {
            a = null;
            lda = 0;
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void PackPanel(int mr, int row0, int rows, int k0, int kc, float* panel, bool neon)
        {
            var iy0 = new PanelRows();
            var ix0 = new PanelRows();
            var image = new PanelRows();
            for (int i = 0; i < rows; i++)
            {
                int r = row0 + i;
                int n = r / _ohw, rem = r - (n * _ohw);
                int oy = rem / _ow, ox = rem - (oy * _ow);
                iy0[i] = (oy * _strideH) - _padTop;
                ix0[i] = (ox * _strideW) - _padLeft;
                image[i] = (nint)(_input + ((nint)n * _h * _w * _channels));
            }

            int k = k0, end = k0 + kc;
            int position = k / _icg;
            int c = k - (position * _icg);
            while (k < end)
            {
                int run = Math.Min(_icg - c, end - k);
                int ky = position / _kw, kx = position - (ky * _kw);
                int dy = ky * _dilationH, dx = kx * _dilationW;
                var sources = new PanelRows();
                for (int i = 0; i < rows; i++)
                {
                    nint iy = iy0[i] + dy, ix = ix0[i] + dx;
                    sources[i] = iy >= 0 && iy < _h && ix >= 0 && ix < _w
                        ? (nint)((float*)image[i] + (((iy * _w) + ix) * _channels) + c)
                        : 0;
                }

                PanelPacking.PackRows(mr, rows, run, ref sources, panel + ((long)(k - k0) * mr), neon);
                k += run;
                position++;
                c = 0;
            }
        }
    }
}
