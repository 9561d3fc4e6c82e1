namespace Kernels.Cpu.Quantized;

/// <summary>
/// How the int8 GEMM stores its uint8 output: out = clamp(requantized + ZeroPoint, Min, Max). A fused ReLU is
/// Min = ZeroPoint; ReLU6 is also Max = the quantized 6.
/// </summary>
/// <param name="ZeroPoint">Output zero point; |ZeroPoint| ≤ <see cref="Requantization.MaxZeroPointMagnitude"/> (negative is allowed: the clamp decides).</param>
/// <param name="Min">Smallest stored value.</param>
/// <param name="Max">Largest stored value (≥ Min).</param>
public readonly record struct QuantizedOutput(int ZeroPoint, byte Min = 0, byte Max = 255)
{
    /// <summary>Throws unless the parameters are usable.</summary>
    /// <exception cref="ArgumentException">ZeroPoint out of range, or Min &gt; Max.</exception>
    public void Validate(string parameterName)
    {
        if (ZeroPoint is > Requantization.MaxZeroPointMagnitude or < -Requantization.MaxZeroPointMagnitude)
        {
            throw new ArgumentException($"{parameterName}.ZeroPoint is {ZeroPoint}; it must be within ±{Requantization.MaxZeroPointMagnitude}.", parameterName);
        }

        if (Min > Max)
        {
            throw new ArgumentException($"{parameterName}.Min ({Min}) is greater than {parameterName}.Max ({Max}).", parameterName);
        }
    }
}
