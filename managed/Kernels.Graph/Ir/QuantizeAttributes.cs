using Kernels.Core;

namespace Kernels.Graph;

/// <summary>
/// Attributes of <see cref="OperatorKind.QuantizeLinear"/> and <see cref="OperatorKind.Requantize"/>: the integer
/// range the result is clamped to (the range of the ONNX element type the float values stand for).
/// </summary>
/// <param name="Min">The smallest integer, e.g. 0 for uint8.</param>
/// <param name="Max">The largest integer, e.g. 255 for uint8.</param>
public sealed record QuantizeAttributes(int Min, int Max)
{
    /// <summary>Integers up to this magnitude are exact in float32, so the float values hold them without loss.</summary>
    public const int ExactFloatLimit = 1 << 24;

    /// <summary>[0, 255].</summary>
    public static QuantizeAttributes UInt8 { get; } = new(byte.MinValue, byte.MaxValue);

    /// <summary>[-128, 127].</summary>
    public static QuantizeAttributes Int8 { get; } = new(sbyte.MinValue, sbyte.MaxValue);

    /// <summary>The range of an 8-bit type.</summary>
    /// <exception cref="ArgumentException">The type is not uint8 or int8.</exception>
    public static QuantizeAttributes For(DataType type) => type switch
    {
        DataType.UInt8 => UInt8,
        DataType.Int8 => Int8,
        _ => throw new ArgumentException($"Quantized values are uint8 or int8, not {type}.", nameof(type)),
    };

    /// <summary>Throws unless Min &lt; Max and both are exact in float32.</summary>
    /// <exception cref="ArgumentException">The range is empty or not exact in float32.</exception>
    public void Validate()
    {
        if (Min >= Max || Min < -ExactFloatLimit || Max > ExactFloatLimit)
        {
            throw new ArgumentException($"The integer range [{Min}, {Max}] must be non-empty and within ±2^24 (exact in float32).", nameof(Min));
        }
    }
}
