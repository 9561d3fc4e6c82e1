using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The widening 16-bit instructions of the int8 depthwise kernel (Kernels.Cpu.Quantized), one AdvSimd instruction each on arm64.</summary>
public static partial class Neon
{
    /// <summary><c>ld1 {v.8b}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector64<byte> LoadVector64(byte* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadVector64(address);
        }

        return Vector64.Create(Unsafe.ReadUnaligned<ulong>(address)).AsByte();
    }

    /// <summary><c>ld1 {v.8h}</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector128<short> LoadVector128(short* address)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.LoadVector128(address);
        }

        return Vector128.Load(address);
    }

    /// <summary><c>dup v.8h, w</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> DuplicateToVector128(short value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.DuplicateToVector128(value);
        }

        return Vector128.Create(value);
    }

    /// <summary><c>uxtl v.8h, v.8b</c>: 8 bytes zero-extended to 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> ZeroExtendWideningLower(Vector64<byte> value)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.ZeroExtendWideningLower(value).AsInt16();
        }

        return Vector128.WidenLower(value.ToVector128()).AsInt16();
    }

    /// <summary><c>sub v.8h</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Subtract(Vector128<short> left, Vector128<short> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.Subtract(left, right);
        }

        return left - right;
    }

    /// <summary><c>smlal v.4s, left.4h, right.4h</c>: addend + products of the low halves, widened to int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyWideningLowerAndAdd(Vector128<int> addend, Vector128<short> left, Vector128<short> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningLowerAndAdd(addend, left.GetLower(), right.GetLower());
        }

        return addend + (Vector128.WidenLower(left) * Vector128.WidenLower(right));
    }

    /// <summary><c>smlal2 v.4s, left.8h, right.8h</c>: addend + products of the high halves, widened to int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyWideningUpperAndAdd(Vector128<int> addend, Vector128<short> left, Vector128<short> right)
    {
        if (AdvSimd.IsSupported)
        {
            return AdvSimd.MultiplyWideningUpperAndAdd(addend, left, right);
        }

        return addend + (Vector128.WidenUpper(left) * Vector128.WidenUpper(right));
    }
}
