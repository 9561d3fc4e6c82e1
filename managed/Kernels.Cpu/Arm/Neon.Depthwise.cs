using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The AdvSimd instructions of the depthwise and direct convolution kernels.</summary>
public static partial class Neon
{
    /// <summary>
    /// <c>fmla v.4s, left.4s, right.4s</c>: addend + left * right with one rounding. The emulation is a
    /// fused multiply-add too, so it matches the ARM instruction bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> addend, Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.FusedMultiplyAdd(addend, left, right);
        }

        return Vector128.FusedMultiplyAdd(left, right, addend);
    }

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
