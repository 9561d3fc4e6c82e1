namespace Kernels.Core;

/// <summary>
/// Affine (asymmetric) quantization of one tensor: real = <see cref="Scale"/> × (q − <see cref="ZeroPoint"/>), with q
/// an 8-bit integer of <see cref="DataType"/> (activations: uint8 or int8 per tensor; weights: int8 symmetric per
/// output channel, zero point 0). Rounding is to nearest, ties away from zero, then saturation to the type's range,
/// as ONNX QuantizeLinear defines up to its tie rule (ONNX rounds ties to even; <see cref="Quantize"/> names which).
/// </summary>
/// <param name="Scale">The step between adjacent quantized values; finite and positive.</param>
/// <param name="ZeroPoint">The quantized value that represents real 0; within the type's range.</param>
/// <param name="DataType"><see cref="DataType.UInt8"/> or <see cref="DataType.Int8"/>.</param>
public readonly record struct QuantizationParameters(float Scale, int ZeroPoint, DataType DataType = DataType.UInt8)
{
    /// <summary>The smallest quantized value of the type.</summary>
    public int QMin => DataType == DataType.Int8 ? sbyte.MinValue : byte.MinValue;

    /// <summary>The largest quantized value of the type.</summary>
    public int QMax => DataType == DataType.Int8 ? sbyte.MaxValue : byte.MaxValue;

    /// <summary>The smallest real value the tensor can hold.</summary>
    public float RealMin => Scale * (QMin - ZeroPoint);

    /// <summary>The largest real value the tensor can hold.</summary>
    public float RealMax => Scale * (QMax - ZeroPoint);

    /// <summary>Throws unless the type is 8-bit, the scale finite and positive and the zero point in range.</summary>
    /// <exception cref="ArgumentException">What is wrong, naming <paramref name="tensor"/>.</exception>
    public void Validate(string tensor)
    {
        if (DataType is not (DataType.UInt8 or DataType.Int8))
        {
            throw new ArgumentException($"Tensor '{tensor}': quantized tensors are uint8 or int8, not {DataType}.", nameof(DataType));
        }

        if (!float.IsFinite(Scale) || Scale <= 0f)
        {
            throw new ArgumentException($"Tensor '{tensor}': the scale must be finite and positive; it is {Scale}.", nameof(Scale));
        }

        if (ZeroPoint < QMin || ZeroPoint > QMax)
        {
            throw new ArgumentException($"Tensor '{tensor}': the zero point {ZeroPoint} is outside [{QMin}, {QMax}] of {DataType}.", nameof(ZeroPoint));
        }
    }

    /// <summary>
    /// The parameters that cover [<paramref name="min"/>, <paramref name="max"/>] (widened to include 0, so zero is
    /// exact) with the whole range of <paramref name="dataType"/>; the zero point is the rounded, clamped image of 0.
    /// A range of width 0 gets scale 1.
    /// </summary>
    /// <exception cref="ArgumentException">A bound is not finite, or min &gt; max.</exception>
    public static QuantizationParameters FromRange(float min, float max, DataType dataType = DataType.UInt8)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max) || min > max)
        {
            throw new ArgumentException($"The range [{min}, {max}] is not a finite interval.", nameof(min));
        }

        if (dataType is not (DataType.UInt8 or DataType.Int8))
        {
            throw new ArgumentException($"Quantized tensors are uint8 or int8, not {dataType}.", nameof(dataType));
        }

        double lo = Math.Min(min, 0.0), hi = Math.Max(max, 0.0);
        int qmin = dataType == DataType.Int8 ? sbyte.MinValue : byte.MinValue;
        int qmax = dataType == DataType.Int8 ? sbyte.MaxValue : byte.MaxValue;
        double scale = (hi - lo) / (qmax - qmin);
        if (scale == 0 || !double.IsNormal((float)scale))
        {
            return new QuantizationParameters(1f, Math.Clamp(0, qmin, qmax), dataType);
        }

        int zeroPoint = (int)Math.Clamp(Math.Round(qmin - (lo / scale), MidpointRounding.AwayFromZero), qmin, qmax);
        return new QuantizationParameters((float)scale, zeroPoint, dataType);
    }

    /// <summary>
    /// round(x / scale) + zero point, saturated; the division in float32 and ties to even, exactly as ONNX
    /// QuantizeLinear defines it (NaN gives the zero point).
    /// </summary>
    public int Quantize(float x)
    {
        float q = MathF.Round(x / Scale, MidpointRounding.ToEven) + ZeroPoint;
        return float.IsNaN(q) ? ZeroPoint : (int)Math.Clamp(q, QMin, QMax);
    }

    /// <summary>scale × (q − zero point).</summary>
    public float Dequantize(int q) => Scale * (q - ZeroPoint);
}
