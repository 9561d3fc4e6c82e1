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

/// <summary>Attributes of <see cref="OperatorKind.ConstantTensor"/>.</summary>
/// <param name="Shape">The NHWC shape of the tensor (its constant holds exactly that many values, NHWC order).</param>
public sealed record ConstantTensorAttributes(Kernels.Core.TensorShape Shape);

/// <summary>Attributes of <see cref="OperatorKind.Reshape"/>.</summary>
/// <param name="Shape">The new NHWC shape; it must hold as many elements as the input.</param>
public sealed record ReshapeAttributes(Kernels.Core.TensorShape Shape);

/// <summary>How <see cref="OperatorKind.Pad"/> fills the border (ONNX Pad's modes).</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant,

    /// <summary>The nearest edge element repeated.</summary>
    Edge,

    /// <summary>Mirrored without repeating the edge element (needs pads smaller than the axis).</summary>
    Reflect,
}

/// <summary>Attributes of <see cref="OperatorKind.Pad"/>: elements added before and after each of H, W and C (NHWC).</summary>
public sealed record PadAttributes(int Top, int Bottom, int Left, int Right, int ChannelsBefore, int ChannelsAfter, PadMode Mode = PadMode.Constant, float Value = 0f)
{
    /// <summary>Throws unless every pad is non-negative, the value finite (constant mode) and reflect pads fit the input.</summary>
    /// <exception cref="ArgumentException">The bad field, named.</exception>
    public void Validate(Kernels.Core.TensorShape input)
    {
        (string Name, int Pad)[] pads =
            [(nameof(Top), Top), (nameof(Bottom), Bottom), (nameof(Left), Left), (nameof(Right), Right), (nameof(ChannelsBefore), ChannelsBefore), (nameof(ChannelsAfter), ChannelsAfter)];
        foreach ((string name, int pad) in pads)
        {
            if (pad < 0)
            {
                throw new ArgumentException($"{name} must be non-negative; it is {pad}.", name);
            }
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentException($"Unknown pad mode {(int)Mode}.", nameof(Mode));
        }

        if (Mode == PadMode.Constant && float.IsNaN(Value))
        {
            throw new ArgumentException("The pad value is NaN.", nameof(Value));
        }

        if (Mode == PadMode.Reflect && (Math.Max(Top, Bottom) >= input.H || Math.Max(Left, Right) >= input.W || Math.Max(ChannelsBefore, ChannelsAfter) >= input.C))
        {
            throw new ArgumentException($"Reflect padding needs every pad smaller than its axis; the input is {input}, the pads H {Top}/{Bottom}, W {Left}/{Right}, C {ChannelsBefore}/{ChannelsAfter}.", nameof(Mode));
        }
    }

    /// <summary>The padded shape.</summary>
    public Kernels.Core.TensorShape Apply(Kernels.Core.TensorShape x) =>
        new(x.N, checked(x.H + Top + Bottom), checked(x.W + Left + Right), checked(x.C + ChannelsBefore + ChannelsAfter));
}
