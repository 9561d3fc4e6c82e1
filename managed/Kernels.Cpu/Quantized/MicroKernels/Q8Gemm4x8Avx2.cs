using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// qu8s8-gemm-4x8-avx2: the x86 fallback without VNNI. vpmaddubsw (u8 × s8 pairs summed into int16) would
/// saturate (255·127·2 = 64770 &gt; 32767), so the bytes are widened first (vpmovzxbw for A, vpmovsxbw for B)
/// and multiplied with vpmaddwd, whose int32 pair sums are exact: half vpmaddubsw's rate, never a wrong
/// answer. Per group of 4 k, a row's 4 bytes broadcast and widened ([a0..a3]×4 as int16) meet 4 columns'
/// 4 bytes per register, so each column leaves two partial sums (k0+k1, k2+k3) that the store adds with
/// vphaddd. 8 accumulators, 2 B registers.
/// </summary>
internal static unsafe class Q8Gemm4x8Avx2
{
    public const int MR = 4;
    public const int NR = 8;

    /// <summary>See <see cref="QuantizedGemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        Vector256<int> c0l = Vector256<int>.Zero, c0h = Vector256<int>.Zero;
        Vector256<int> c1l = Vector256<int>.Zero, c1h = Vector256<int>.Zero;
        Vector256<int> c2l = Vector256<int>.Zero, c2h = Vector256<int>.Zero;
        Vector256<int> c3l = Vector256<int>.Zero, c3h = Vector256<int>.Zero;
        for (int g = 0; g < groups; g++)
        {
            Vector256<short> bl = Avx2.ConvertToVector256Int16(Sse2.LoadVector128(b));
            Vector256<short> bh = Avx2.ConvertToVector256Int16(Sse2.LoadVector128(b + 16));
            Vector256<short> a0 = Avx2.ConvertToVector256Int16(Vector128.Create(*(int*)a).AsByte());
            c0l = Avx2.Add(c0l, Avx2.MultiplyAddAdjacent(a0, bl));
            c0h = Avx2.Add(c0h, Avx2.MultiplyAddAdjacent(a0, bh));
            Vector256<short> a1 = Avx2.ConvertToVector256Int16(Vector128.Create(*(int*)(a + 4)).AsByte());
            c1l = Avx2.Add(c1l, Avx2.MultiplyAddAdjacent(a1, bl));
            c1h = Avx2.Add(c1h, Avx2.MultiplyAddAdjacent(a1, bh));
            Vector256<short> a2 = Avx2.ConvertToVector256Int16(Vector128.Create(*(int*)(a + 8)).AsByte());
            c2l = Avx2.Add(c2l, Avx2.MultiplyAddAdjacent(a2, bl));
            c2h = Avx2.Add(c2h, Avx2.MultiplyAddAdjacent(a2, bh));
            Vector256<short> a3 = Avx2.ConvertToVector256Int16(Vector128.Create(*(int*)(a + 12)).AsByte());
            c3l = Avx2.Add(c3l, Avx2.MultiplyAddAdjacent(a3, bl));
            c3h = Avx2.Add(c3h, Avx2.MultiplyAddAdjacent(a3, bh));
            a += MR * 4;
            b += NR * 4;
        }

        var requantize = new Avx2Requantize(q, 0);
        Vector256<int> y0 = requantize.Apply(Columns(c0l, c0h));
        Vector256<int> y1 = requantize.Apply(Columns(c1l, c1h));
        Vector256<int> y2 = requantize.Apply(Columns(c2l, c2h));
        Vector256<int> y3 = requantize.Apply(Columns(c3l, c3h));
        if (m == MR && n == NR)
        {
            Avx2Requantize.Store8(c, y0);
            Avx2Requantize.Store8(c + ldc, y1);
            Avx2Requantize.Store8(c + (2 * ldc), y2);
            Avx2Requantize.Store8(c + (3 * ldc), y3);
            return;
        }

        ulong* tile = stackalloc ulong[MR];
        Avx2Requantize.Store8((byte*)tile, y0);
        Avx2Requantize.Store8((byte*)(tile + 1), y1);
        Avx2Requantize.Store8((byte*)(tile + 2), y2);
        Avx2Requantize.Store8((byte*)(tile + 3), y3);
        for (int i = 0; i < m; i++)
        {
            new ReadOnlySpan<byte>(tile + i, n).CopyTo(new Span<byte>(c + (i * ldc), n));
        }
    }

    /// <summary>
    /// Adds each column's two partial sums: lo holds (c0, c0, c1, c1 | c2, c2, c3, c3), hi the same for c4..c7;
    /// vphaddd gives (c0, c1, c4, c5 | c2, c3, c6, c7) and vpermq puts the quadwords in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Columns(Vector256<int> lo, Vector256<int> hi)
        => Avx2.Permute4x64(Avx2.HorizontalAdd(lo, hi).AsInt64(), 0b11_01_10_00).AsInt32();
}
