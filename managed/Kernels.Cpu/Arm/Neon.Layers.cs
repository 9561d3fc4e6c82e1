using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The instructions the layer kernels (pooling, GEMV, element-wise) add to the shim.</summary>
public static partial class Neon
{
    /// <summary><c>fmul v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Multiply(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Multiply(left, right);
        }

        return left * right;
    }

    /// <summary><c>fmla v.4s, left.4s, right.4s</c>: addend + left * right with one rounding, as the instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> addend, Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.FusedMultiplyAdd(addend, left, right);
        }

        return Vector128.FusedMultiplyAdd(left, right, addend);
    }
}
