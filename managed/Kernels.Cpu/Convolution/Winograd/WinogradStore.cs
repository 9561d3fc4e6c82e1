using System.Runtime.CompilerServices;
using Kernels.Core;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>How the output transform finishes a value: the fused activation as a mode and its constants.</summary>
/// <param name="Mode">0: none; 1: clamp to [Low, High] (ReLU, ReLU6); 2: leaky ReLU with <paramref name="Slope"/>.</param>
/// <param name="Low">Clamp minimum.</param>
/// <param name="High">Clamp maximum.</param>
/// <param name="Slope">Leaky ReLU slope.</param>
internal readonly record struct WinogradEpilogue(int Mode, float Low, float High, float Slope)
{
    public const int None = 0;
    public const int Clamp = 1;
    public const int Leaky = 2;

    public static WinogradEpilogue From(FusedActivation activation) => activation.Kind switch
    {
        Activation.None => new(None, 0, 0, 0),
        Activation.Relu => new(Clamp, 0f, float.PositiveInfinity, 0),
        Activation.Relu6 => new(Clamp, 0f, 6f, 0),
        Activation.LeakyRelu => new(Leaky, 0, 0, activation.LeakySlope),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Unknown activation."),
    };
}

/// <summary>Bias, activation and store of one output value vector: shared by both tile sizes.</summary>
internal static unsafe class WinogradStore
{
    /// <summary>Stores bias + v, activated exactly as <see cref="FusedActivation.Apply"/> defines it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<T>(float* address, T v, T bias, int mode, T low, T high, T slope)
        where T : unmanaged, IFloatLanes<T>
    {
        v = T.Add(v, bias);
        if (mode == WinogradEpilogue.Clamp)
        {
            v = T.Min(T.Max(v, low), high);
        }
        else if (mode == WinogradEpilogue.Leaky)
        {
            var zero = T.Splat(0f);
            v = T.MultiplyAdd(T.Max(v, zero), T.Min(v, zero), slope);
        }

        T.Store(address, v);
    }
}
