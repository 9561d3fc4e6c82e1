using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// The requantizing store of the AdvSimd kernels, 4 columns at a time, through the <see cref="Neon"/> shim
/// (see <see cref="Requantization"/>): smull/smull2 to 64 bits, shrn #31 and #30 give u and v, sshl/ushl by
/// the negated per-channel shift, clamp, zero point. The parameters are reloaded per call (L1 hits) so that
/// the 24 accumulators of the 8x12 kernel keep their registers.
/// </summary>
internal readonly unsafe struct AdvSimdRequantize
{
    private readonly Vector128<int> _low, _high, _zeroPoint;
    private readonly RequantizeTile* _q;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AdvSimdRequantize(RequantizeTile* q)
    {
        _q = q;
        _low = Neon.DuplicateToVector128(q->Low);
        _high = Neon.DuplicateToVector128(q->High);
        _zeroPoint = Neon.DuplicateToVector128(q->ZeroPoint);
    }

    /// <summary>Requantized outputs (int32 in [min, max]) of columns column..column+3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128<int> Apply(Vector128<int> acc, int column)
    {
        Vector128<int> x = Neon.Add(acc, Neon.LoadVector128(_q->Bias + column));
        Vector128<int> multiplier = Neon.LoadVector128(_q->Multiplier + column);
        Vector128<int> shift = Neon.Negate(Neon.LoadVector128(_q->Shift + column));
        Vector128<long> lo = Neon.MultiplyWideningLower(x, multiplier);
        Vector128<long> hi = Neon.MultiplyWideningUpper(x, multiplier);
        Vector128<int> u = Neon.ShiftRightLogicalNarrowingUpper(Neon.ShiftRightLogicalNarrowingLower(lo, 31), hi, 31);
        Vector128<int> v = Neon.ShiftRightLogicalNarrowingUpper(Neon.ShiftRightLogicalNarrowingLower(lo, 30), hi, 30);
        Vector128<int> y = Neon.Add(Neon.ShiftArithmetic(u, shift), Neon.And(Neon.ShiftLogical(v, shift), Neon.DuplicateToVector128(1)));
        return Neon.Add(Neon.Min(Neon.Max(y, _low), _high), _zeroPoint);
    }

    /// <summary>Stores 8 outputs (int32 in [0, 255]) as 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8(byte* c, Vector128<int> y0, Vector128<int> y1)
        => Neon.Store(c, Neon.ExtractNarrowingLower(Neon.ExtractNarrowingUpper(Neon.ExtractNarrowingLower(y0), y1)));

    /// <summary>Stores 4 outputs (int32 in [0, 255]) as 4 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store4(byte* c, Vector128<int> y)
        => Neon.StoreLow32(c, Neon.ExtractNarrowingLower(Neon.ExtractNarrowingUpper(Neon.ExtractNarrowingLower(y), y)));

    /// <summary>Copies the m×n corner of a byte tile (row stride <paramref name="tileStride"/>) to C, byte by byte (no memmove call in the arm64 code).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void CopyCorner(byte* tile, int tileStride, byte* c, nint ldc, int m, int n)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[(i * ldc) + j] = tile[(i * tileStride) + j];
            }
        }
    }
}

/// <summary>Room for an 8x12 tile of output bytes, as a plain local (no stackalloc, so no stack-cookie call on arm64).</summary>
[InlineArray(96)]
internal struct ByteTile96
{
    private byte _element;
}

/// <summary>Room for an 8x12 tile of int32 accumulators, as a plain local.</summary>
[InlineArray(96)]
internal struct IntTile96
{
    private int _element;
}
