using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The AdvSimd instructions the Winograd transforms use (element-wise arithmetic and a one-lane store).</summary>
public static partial class Neon
{
    /// <summary><c>fsub v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Subtract(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Subtract(left, right);
        }

        return left - right;
    }

    /// <summary><c>fmla v.4s, left.4s, right.4s</c>: addend + left * right, one rounding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> addend, Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.FusedMultiplyAdd(addend, left, right);
        }

        return Vector128.FusedMultiplyAdd(left, right, addend);
    }

    /// <summary><c>fmls v.4s, left.4s, right.4s</c>: minuend - left * right, one rounding (negation is exact, so the emulation is too).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplySubtract(Vector128<float> minuend, Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.FusedMultiplySubtract(minuend, left, right);
        }

        return Vector128.FusedMultiplyAdd(-left, right, minuend);
    }

    /// <summary><c>st1 {v.s}[index], [address]</c>: stores one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreSelectedScalar(float* address, Vector128<float> value, [ConstantExpected(Max = (byte)3)] byte index)
    {
        if (AdvSimd.IsSupported)
        {
            AdvSimd.StoreSelectedScalar(address, value, index);
            return;
        }

        *address = value.GetElement(index);
    }
}
