using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Convolution.Depthwise;

/// <summary>Which row kernel a depthwise layer runs.</summary>
public enum DepthwiseVariant
{
    /// <summary>3x3, stride 1, dilation 1: the MobileNet stride-1 layers (f32-dwconv-3x3s1-*).</summary>
    Conv3x3Stride1,

    /// <summary>3x3, stride 2, dilation 1: the MobileNet downsampling layers (f32-dwconv-3x3s2-*).</summary>
    Conv3x3Stride2,

    /// <summary>Any kernel, stride, dilation and padding, vectorized over channels (f32-dwconv-general-*).</summary>
    General,

    /// <summary>Fewer channels than one vector of the ISA: scalar (f32-dwconv-general-scalar).</summary>
    Scalar,
}

/// <summary>
/// The depthwise convolution (groups = input channels = output channels): vectorized over channels on NHWC,
/// with hand-written 3x3 stride-1 and stride-2 row kernels and a general one for any other geometry.
/// </summary>
public sealed class DepthwiseConvolution : IConvolutionImplementation
{
    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.Depthwise;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Groups != descriptor.InputChannels)
        {
            return $"groups ({descriptor.Groups}) differ from the input channels ({descriptor.InputChannels})";
        }

        if (descriptor.OutputChannels != descriptor.InputChannels)
        {
            return $"the channel multiplier is {descriptor.OutputChannels / descriptor.InputChannels}, not 1";
        }

        return null;
    }

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa)
        => new DepthwiseConvolutionKernel(descriptor, weights, bias, isa);
}

/// <summary>
/// A planned depthwise layer: weights repacked to [KH][KW][C rounded up to the vector width] with the bias
/// beside them (zero in the padding lanes), and a zero row that stands in for the rows above and below the
/// image in the 3x3 kernels. Output rows (× batch) are split across the workers.
/// </summary>
public sealed unsafe class DepthwiseConvolutionKernel : ConvolutionKernel
{
    private readonly NativeBuffer<float> _weights;
    private readonly NativeBuffer<float> _bias;
    private readonly NativeBuffer<float>? _zeroRow;
    private readonly DepthwiseGeometry _geometry;

    internal DepthwiseConvolutionKernel(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa)
        : base(descriptor, ConvolutionAlgorithm.Depthwise, isa)
    {
        int width = VectorWidth(isa);
        var d = descriptor;
        _geometry = new DepthwiseGeometry(d, width);
        Variant = d.InputChannels < width ? DepthwiseVariant.Scalar
            : d.KernelHeight == 3 && d.KernelWidth == 3 && d.DilationHeight == 1 && d.DilationWidth == 1 && d.StrideHeight == 1 && d.StrideWidth == 1
                ? DepthwiseVariant.Conv3x3Stride1
            : d.KernelHeight == 3 && d.KernelWidth == 3 && d.DilationHeight == 1 && d.DilationWidth == 1 && d.StrideHeight == 2 && d.StrideWidth == 2
                ? DepthwiseVariant.Conv3x3Stride2
            : DepthwiseVariant.General;

        int channels = d.InputChannels;
        int taps = d.KernelHeight * d.KernelWidth;
        int stride = _geometry.WeightStride;
        _weights = new NativeBuffer<float>((long)taps * stride, zero: true);
        _bias = new NativeBuffer<float>(stride, zero: true);
        var packed = _weights.AsSpan();
        for (int ch = 0; ch < channels; ch++)
        {
            for (int t = 0; t < taps; t++)
            {
                packed[(t * stride) + ch] = weights[(ch * taps) + t];
            }
        }

        bias.CopyTo(_bias.AsSpan());
        if (Variant is DepthwiseVariant.Conv3x3Stride1 or DepthwiseVariant.Conv3x3Stride2)
        {
            _zeroRow = new NativeBuffer<float>((long)d.InputWidth * channels, zero: true);
        }
    }

    /// <summary>The row kernel this layer runs (the 3x3 ones for MobileNet-style layers).</summary>
    public DepthwiseVariant Variant { get; }

    /// <inheritdoc />
    public override string Name => Variant switch
    {
        DepthwiseVariant.Conv3x3Stride1 => $"f32-dwconv-3x3s1-{Isa.ToName()}",
        DepthwiseVariant.Conv3x3Stride2 => $"f32-dwconv-3x3s2-{Isa.ToName()}",
        DepthwiseVariant.General => $"f32-dwconv-general-{Isa.ToName()}",
        _ => "f32-dwconv-general-scalar",
    };

    /// <summary>Floats per vector of the ISA's depthwise kernels.</summary>
    internal static int VectorWidth(KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => DepthwiseVector<Avx512Lanes>.Width,
        KernelIsa.Avx2 => DepthwiseVector<Avx2Lanes>.Width,
        _ => DepthwiseAdvSimd.Width,
    };

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Execute(float* input, float* output, WorkerGroup? workers)
    {
        var work = new RowsWork(this, input, output);
        int rows = Descriptor.Batch * _geometry.OutputHeight;
        if (workers is null)
        {
            work.Execute(0, rows);
        }
        else
        {
            workers.ParallelFor(rows, ref work);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _weights.Dispose();
            _bias.Dispose();
            _zeroRow?.Dispose();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rows(float* input, float* output, int begin, int end)
    {
        ref readonly var g = ref _geometry;
        float* weights = _weights.Pointer;
        float* bias = _bias.Pointer;
        float* zero = _zeroRow is null ? null : _zeroRow.Pointer;
        nint imageFloats = (nint)g.InputHeight * g.InputWidth * g.Channels;
        nint rowFloats = (nint)g.OutputWidth * g.OutputPixelStride;
        for (int r = begin; r < end; r++)
        {
            int b = r / g.OutputHeight;
            int oy = r - (b * g.OutputHeight);
            float* image = input + (b * imageFloats);
            float* row = output + (r * rowFloats);
            switch (Variant, Isa)
            {
                case (DepthwiseVariant.Conv3x3Stride1, KernelIsa.Avx512):
                    DepthwiseVector<Avx512Lanes>.Row3x3S1(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.Conv3x3Stride1, KernelIsa.Avx2):
                    DepthwiseVector<Avx2Lanes>.Row3x3S1(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.Conv3x3Stride1, _):
                    DepthwiseAdvSimd.Row3x3S1(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.Conv3x3Stride2, KernelIsa.Avx512):
                    DepthwiseVector<Avx512Lanes>.Row3x3S2(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.Conv3x3Stride2, KernelIsa.Avx2):
                    DepthwiseVector<Avx2Lanes>.Row3x3S2(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.Conv3x3Stride2, _):
                    DepthwiseAdvSimd.Row3x3S2(in g, image, zero, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.General, KernelIsa.Avx512):
                    DepthwiseVector<Avx512Lanes>.RowGeneral(in g, image, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.General, KernelIsa.Avx2):
                    DepthwiseVector<Avx2Lanes>.RowGeneral(in g, image, weights, bias, row, oy);
                    break;
                case (DepthwiseVariant.General, _):
                    DepthwiseAdvSimd.RowGeneral(in g, image, weights, bias, row, oy);
                    break;
                default:
                    DepthwiseScalar.RowGeneral(in g, image, weights, bias, row, oy);
                    break;
            }
        }
    }

    /// <summary>Output rows (batch-major) for one worker; a struct so a call allocates nothing.</summary>
    private readonly struct RowsWork : IRangeBody
    {
        private readonly DepthwiseConvolutionKernel _kernel;
        private readonly float* _input;
        private readonly float* _output;

        public RowsWork(DepthwiseConvolutionKernel kernel, float* input, float* output)
        {
            _kernel = kernel;
            _input = input;
            _output = output;
        }

        public void Execute(int begin, int end) => _kernel.Rows(_input, _output, begin, end);
    }
}
