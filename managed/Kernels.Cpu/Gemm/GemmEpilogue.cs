using Kernels.Core;

namespace Kernels.Cpu.Gemm;

/// <summary>How a <see cref="FusedActivation"/> reaches the micro-kernel's store: (min, max, flags of the last K block).</summary>
internal static class GemmEpilogue
{
    public static (float Min, float Max, int FinalFlags) From(FusedActivation activation) => activation.Kind switch
    {
        Activation.None => (float.NegativeInfinity, float.PositiveInfinity, 0),
        Activation.LeakyRelu => (activation.LeakySlope, 0f, (int)GemmStoreFlags.LeakyRelu),
        _ => Clamp(activation.Kind.ClampBounds()),
    };

    private static (float, float, int) Clamp((float Min, float Max) bounds) => (bounds.Min, bounds.Max, (int)GemmStoreFlags.Clamp);
}
