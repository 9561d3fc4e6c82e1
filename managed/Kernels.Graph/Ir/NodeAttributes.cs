namespace Kernels.Graph;

/// <summary>
/// Attributes of <see cref="OperatorKind.BatchNormalization"/>: y = scale·(x - mean)/√(variance + ε) + bias per channel.
/// The four per-channel vectors are the node's constants, so folding into the producing convolution needs nothing else.
/// </summary>
/// <param name="Epsilon">Added to the variance; ONNX and PyTorch default to 1e-5.</param>
public sealed record BatchNormAttributes(float Epsilon = 1e-5f)
{
    /// <summary>Throws unless ε is finite and positive.</summary>
    /// <exception cref="ArgumentException">ε is not finite or not positive.</exception>
    public void Validate()
    {
        if (!float.IsFinite(Epsilon) || Epsilon <= 0f)
        {
            throw new ArgumentException($"Epsilon must be finite and positive; it is {Epsilon}.", nameof(Epsilon));
        }
    }
}

/// <summary>Attributes of <see cref="OperatorKind.Dropout"/>; the ratio is kept only to describe the training graph.</summary>
/// <param name="Ratio">The training drop probability, in [0, 1).</param>
public sealed record DropoutAttributes(float Ratio = 0.5f)
{
    /// <summary>Throws unless the ratio is in [0, 1).</summary>
    /// <exception cref="ArgumentException">The ratio is outside [0, 1).</exception>
    public void Validate()
    {
        if (!(Ratio >= 0f && Ratio < 1f))
        {
            throw new ArgumentException($"Ratio must be in [0, 1); it is {Ratio}.", nameof(Ratio));
        }
    }
}

/// <summary>Attributes of <see cref="OperatorKind.HardSigmoid"/>: y = max(0, min(1, α·x + β)).</summary>
/// <param name="Alpha">The slope; ONNX defaults to 0.2.</param>
/// <param name="Beta">The offset; ONNX defaults to 0.5.</param>
public sealed record HardSigmoidAttributes(float Alpha = 0.2f, float Beta = 0.5f)
{
    /// <summary>Throws unless α and β are finite.</summary>
    /// <exception cref="ArgumentException">α or β is not finite.</exception>
    public void Validate()
    {
        if (!float.IsFinite(Alpha) || !float.IsFinite(Beta))
        {
            throw new ArgumentException($"Alpha and Beta must be finite; they are {Alpha} and {Beta}.", nameof(Alpha));
        }
    }
}
