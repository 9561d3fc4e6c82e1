using Kernels.Core;

namespace Kernels.OpenCL.Operators;

/// <summary>The (act, slope) kernel arguments the .cl files' activate helpers take.</summary>
internal static class ActivationCode
{
    public static (int Code, float Slope) Of(FusedActivation activation) => activation.Kind switch
    {
        Activation.None => (0, 0f),
        Activation.Relu => (1, 0f),
        Activation.Relu6 => (2, 0f),
        Activation.LeakyRelu => (3, activation.LeakySlope),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}
