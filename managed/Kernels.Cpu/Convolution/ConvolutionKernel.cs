using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// A planned convolution layer: one algorithm and ISA variant, with its weights already transformed
/// and packed (done once, at creation). <see cref="Run(ReadOnlySpan{float}, Span{float}, WorkerGroup?)"/>
/// reads an NHWC input of <see cref="Conv2DDescriptor.InputLength"/> floats and writes
/// Batch·OH·OW pixels of OutputChannels floats, <see cref="Conv2DDescriptor.EffectiveOutputPixelStride"/>
/// apart, with bias and the activation applied in the store; floats between pixels are not touched.
/// After the first call on a thread, a call allocates nothing on the managed heap.
/// </summary>
public abstract unsafe class ConvolutionKernel : IDisposable
{
    private bool _disposed;

    /// <summary>Stores the descriptor (already validated by the factory).</summary>
    protected ConvolutionKernel(Conv2DDescriptor descriptor, ConvolutionAlgorithm algorithm, KernelIsa isa)
    {
        Descriptor = descriptor;
        Algorithm = algorithm;
        Isa = isa;
    }

    /// <summary>The layer.</summary>
    public Conv2DDescriptor Descriptor { get; }

    /// <summary>The algorithm.</summary>
    public ConvolutionAlgorithm Algorithm { get; }

    /// <summary>The instruction-set variant.</summary>
    public KernelIsa Isa { get; }

    /// <summary>Registry-style name, e.g. <c>f32-conv-winograd-f4-avx512</c>.</summary>
    public virtual string Name => $"f32-conv-{Algorithm.ToName()}-{Isa.ToName()}";

    /// <summary>Runs the layer on spans (checked against the descriptor's lengths).</summary>
    /// <exception cref="ArgumentException">A span is shorter than the descriptor needs.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(ReadOnlySpan<float> input, Span<float> output, WorkerGroup? workers = null)
    {
        if (input.Length < Descriptor.InputLength)
        {
            throw new ArgumentException($"input has {input.Length} floats; the layer {Descriptor} reads {Descriptor.InputLength}.", nameof(input));
        }

        if (output.Length < Descriptor.OutputLength)
        {
            throw new ArgumentException($"output has {output.Length} floats; the layer {Descriptor} writes {Descriptor.OutputLength}.", nameof(output));
        }

        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Run(pi, po, workers);
        }
    }

    /// <summary>Runs the layer on raw pointers (an executor's arena); the caller guarantees the lengths.</summary>
    /// <exception cref="ArgumentNullException">A pointer is null.</exception>
    /// <exception cref="ObjectDisposedException">The kernel was disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(float* input, float* output, WorkerGroup? workers = null)
    {
        if (input == null)
        {
            throw new ArgumentNullException(nameof(input));
        }

        if (output == null)
        {
            throw new ArgumentNullException(nameof(output));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        Execute(input, output, workers);
    }

    /// <summary>The algorithm; pointers are valid for the descriptor's lengths.</summary>
    protected abstract void Execute(float* input, float* output, WorkerGroup? workers);

    /// <summary>Frees packed weights and other native memory.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Dispose(true);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Frees what the algorithm owns.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Descriptor}";
}
