using Kernels.Core;

namespace Kernels.Cpu.Quantized;

/// <summary>The checks every quantized layer makes before it allocates or runs, and the fused-activation clamp.</summary>
internal static class QuantizedLayerChecks
{
    /// <summary>Throws unless <paramref name="q"/> is valid uint8 activation quantization (the CPU layers read and write uint8).</summary>
    public static void Activations(QuantizationParameters q, string name)
    {
        q.Validate(name);
        if (q.DataType != DataType.UInt8)
        {
            throw new ArgumentException($"Tensor '{name}': the CPU int8 layers take uint8 activations, not {q.DataType}.", name);
        }
    }

    /// <summary>Throws unless the pointer is set.</summary>
    public static unsafe void NotNull(void* pointer, string name)
    {
        if (pointer == null)
        {
            throw new ArgumentNullException(name);
        }
    }

    /// <summary>
    /// The output clamp of a fused activation in the quantized domain: None is [0, 255], ReLU starts at the zero
    /// point, ReLU6 also ends at the quantized 6 (saturated to 255). LeakyRelu is not a clamp.
    /// </summary>
    /// <exception cref="NotSupportedException">LeakyRelu.</exception>
    public static QuantizedOutput Clamp(FusedActivation activation, QuantizationParameters output, string layer)
    {
        return activation.Kind switch
        {
            Activation.None => new QuantizedOutput(output.ZeroPoint, 0, 255),
            Activation.Relu => new QuantizedOutput(output.ZeroPoint, (byte)output.ZeroPoint, 255),
            Activation.Relu6 => new QuantizedOutput(output.ZeroPoint, (byte)output.ZeroPoint, (byte)output.Quantize(6f)),
            Activation.LeakyRelu => throw new NotSupportedException(
                $"{layer}: the fused activation LeakyRelu is not supported on the int8 path (only None, Relu and Relu6, which are clamps); run this layer in fp32."),
            _ => throw new ArgumentException($"{layer}: unknown activation {(int)activation.Kind}.", nameof(activation)),
        };
    }
}
