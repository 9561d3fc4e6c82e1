using Kernels.Core;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// A <see cref="FusedActivation"/> in the form a vector store applies it: a clamp to [Min, Max]
/// (None, Relu, Relu6) or the leaky form fma(min(x, 0), Slope, max(x, 0)), the same single rounding as
/// <see cref="FusedActivation.Apply"/>. Kernels branch on <see cref="Mode"/> once per stored vector; the
/// branch always goes the same way within a layer, so it costs nothing next to the multiply-adds.
/// </summary>
internal readonly struct StoreActivation
{
    /// <summary>No activation.</summary>
    public const int Identity = 0;

    /// <summary>Clamp to [Min, Max].</summary>
    public const int Clamp = 1;

    /// <summary>Leaky ReLU with <see cref="Slope"/>.</summary>
    public const int Leaky = 2;

    public StoreActivation(FusedActivation activation)
    {
        Slope = activation.LeakySlope;
        if (activation.Kind == Activation.LeakyRelu)
        {
            Mode = Leaky;
            Min = float.NegativeInfinity;
            Max = float.PositiveInfinity;
        }
        else
        {
            (Min, Max) = activation.Kind.ClampBounds();
            Mode = activation.Kind == Activation.None ? Identity : Clamp;
        }
    }

    /// <summary><see cref="Identity"/>, <see cref="Clamp"/> or <see cref="Leaky"/>.</summary>
    public int Mode { get; }

    /// <summary>Lower clamp bound.</summary>
    public float Min { get; }

    /// <summary>Upper clamp bound.</summary>
    public float Max { get; }

    /// <summary>Leaky ReLU slope.</summary>
    public float Slope { get; }

    /// <summary>The scalar activation, for the scalar paths (channel counts below one vector).</summary>
    public float Apply(float x) => Mode switch
    {
        Clamp => MathF.Min(MathF.Max(x, Min), Max),
        Leaky => MathF.FusedMultiplyAdd(MathF.Min(x, 0f), Slope, MathF.Max(x, 0f)),
        _ => x,
    };
}
