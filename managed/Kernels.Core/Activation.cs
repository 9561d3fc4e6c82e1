namespace Kernels.Core;

/// <summary>Activations fused into a kernel's store, so they never cost a separate pass over memory.</summary>
public enum Activation
{
    /// <summary>Identity.</summary>
    None,
    /// <summary>max(x, 0).</summary>
    Relu,
    /// <summary>min(max(x, 0), 6), as in MobileNet.</summary>
    Relu6,
    /// <summary>x for x ≥ 0, slope·x otherwise (the slope is a parameter of the layer, 0.01 by default as in ONNX).</summary>
    LeakyRelu,
}

/// <summary>Lets kernels implement the clamp activations (None, ReLU, ReLU6) as one min/max.</summary>
public static class ActivationExtensions
{
    /// <summary>
    /// The clamp interval equivalent to the activation: None → (-∞, +∞), Relu → (0, +∞), Relu6 → (0, 6).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="Activation"/>, or is <see cref="Activation.LeakyRelu"/>, which is not a clamp.</exception>
    public static (float Min, float Max) ClampBounds(this Activation a) => a switch
    {
        Activation.None => (float.NegativeInfinity, float.PositiveInfinity),
        Activation.Relu => (0f, float.PositiveInfinity),
        Activation.Relu6 => (0f, 6f),
        Activation.LeakyRelu => throw new ArgumentOutOfRangeException(nameof(a), a, "LeakyRelu is not a clamp; it needs its slope."),
        _ => throw new ArgumentOutOfRangeException(nameof(a), a, "Unknown activation."),
    };
}

