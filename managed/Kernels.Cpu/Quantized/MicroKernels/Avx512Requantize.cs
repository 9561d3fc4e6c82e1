using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// <see cref="Avx2Requantize"/> on 16 lanes (zmm): the same arithmetic (see <see cref="Requantization"/>), vpmuldq on
/// the even and the odd lanes, constant 64-bit shifts, per-lane vpsravd/vpsrlvd, clamp, zero point.
/// </summary>
internal readonly unsafe struct Avx512Requantize
{
    private readonly Vector512<int> _bias, _multiplier, _multiplierOdd;
    private readonly Vector512<uint> _shift;
    private readonly Vector512<int> _low, _high, _zeroPoint;

    /// <summary>Loads the parameters of 16 columns starting at column <paramref name="column"/> of the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Avx512Requantize(RequantizeTile* q, int column)
    {
        _bias = Avx512F.LoadVector512(q->Bias + column);
        _multiplier = Avx512F.LoadVector512(q->Multiplier + column);
        _multiplierOdd = Avx512F.ShiftRightLogical(_multiplier.AsInt64(), 32).AsInt32();
        _shift = Avx512F.LoadVector512(q->Shift + column).AsUInt32();
        _low = Vector512.Create(q->Low);
        _high = Vector512.Create(q->High);
        _zeroPoint = Vector512.Create(q->ZeroPoint);
    }

    /// <summary>The 16 requantized outputs of <paramref name="acc"/> as int32 in [min, max].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512<int> Apply(Vector512<int> acc)
    {
        Vector512<int> x = Avx512F.Add(acc, _bias);
        Vector512<long> even = Avx512F.Multiply(x, _multiplier);
        Vector512<long> odd = Avx512F.Multiply(Avx512F.ShiftRightLogical(x.AsInt64(), 32).AsInt32(), _multiplierOdd);
        Vector512<int> oddLanes = Vector512.Create(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1);
        Vector512<int> u = Vector512.ConditionalSelect(oddLanes, Avx512F.ShiftLeftLogical(odd, 1).AsInt32(), Avx512F.ShiftRightLogical(even, 31).AsInt32());
        Vector512<int> v = Vector512.ConditionalSelect(oddLanes, Avx512F.ShiftLeftLogical(odd, 2).AsInt32(), Avx512F.ShiftRightLogical(even, 30).AsInt32());
        Vector512<int> y = Avx512F.Add(
            Avx512F.ShiftRightArithmeticVariable(u, _shift),
            Avx512F.And(Avx512F.ShiftRightLogicalVariable(v, _shift), Vector512<int>.One));
        y = Avx512F.Min(Avx512F.Max(y, _low), _high);
        return Avx512F.Add(y, _zeroPoint);
    }
}
