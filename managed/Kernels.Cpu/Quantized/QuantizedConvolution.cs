using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// A planned int8 convolution layer: uint8 NHWC input (per-tensor scale and zero point), int8 weights
/// quantized per output channel at creation, int32 bias, requantized to the uint8 output with the fused
/// activation as the clamp. <see cref="Run(byte*, byte*, WorkerGroup?)"/> reads
/// <see cref="Conv2DDescriptor.InputLength"/> bytes and writes Batch·OH·OW pixels of OutputChannels bytes,
/// <see cref="Conv2DDescriptor.EffectiveOutputPixelStride"/> apart (a concat slice); bytes between pixels are not
/// touched. After the first call on a thread a call allocates nothing on the managed heap.
/// </summary>
public abstract unsafe class QuantizedConvolution : IDisposable
{
    private bool _disposed;

    private protected QuantizedConvolution(string name, Conv2DDescriptor descriptor, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, float[] weightScales)
    {
        Name = name;
        Descriptor = descriptor;
        Input = input;
        Output = output;
        Clamp = clamp;
        WeightScales = weightScales;
    }

    /// <summary>Registry-style name: algorithm and the kernel it runs on, e.g. <c>qu8-conv-1x1-qu8s8-gemm-4x8-avx2</c>.</summary>
    public string Name { get; }

    /// <summary>The layer.</summary>
    public Conv2DDescriptor Descriptor { get; }

    /// <summary>Quantization of the input tensor.</summary>
    public QuantizationParameters Input { get; }

    /// <summary>Quantization of the output tensor.</summary>
    public QuantizationParameters Output { get; }

    /// <summary>The output zero point and the clamp the fused activation became.</summary>
    public QuantizedOutput Clamp { get; }

    /// <summary>Real value of one int8 weight step, per output channel.</summary>
    public IReadOnlyList<float> WeightScales { get; }

    /// <summary>Runs the layer on spans checked against the descriptor's lengths.</summary>
    /// <exception cref="ArgumentException">A span is shorter than the descriptor needs.</exception>
    public void Run(ReadOnlySpan<byte> input, Span<byte> output, WorkerGroup? workers = null)
    {
        if (input.Length < Descriptor.InputLength)
        {
            throw new ArgumentException($"input has {input.Length} bytes; the layer {Descriptor} reads {Descriptor.InputLength}.", nameof(input));
        }

        if (output.Length < Descriptor.OutputLength)
        {
            throw new ArgumentException($"output has {output.Length} bytes; the layer {Descriptor} writes {Descriptor.OutputLength}.", nameof(output));
        }

        fixed (byte* pi = input)
        fixed (byte* po = output)
        {
            Run(pi, po, workers);
        }
    }

    /// <summary>Runs the layer on raw pointers (an executor's arena); the caller guarantees the lengths.</summary>
    /// <exception cref="ArgumentNullException">A pointer is null.</exception>
    /// <exception cref="ObjectDisposedException">The layer was disposed.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(byte* input, byte* output, WorkerGroup? workers = null)
    {
        QuantizedLayerChecks.NotNull(input, nameof(input));
        QuantizedLayerChecks.NotNull(output, nameof(output));
        ObjectDisposedException.ThrowIf(_disposed, this);
        Execute(input, output, workers);
    }

    /// <summary>Frees the packed weights.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            Free();
        }

        GC.SuppressFinalize(this);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Descriptor}";

    private protected abstract void Execute(byte* input, byte* output, WorkerGroup? workers);

    private protected abstract void Free();
}
