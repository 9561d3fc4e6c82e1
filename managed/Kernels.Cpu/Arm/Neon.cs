using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>
/// The AdvSimd instructions the ARM micro-kernels use. On arm64 each method is exactly one
/// AdvSimd intrinsic (the emulation branch is removed by the JIT); elsewhere it is a bit-exact
/// Vector128 emulation, so the ARM kernels' logic (tails, indexing, accumulation order, fused
/// rounding) runs in the x86 test suite. tests/arm64-codegen proves the arm64 listing.
/// </summary>
public static partial class Neon
{
    /// <summary><c>ld1 {v.4s}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<float> LoadVector128(float* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadVector128(address);
        }

        return Vector128.Load(address);
    }

    /// <summary><c>st1 {v.4s}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* address, Vector128<float> value)
    {
        if (AdvSimd.IsSupported)
        {
            AdvSimd.Store(address, value);
            return;
        }

        value.Store(address);
    }

    /// <summary><c>dup v.4s, w</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> DuplicateToVector128(float value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.DuplicateToVector128(value);
        }

        return Vector128.Create(value);
    }

    /// <summary>
    /// <c>fmla v.4s, left.4s, right.s[index]</c>: addend + left * right[index], one rounding.
    /// The emulation uses a fused multiply-add too, so results match the ARM instruction bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAddBySelectedScalar(
        Vector128<float> addend, Vector128<float> left, Vector128<float> right, [ConstantExpected(Max = (byte)3)] byte rightIndex)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.FusedMultiplyAddBySelectedScalar(addend, left, right, rightIndex);
        }

        return Vector128.FusedMultiplyAdd(left, Vector128.Create(right.GetElement(rightIndex)), addend);
    }

    /// <summary><c>fadd v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Add(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Add(left, right);
        }

        return left + right;
    }

    /// <summary><c>fmax v.4s</c>: NaN propagates and -0 &lt; +0, as Vector128.Max defines it since .NET 9.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Max(left, right);
        }

        return Vector128.Max(left, right);
    }

    /// <summary><c>fmin v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Min(left, right);
        }

        return Vector128.Min(left, right);
    }

    /// <summary><c>zip1 v.4s</c>: (l0, r0, l1, r1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipLow(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipLow(left, right);
        }

        return Vector128.Create(left.GetElement(0), right.GetElement(0), left.GetElement(1), right.GetElement(1));
    }

    /// <summary><c>zip2 v.4s</c>: (l2, r2, l3, r3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipHigh(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipHigh(left, right);
        }

        return Vector128.Create(left.GetElement(2), right.GetElement(2), left.GetElement(3), right.GetElement(3));
    }

    /// <summary><c>zip1 v.2d</c> on float data: (l0, l1, r0, r1), the low halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipLow64(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipLow(left.AsUInt64(), right.AsUInt64()).AsSingle();
        }

        return Vector128.Create(left.GetLower(), right.GetLower());
    }

    /// <summary><c>zip2 v.2d</c> on float data: (l2, l3, r2, r3), the high halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> ZipHigh64(Vector128<float> left, Vector128<float> right)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.ZipHigh(left.AsUInt64(), right.AsUInt64()).AsSingle();
        }

        return Vector128.Create(left.GetUpper(), right.GetUpper());
    }

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
}
