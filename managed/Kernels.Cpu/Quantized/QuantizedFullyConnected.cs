using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// A fully connected layer's weights quantized (int8 per output channel, int32 bias, per-channel requantization)
/// and packed once for the int8 GEMM; <see cref="QuantizedFullyConnected.Run"/> uses them.
/// </summary>
public sealed class QuantizedFullyConnectedWeights : IDisposable
{
    internal QuantizedFullyConnectedWeights(
        FullyConnectedDescriptor descriptor, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, float[] weightScales, QuantizedGemm gemm, QuantizedPackedWeights packed)
    {
        Descriptor = descriptor;
        Input = input;
        Output = output;
        Clamp = clamp;
        WeightScales = weightScales;
        Gemm = gemm;
        Packed = packed;
    }

    /// <summary>The layer.</summary>
    public FullyConnectedDescriptor Descriptor { get; }

    /// <summary>Quantization of the input.</summary>
    public QuantizationParameters Input { get; }

    /// <summary>Quantization of the output.</summary>
    public QuantizationParameters Output { get; }

    /// <summary>The output zero point and the clamp of the fused activation.</summary>
    public QuantizedOutput Clamp { get; }

    /// <summary>Real value of one int8 weight step, per output channel.</summary>
    public IReadOnlyList<float> WeightScales { get; }

    /// <summary>Name of the GEMM micro-kernel the layer runs on.</summary>
    public string KernelName => Gemm.Kernel.Name;

    internal QuantizedGemm Gemm { get; }

    internal QuantizedPackedWeights Packed { get; }

    internal bool IsDisposed { get; private set; }

    /// <summary>Frees the packed weights.</summary>
    public void Dispose()
    {
        IsDisposed = true;
        Packed.Dispose();
    }
}

/// <summary>
/// int8 fully connected layer: y[Batch × OC] (uint8) = requantize(x[Batch × IC] (uint8) · Wᵀ + bias) on the int8
/// GEMM, the fused activation as the clamp, rows of y <see cref="FullyConnectedDescriptor.EffectiveOutputStride"/>
/// bytes apart. Allocates nothing after the first call on a thread.
/// </summary>
public static unsafe class QuantizedFullyConnected
{
    /// <summary>Validates, quantizes and packs the weights ([OC, IC] fp32, row-major) and the bias (OC, or null).</summary>
    /// <exception cref="ArgumentException">Invalid descriptor, lengths, values or quantization; the parameter is named.</exception>
    /// <exception cref="NotSupportedException">A LeakyRelu activation.</exception>
    public static QuantizedFullyConnectedWeights Pack(FullyConnectedDescriptor d, float[] weights, float[]? bias, QuantizationParameters input, QuantizationParameters output)
    {
        ArgumentNullException.ThrowIfNull(d);
        ArgumentNullException.ThrowIfNull(weights);
        d.Validate();
        if (weights.Length != d.WeightsLength)
        {
            throw new ArgumentException($"weights has {weights.Length} floats; [OutputChannels, InputChannels] is {d.WeightsLength}.", nameof(weights));
        }

        if (bias is not null && bias.Length != d.OutputChannels)
        {
            throw new ArgumentException($"bias has {bias.Length} floats; it must be null or have OutputChannels = {d.OutputChannels}.", nameof(bias));
        }

        QuantizedLayerChecks.Activations(input, nameof(input));
        QuantizedLayerChecks.Activations(output, nameof(output));
        var clamp = QuantizedLayerChecks.Clamp(d.Activation, output, $"Fully connected {d.InputChannels}->{d.OutputChannels}");
        if (d.InputChannels > QuantizedGemm.MaxK)
        {
            throw new ArgumentException($"InputChannels {d.InputChannels} exceeds the int8 GEMM's {QuantizedGemm.MaxK}.", nameof(d.InputChannels));
        }

        QuantizedChannels.Validate(weights, d.OutputChannels, d.InputChannels, bias, input, output);
        var channels = QuantizedChannels.Create(weights, d.OutputChannels, d.InputChannels, bias, input, output);
        int k = d.InputChannels, n = d.OutputChannels;
        var b = new sbyte[(long)k * n];
        for (int o = 0; o < n; o++)
        {
            for (int p = 0; p < k; p++)
            {
                b[((long)p * n) + o] = channels.Weights[((long)o * k) + p];
            }
        }

        var gemm = QuantizedGemm.Default;
        var packed = gemm.PackB(k, n, b, n, channels.Bias, channels.Multipliers, channels.Shifts, (byte)input.ZeroPoint);
        return new QuantizedFullyConnectedWeights(d, input, output, clamp, channels.WeightScales, gemm, packed);
    }

    /// <summary>Runs the layer: reads Batch·IC bytes, writes Batch rows of OC bytes at the descriptor's output stride.</summary>
    /// <exception cref="ArgumentNullException">A pointer or the weights are null.</exception>
    /// <exception cref="ObjectDisposedException">The weights were disposed.</exception>
    public static void Run(QuantizedFullyConnectedWeights weights, byte* input, byte* output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        QuantizedLayerChecks.NotNull(input, nameof(input));
        QuantizedLayerChecks.NotNull(output, nameof(output));
        ObjectDisposedException.ThrowIf(weights.IsDisposed, weights);
        var d = weights.Descriptor;
        weights.Gemm.Multiply(
            d.Batch,
            new ReadOnlySpan<byte>(input, (int)d.InputLength),
            d.InputChannels,
            weights.Packed,
            new Span<byte>(output, (int)d.OutputLength),
            d.EffectiveOutputStride,
            weights.Clamp,
            workers);
    }

    /// <summary>As <see cref="Run(QuantizedFullyConnectedWeights, byte*, byte*, WorkerGroup?)"/> on spans checked against the descriptor.</summary>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    public static void Run(QuantizedFullyConnectedWeights weights, ReadOnlySpan<byte> input, Span<byte> output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LayerChecks.Length(input.Length, weights.Descriptor.InputLength, nameof(input));
        LayerChecks.Length(output.Length, weights.Descriptor.OutputLength, nameof(output));
        fixed (byte* pi = input)
        fixed (byte* po = output)
        {
            Run(weights, pi, po, workers);
        }
    }
}
