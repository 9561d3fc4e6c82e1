using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The AdvSimd instructions of the depthwise and direct convolution kernels.</summary>
public static partial class Neon
{
    /// <summary><c>ld1r {v.4s}</c>: one float from memory in all four lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<float> LoadAndReplicateToVector128(float* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadAndReplicateToVector128(address);
        }

        return Vector128.Create(*address);
    }
}
