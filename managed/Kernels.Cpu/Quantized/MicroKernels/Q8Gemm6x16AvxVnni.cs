using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// qu8s8-gemm-6x16-avxvnni: vpdpbusd ymm (AVX-VNNI, e.g. Intel Alder Lake and later, AMD Zen 5), uint8 A against int8 B
/// directly. Per group of 4 k: two B registers (columns 0-7, 8-15, 4 bytes each), each row's 4 bytes broadcast, one
/// vpdpbusd per accumulator: 12 accumulators + 3 operands of the 16 ymm registers. Runs through the exact AVX2
/// emulation in <see cref="X86Vnni"/> where AVX-VNNI is missing (this is how it is tested on Zen 4).
/// </summary>
internal static unsafe class Q8Gemm6x16AvxVnni
{
    public const int MR = 6;
    public const int NR = 16;

    /// <summary>See <see cref="QuantizedGemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        Vector256<int> c0l = Vector256<int>.Zero, c0h = Vector256<int>.Zero;
        Vector256<int> c1l = Vector256<int>.Zero, c1h = Vector256<int>.Zero;
        Vector256<int> c2l = Vector256<int>.Zero, c2h = Vector256<int>.Zero;
        Vector256<int> c3l = Vector256<int>.Zero, c3h = Vector256<int>.Zero;
        Vector256<int> c4l = Vector256<int>.Zero, c4h = Vector256<int>.Zero;
        Vector256<int> c5l = Vector256<int>.Zero, c5h = Vector256<int>.Zero;
        for (int g = 0; g < groups; g++)
        {
            Vector256<sbyte> bl = Avx.LoadVector256(b);
            Vector256<sbyte> bh = Avx.LoadVector256(b + 32);
            Vector256<byte> a0 = Vector256.Create(*(int*)a).AsByte();
            c0l = X86Vnni.MultiplyWideningAndAdd(c0l, a0, bl);
            c0h = X86Vnni.MultiplyWideningAndAdd(c0h, a0, bh);
            Vector256<byte> a1 = Vector256.Create(*(int*)(a + 4)).AsByte();
            c1l = X86Vnni.MultiplyWideningAndAdd(c1l, a1, bl);
            c1h = X86Vnni.MultiplyWideningAndAdd(c1h, a1, bh);
            Vector256<byte> a2 = Vector256.Create(*(int*)(a + 8)).AsByte();
            c2l = X86Vnni.MultiplyWideningAndAdd(c2l, a2, bl);
            c2h = X86Vnni.MultiplyWideningAndAdd(c2h, a2, bh);
            Vector256<byte> a3 = Vector256.Create(*(int*)(a + 12)).AsByte();
            c3l = X86Vnni.MultiplyWideningAndAdd(c3l, a3, bl);
            c3h = X86Vnni.MultiplyWideningAndAdd(c3h, a3, bh);
            Vector256<byte> a4 = Vector256.Create(*(int*)(a + 16)).AsByte();
            c4l = X86Vnni.MultiplyWideningAndAdd(c4l, a4, bl);
            c4h = X86Vnni.MultiplyWideningAndAdd(c4h, a4, bh);
            Vector256<byte> a5 = Vector256.Create(*(int*)(a + 20)).AsByte();
            c5l = X86Vnni.MultiplyWideningAndAdd(c5l, a5, bl);
            c5h = X86Vnni.MultiplyWideningAndAdd(c5h, a5, bh);
            a += MR * 4;
            b += NR * 4;
        }

        var low = new Avx2Requantize(q, 0);
        var high = new Avx2Requantize(q, 8);
        bool full = m == MR && n == NR;
        ulong* tile = stackalloc ulong[2 * MR];
        byte* dst = full ? c : (byte*)tile;
        nint stride = full ? ldc : NR;
        StoreRow(low, high, dst, c0l, c0h);
        StoreRow(low, high, dst + stride, c1l, c1h);
        StoreRow(low, high, dst + (2 * stride), c2l, c2h);
        StoreRow(low, high, dst + (3 * stride), c3l, c3h);
        StoreRow(low, high, dst + (4 * stride), c4l, c4h);
        StoreRow(low, high, dst + (5 * stride), c5l, c5h);
        if (!full)
        {
            for (int i = 0; i < m; i++)
            {
                new ReadOnlySpan<byte>((byte*)tile + (i * NR), n).CopyTo(new Span<byte>(c + (i * ldc), n));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(in Avx2Requantize low, in Avx2Requantize high, byte* row, Vector256<int> accLow, Vector256<int> accHigh)
    {
        Avx2Requantize.Store8(row, low.Apply(accLow));
        Avx2Requantize.Store8(row + 8, high.Apply(accHigh));
    }
}
