using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The integer instructions of the int8 GEMM kernels (Kernels.Cpu.Quantized), one AdvSimd instruction each on arm64.</summary>
public static partial class Neon
{
    /// <summary><c>ld1 {v.16b}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<sbyte> LoadVector128(sbyte* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadVector128(address);
        }

        return Vector128.Load(address);
    }

    /// <summary><c>ld1 {v.4s}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<int> LoadVector128(int* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadVector128(address);
        }

        return Vector128.Load(address);
    }

    /// <summary><c>st1 {v.4s}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(int* address, Vector128<int> value)
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
    public static Vector128<int> DuplicateToVector128(int value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.DuplicateToVector128(value);
        }

        return Vector128.Create(value);
    }

    /// <summary><c>dup v.4s, v.s[index]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DuplicateSelectedScalarToVector128(Vector128<int> value, [ConstantExpected(Max = (byte)3)] byte index)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.DuplicateSelectedScalarToVector128(value, index);
        }

        return Vector128.Create(value.GetElement(index));
    }

    /// <summary>
    /// <c>sdot v.4s, left.16b, right.4b[index]</c>: lane i += Σ_t left[4i+t]·right[4·index+t] (int32, wrapping).
    /// Without the dot-product extension (x86, or arm64 under DOTNET_EnableArm64Dp=0) an exact emulation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> DotProductBySelectedQuadruplet(
        Vector128<int> addend, Vector128<sbyte> left, Vector128<sbyte> right, [ConstantExpected(Max = (byte)3)] byte rightIndex)
    {
        if (Dp.IsSupported)
        {
            return Dp.DotProductBySelectedQuadruplet(addend, left, right, rightIndex);
        }

        Vector128<sbyte> quad = Vector128.Create(right.AsInt32().GetElement(rightIndex)).AsSByte();
        // int8·int8 fits int16 (|p| ≤ 16384); each int32 lane of the widened products is then one lane's 4 terms.
        Vector128<short> p0 = Vector128.WidenLower(left) * Vector128.WidenLower(quad);
        Vector128<short> p1 = Vector128.WidenUpper(left) * Vector128.WidenUpper(quad);
        return addend + Vector128.Create(
            Vector128.Sum(Vector128.WidenLower(p0)),
            Vector128.Sum(Vector128.WidenUpper(p0)),
            Vector128.Sum(Vector128.WidenLower(p1)),
            Vector128.Sum(Vector128.WidenUpper(p1)));
    }

    /// <summary><c>smull v.8h, left.8b, right.8b</c> on the low halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> MultiplyWideningLower(Vector128<sbyte> left, Vector128<sbyte> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningLower(left.GetLower(), right.GetLower());
        }

        return Vector128.WidenLower(left) * Vector128.WidenLower(right);
    }

    /// <summary><c>smull2 v.8h, left.16b, right.16b</c> on the high halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> MultiplyWideningUpper(Vector128<sbyte> left, Vector128<sbyte> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningUpper(left, right);
        }

        return Vector128.WidenUpper(left) * Vector128.WidenUpper(right);
    }

    /// <summary><c>smlal v.8h, left.8b, right.8b</c>: addend + products of the low halves (int16, wrapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> MultiplyWideningLowerAndAdd(Vector128<short> addend, Vector128<sbyte> left, Vector128<sbyte> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningLowerAndAdd(addend, left.GetLower(), right.GetLower());
        }

        return addend + (Vector128.WidenLower(left) * Vector128.WidenLower(right));
    }

    /// <summary><c>smlal2 v.8h, left.16b, right.16b</c>: addend + products of the high halves (int16, wrapping).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> MultiplyWideningUpperAndAdd(Vector128<short> addend, Vector128<sbyte> left, Vector128<sbyte> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningUpperAndAdd(addend, left, right);
        }

        return addend + (Vector128.WidenUpper(left) * Vector128.WidenUpper(right));
    }

    /// <summary><c>sadalp v.4s, value.8h</c>: addend lane i + value[2i] + value[2i+1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> AddPairwiseWideningAndAdd(Vector128<int> addend, Vector128<short> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.AddPairwiseWideningAndAdd(addend, value);
        }

        // Each int32 lane holds value[2i] in its low half and value[2i+1] in its high half.
        Vector128<int> pairs = value.AsInt32();
        return addend + Vector128.ShiftRightArithmetic(Vector128.ShiftLeft(pairs, 16), 16) + Vector128.ShiftRightArithmetic(pairs, 16);
    }

    /// <summary><c>addp v.4s</c>: (l0 + l1, l2 + l3, r0 + r1, r2 + r3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> AddPairwise(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.AddPairwise(left, right);
        }

        return Vector128.Create(
            left.GetElement(0) + left.GetElement(1), left.GetElement(2) + left.GetElement(3),
            right.GetElement(0) + right.GetElement(1), right.GetElement(2) + right.GetElement(3));
    }

    /// <summary><c>add v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Add(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Add(left, right);
        }

        return left + right;
    }

    /// <summary><c>and v.16b</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> And(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.And(left, right);
        }

        return left & right;
    }

    /// <summary><c>neg v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Negate(Vector128<int> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Negate(value);
        }

        return -value;
    }

    /// <summary><c>smax v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Max(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Max(left, right);
        }

        return Vector128.Max(left, right);
    }

    /// <summary><c>smin v.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Min(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Min(left, right);
        }

        return Vector128.Min(left, right);
    }

    /// <summary><c>smull v.2d, left.2s, right.2s</c> on the low halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<long> MultiplyWideningLower(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningLower(left.GetLower(), right.GetLower());
        }

        return Vector128.WidenLower(left) * Vector128.WidenLower(right);
    }

    /// <summary><c>smull2 v.2d, left.4s, right.4s</c> on the high halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<long> MultiplyWideningUpper(Vector128<int> left, Vector128<int> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningUpper(left, right);
        }

        return Vector128.WidenUpper(left) * Vector128.WidenUpper(right);
    }

    /// <summary><c>shrn v.2s, value.2d, #shift</c>: the low 32 bits of each lane shifted right logically.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector64<int> ShiftRightLogicalNarrowingLower(Vector128<long> value, [ConstantExpected(Min = (byte)1, Max = (byte)32)] byte shift)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ShiftRightLogicalNarrowingLower(value, shift);
        }

        Vector128<ulong> shifted = Vector128.ShiftRightLogical(value.AsUInt64(), shift);
        return Vector128.Narrow(shifted, shifted).AsInt32().GetLower();
    }

    /// <summary><c>shrn2 v.4s, value.2d, #shift</c>: lower, then the narrowed lanes of value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> ShiftRightLogicalNarrowingUpper(Vector64<int> lower, Vector128<long> value, [ConstantExpected(Min = (byte)1, Max = (byte)32)] byte shift)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ShiftRightLogicalNarrowingUpper(lower, value, shift);
        }

        Vector128<ulong> shifted = Vector128.ShiftRightLogical(value.AsUInt64(), shift);
        return Vector128.Create(lower, Vector128.Narrow(shifted, shifted).AsInt32().GetLower());
    }

    /// <summary><c>sshl v.4s</c>: each lane shifted by its count, arithmetically right where the count is negative (−31..31 here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> ShiftArithmetic(Vector128<int> value, Vector128<int> count)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ShiftArithmetic(value, count);
        }

        return Vector128.Create(
            ShiftScalar(value.GetElement(0), count.GetElement(0)), ShiftScalar(value.GetElement(1), count.GetElement(1)),
            ShiftScalar(value.GetElement(2), count.GetElement(2)), ShiftScalar(value.GetElement(3), count.GetElement(3)));

        static int ShiftScalar(int v, int c) => c >= 0 ? v << c : v >> -c;
    }

    /// <summary><c>ushl v.4s</c>: each lane shifted by its count, logically right where the count is negative (−31..31 here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> ShiftLogical(Vector128<int> value, Vector128<int> count)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ShiftLogical(value, count);
        }

        return Vector128.Create(
            ShiftScalar(value.GetElement(0), count.GetElement(0)), ShiftScalar(value.GetElement(1), count.GetElement(1)),
            ShiftScalar(value.GetElement(2), count.GetElement(2)), ShiftScalar(value.GetElement(3), count.GetElement(3)));

        static int ShiftScalar(int v, int c) => c >= 0 ? v << c : (int)((uint)v >> -c);
    }

    /// <summary><c>xtn v.4h, value.4s</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector64<short> ExtractNarrowingLower(Vector128<int> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ExtractNarrowingLower(value);
        }

        return Vector128.Narrow(value, value).GetLower();
    }

    /// <summary><c>xtn2 v.8h, value.4s</c>: lower, then the narrowed lanes of value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> ExtractNarrowingUpper(Vector64<short> lower, Vector128<int> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ExtractNarrowingUpper(lower, value);
        }

        return Vector128.Create(lower, Vector128.Narrow(value, value).GetLower());
    }

    /// <summary><c>xtn v.8b, value.8h</c>: the low byte of each 16-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector64<byte> ExtractNarrowingLower(Vector128<short> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ExtractNarrowingLower(value.AsUInt16());
        }

        return Vector128.Narrow(value.AsUInt16(), value.AsUInt16()).GetLower();
    }

    /// <summary><c>st1 {v.8b}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(byte* address, Vector64<byte> value)
    {
        if (AdvSimd.IsSupported)
        {
            AdvSimd.Store(address, value);
            return;
        }

        Unsafe.WriteUnaligned(address, value.AsUInt64().ToScalar());
    }

    /// <summary><c>st1 {v.s}[0]</c>: the low 4 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreLow32(byte* address, Vector64<byte> value)
    {
        if (AdvSimd.IsSupported)
        {
            AdvSimd.StoreSelectedScalar((int*)address, value.AsInt32(), 0);
            return;
        }

        Unsafe.WriteUnaligned(address, value.AsInt32().ToScalar());
    }
}
