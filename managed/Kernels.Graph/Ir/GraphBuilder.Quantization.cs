namespace Kernels.Graph;

/// <summary>The linear quantization operators: integers held as float values at the boundaries of a float graph.</summary>
public sealed partial class GraphBuilder
{
    /// <summary>y = clamp(round_half_even(x / scale[c]) + zeroPoint[c]) (roles <see cref="ConstantRole.Scale"/> and <see cref="ConstantRole.ZeroPoint"/>, each [C]).</summary>
    /// <exception cref="ArgumentException">A constant does not fit the input's channels, or the range is invalid.</exception>
    public Value QuantizeLinear(Value input, Constant scale, Constant zeroPoint, QuantizeAttributes range, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(zeroPoint);
        return Add(OperatorKind.QuantizeLinear, name, [input], [scale, zeroPoint], range);
    }

    /// <summary>y = (x − zeroPoint[c])·scale[c] (roles <see cref="ConstantRole.Scale"/> and <see cref="ConstantRole.ZeroPoint"/>, each [C]).</summary>
    /// <exception cref="ArgumentException">A constant does not fit the input's channels.</exception>
    public Value DequantizeLinear(Value input, Constant scale, Constant zeroPoint, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(zeroPoint);
        return Add(OperatorKind.DequantizeLinear, name, [input], [scale, zeroPoint], null);
    }

    /// <summary>y = clamp(round_half_even(x·multiplier[c]) + zeroPoint[c]) of an integer accumulator (roles <see cref="ConstantRole.Scale"/> and <see cref="ConstantRole.ZeroPoint"/>).</summary>
    /// <exception cref="ArgumentException">A constant does not fit the input's channels, or the range is invalid.</exception>
    public Value Requantize(Value input, Constant multiplier, Constant zeroPoint, QuantizeAttributes range, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(multiplier);
        ArgumentNullException.ThrowIfNull(zeroPoint);
        return Add(OperatorKind.Requantize, name, [input], [multiplier, zeroPoint], range);
    }
}
