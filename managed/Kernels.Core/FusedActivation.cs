namespace Kernels.Core;

/// <summary>
/// An activation with its parameter, as fused into a kernel's store: <see cref="Activation.LeakyRelu"/>
/// needs its slope, the others are clamps (<see cref="ActivationExtensions.ClampBounds"/>).
/// </summary>
/// <param name="Kind">The activation.</param>
/// <param name="LeakySlope">Slope below zero for <see cref="Activation.LeakyRelu"/> (ONNX's default alpha is 0.01); ignored otherwise.</param>
public readonly record struct FusedActivation(Activation Kind, float LeakySlope = 0.01f)
{
    /// <summary>No activation.</summary>
    public static FusedActivation None => new(Activation.None);

    /// <summary>Implicit from the parameterless activations (the leaky slope takes its default).</summary>
    public static implicit operator FusedActivation(Activation kind) => new(kind);

    /// <summary>The activation of one value: the scalar definition every vector kernel must match.</summary>
    public float Apply(float x) => Kind switch
    {
        Activation.None => x,
        Activation.Relu => MathF.Max(x, 0f),
        Activation.Relu6 => MathF.Min(MathF.Max(x, 0f), 6f),

        // max(x, 0) + slope·min(x, 0) with one rounding: the form the vector epilogues use.
        Activation.LeakyRelu => MathF.FusedMultiplyAdd(MathF.Min(x, 0f), LeakySlope, MathF.Max(x, 0f)),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "Unknown activation."),
    };

    /// <summary>Throws unless the kind is defined and the slope finite.</summary>
    /// <exception cref="ArgumentException">The activation is unknown or the leaky slope is not finite.</exception>
    public void Validate(string parameterName)
    {
        if ((uint)Kind > (uint)Activation.LeakyRelu)
        {
            throw new ArgumentException($"Unknown activation {(int)Kind}.", parameterName);
        }

        if (Kind == Activation.LeakyRelu && !float.IsFinite(LeakySlope))
        {
            throw new ArgumentException($"The leaky ReLU slope must be finite; it is {LeakySlope}.", parameterName);
        }
    }

    /// <inheritdoc />
    public override string ToString() => Kind == Activation.LeakyRelu ? $"LeakyRelu({LeakySlope})" : Kind.ToString();
}
