using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Convolution.Direct;

/// <summary>
/// Direct convolution for first layers (groups 1, at most <see cref="MaxInputChannels"/> input channels): with
/// three input channels the im2col matrix repeats every input value KH·KW times and its GEMM has K = 27 to 363,
/// too short to amortize the packing; here each input value is broadcast once per output-channel block.
/// </summary>
public sealed class DirectConvolution : IConvolutionImplementation
{
    /// <summary>The most input channels the direct kernel takes (RGB or RGBA images).</summary>
    public const int MaxInputChannels = 4;

    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.Direct;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Groups != 1)
        {
            return $"it has {descriptor.Groups} groups; the direct kernel handles ungrouped layers only";
        }

        if (descriptor.InputChannels > MaxInputChannels)
        {
            return $"it has {descriptor.InputChannels} input channels; the direct kernel is for first layers with at most {MaxInputChannels} " +
                "(with more, im2col + GEMM reuses each loaded input across a whole register tile and is faster)";
        }

        return null;
    }

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa)
        => new DirectConvolutionKernel(descriptor, weights, bias, isa);
}

/// <summary>
/// A planned direct layer: weights repacked to blocks of two vectors of output channels, [block][KH][KW][IC][2·width],
/// zero-padded past the last channel, with the bias padded alike. Output rows (× batch) are split across the workers.
/// </summary>
public sealed unsafe class DirectConvolutionKernel : ConvolutionKernel
{
    private readonly NativeBuffer<float> _weights;
    private readonly NativeBuffer<float> _bias;
    private readonly DirectGeometry _geometry;

    internal DirectConvolutionKernel(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa)
        : base(descriptor, ConvolutionAlgorithm.Direct, isa)
    {
        int block = BlockWidth(isa);
        var d = descriptor;
        _geometry = new DirectGeometry(d, block);
        int taps = d.KernelHeight * d.KernelWidth * d.InputChannels;
        _weights = new NativeBuffer<float>((long)_geometry.Blocks * _geometry.BlockFloats, zero: true);
        _bias = new NativeBuffer<float>((long)_geometry.Blocks * block, zero: true);
        var packed = _weights.AsSpan();
        for (int o = 0; o < d.OutputChannels; o++)
        {
            int blockStart = o / block * _geometry.BlockFloats;
            int lane = o % block;
            for (int t = 0; t < taps; t++)
            {
                packed[blockStart + (t * block) + lane] = weights[(o * taps) + t];
            }
        }

        bias.CopyTo(_bias.AsSpan());
    }

    /// <inheritdoc />
    public override string Name => Isa switch
    {
        KernelIsa.Avx512 => "f32-conv-direct-6x32-avx512",
        KernelIsa.Avx2 => "f32-conv-direct-6x16-avx2",
        _ => "f32-conv-direct-6x8-advsimd",
    };

    /// <summary>Output channels per block (two vectors) of the ISA's kernel.</summary>
    internal static int BlockWidth(KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => DirectVector<Avx512Lanes>.Block,
        KernelIsa.Avx2 => DirectVector<Avx2Lanes>.Block,
        _ => DirectAdvSimd.Block,
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
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rows(float* input, float* output, int begin, int end)
    {
        ref readonly var g = ref _geometry;
        float* weights = _weights.Pointer;
        float* bias = _bias.Pointer;
        nint imageFloats = (nint)g.InputHeight * g.InputWidth * g.InputChannels;
        nint rowFloats = (nint)g.OutputWidth * g.OutputPixelStride;
        for (int r = begin; r < end; r++)
        {
            int b = r / g.OutputHeight;
            int oy = r - (b * g.OutputHeight);
            float* image = input + (b * imageFloats);
            float* row = output + (r * rowFloats);

            // Divisions stay out of the kernels: on arm64 each brings divide-by-zero and overflow helper calls.
            int iy0 = (oy * g.StrideHeight) - g.PadTop;
            int kyBegin = iy0 >= 0 ? 0 : (-iy0 + g.DilationHeight - 1) / g.DilationHeight;
            int kyEnd = iy0 > g.InputHeight - 1 ? 0 : Math.Min(g.KernelHeight, ((g.InputHeight - 1 - iy0) / g.DilationHeight) + 1);
            switch (Isa)
            {
                case KernelIsa.Avx512:
                    DirectVector<Avx512Lanes>.Row(in g, image, weights, bias, row, oy, kyBegin, kyEnd);
                    break;
                case KernelIsa.Avx2:
                    DirectVector<Avx2Lanes>.Row(in g, image, weights, bias, row, oy, kyBegin, kyEnd);
                    break;
                default:
                    DirectAdvSimd.Row(in g, image, weights, bias, row, oy, kyBegin, kyEnd);
                    break;
            }
        }
    }

    /// <summary>Output rows (batch-major) for one worker; a struct so a call allocates nothing.</summary>
    private readonly struct RowsWork : IRangeBody
    {
        private readonly DirectConvolutionKernel _kernel;
        private readonly float* _input;
        private readonly float* _output;

        public RowsWork(DirectConvolutionKernel kernel, float* input, float* output)
        {
            _kernel = kernel;
            _input = input;
            _output = output;
        }

        public void Execute(int begin, int end) => _kernel.Rows(_input, _output, begin, end);
    }
}
