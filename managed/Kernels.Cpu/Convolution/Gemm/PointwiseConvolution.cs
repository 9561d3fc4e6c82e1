using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Convolution.Gemm;

/// <summary>
/// 1x1 convolution as a GEMM straight over the NHWC activation: with stride 1 the input already is A
/// (pixels × channels, leading dimension IC); with stride s the packer gathers every s-th pixel of every
/// s-th row. No im2col.
/// </summary>
public sealed class PointwiseConvolution : IConvolutionImplementation
{
    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.Pointwise;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var d = descriptor;
        if (d.KernelHeight != 1 || d.KernelWidth != 1)
        {
            return "the kernel is not 1x1";
        }

        if (d.PadTop != 0 || d.PadLeft != 0 || d.PadBottom != 0 || d.PadRight != 0)
        {
            return "a 1x1 convolution with padding is not a plain GEMM";
        }

        return d.Groups != 1 ? "grouped 1x1 convolutions go through im2col" : null;
    }

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa) =>
        new Kernel(descriptor, isa, weights, bias);

    private sealed unsafe class Kernel : GemmConvolutionKernel
    {
        public Kernel(Conv2DDescriptor d, KernelIsa isa, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
            : base(d, ConvolutionAlgorithm.Pointwise, isa, weights, bias)
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        protected override void Execute(float* input, float* output, WorkerGroup? workers)
        {
            var d = Descriptor;
            int m = d.Batch * d.OutputHeight * d.OutputWidth;
            if (d.StrideHeight == 1 && d.StrideWidth == 1)
            {
                Gemm.Execute(m, d.OutputChannels, d.InputChannels, new MatrixAPacker(input, d.InputChannels), PackedWeightsOf(0),
                    output, d.EffectiveOutputPixelStride, BiasOf(0), d.Activation, workers);
            }
            else
            {
                Gemm.Execute(m, d.OutputChannels, d.InputChannels, new StridedPixelPacker(input, d), PackedWeightsOf(0),
                    output, d.EffectiveOutputPixelStride, BiasOf(0), d.Activation, workers);
            }
        }
    }

    /// <summary>Rows of A are the input pixels (n, oy·sh, ox·sw): a strided 1x1 convolution's GEMM.</summary>
    private readonly unsafe struct StridedPixelPacker : IGemmAPacker
    {
        private readonly float* _input;
        private readonly int _ow, _ohw, _channels, _strideH, _strideW;
        private readonly nint _rowFloats, _imageFloats;

        public StridedPixelPacker(float* input, Conv2DDescriptor d)
        {
            _input = input;
            _ow = d.OutputWidth;
            _ohw = d.OutputHeight * d.OutputWidth;
            _channels = d.InputChannels;
            _strideH = d.StrideHeight;
            _strideW = d.StrideWidth;
            _rowFloats = (nint)d.InputWidth * d.InputChannels;
            _imageFloats = _rowFloats * d.InputHeight;
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
            var sources = new PanelRows();
            for (int i = 0; i < rows; i++)
            {
                int r = row0 + i;
                int n = r / _ohw, rem = r - (n * _ohw);
                int oy = rem / _ow, ox = rem - (oy * _ow);
                sources[i] = (nint)(_input + (n * _imageFloats) + (oy * _strideH * _rowFloats) + ((nint)ox * _strideW * _channels) + k0);
            }

            PanelPacking.PackRows(mr, rows, kc, ref sources, panel, neon);
        }
    }
}
