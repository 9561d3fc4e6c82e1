using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// The requantizing store of the x86 kernels for 8 columns at a time (see <see cref="Requantization"/> for
/// the definition and for why u and v are taken from the 64-bit product): vpmuldq on the even and the odd
/// lanes, constant 64-bit shifts, per-lane vpsravd/vpsrlvd, clamp, zero point.
/// </summary>
internal readonly unsafe struct Avx2Requantize
{
    private readonly Vector256<int> _bias, _multiplier, _multiplierOdd;
    private readonly Vector256<uint> _shift;
    private readonly Vector256<int> _low, _high, _zeroPoint;

    /// <summary>Loads the parameters of 8 columns starting at column <paramref name="column"/> of the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Avx2Requantize(RequantizeTile* q, int column)
    {
        _bias = Avx.LoadVector256(q->Bias + column);
        _multiplier = Avx.LoadVector256(q->Multiplier + column);
        _multiplierOdd = Avx2.ShiftRightLogical(_multiplier.AsInt64(), 32).AsInt32();
        _shift = Avx.LoadVector256(q->Shift + column).AsUInt32();
        _low = Vector256.Create(q->Low);
        _high = Vector256.Create(q->High);
        _zeroPoint = Vector256.Create(q->ZeroPoint);
    }

    /// <summary>The 8 requantized outputs of <paramref name="acc"/> as int32 in [min, max].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<int> Apply(Vector256<int> acc)
    {
        Vector256<int> x = Avx2.Add(acc, _bias);
        Vector256<long> even = Avx2.Multiply(x, _multiplier);
        Vector256<long> odd = Avx2.Multiply(Avx2.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), _multiplierOdd);

        // u = bits 31..62 of each product, v = bits 30..61: even lanes shifted down, odd lanes shifted up into the high half.
        Vector256<int> u = Avx2.Blend(Avx2.ShiftRightLogical(even, 31).AsInt32(), Avx2.ShiftLeftLogical(odd, 1).AsInt32(), 0b10101010);
        Vector256<int> v = Avx2.Blend(Avx2.ShiftRightLogical(even, 30).AsInt32(), Avx2.ShiftLeftLogical(odd, 2).AsInt32(), 0b10101010);
        Vector256<int> y = Avx2.Add(
            Avx2.ShiftRightArithmeticVariable(u, _shift),
            Avx2.And(Avx2.ShiftRightLogicalVariable(v, _shift), Vector256<int>.One));
        y = Avx2.Min(Avx2.Max(y, _low), _high);
        return Avx2.Add(y, _zeroPoint);
    }

    /// <summary>Stores 8 outputs (int32 already in [0, 255]) as 8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8(byte* c, Vector256<int> y)
    {
        Vector128<short> words = Sse2.PackSignedSaturate(y.GetLower(), y.GetUpper());
        Vector128<byte> bytes = Sse2.PackUnsignedSaturate(words, words);
        Unsafe.WriteUnaligned(c, bytes.AsUInt64().ToScalar());
    }
}
