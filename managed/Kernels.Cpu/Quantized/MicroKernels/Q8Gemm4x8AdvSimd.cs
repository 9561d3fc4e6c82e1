using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// qu8s8-gemm-4x8-advsimd: ARMv8.0 (no dot product). A is packed as a − 128 (int8). Two groups of 4 k at a
/// time: a row's 4 bytes of each group are broadcast (dup v.4s, v.s[row]), <c>smull</c>/<c>smull2</c>
/// multiply them with 2 columns' 4 bytes per half register into int16, <c>smlal</c>/<c>smlal2</c> add the
/// second group's products in the same int16 lanes, and <c>sadalp</c> folds adjacent pairs into int32.
/// The int16 lanes cannot wrap: |a − 128| ≤ 128 and |w| ≤ 127 (weights are checked at pack time), so a
/// lane holds at most 2·128·127 = 32512. Each accumulator keeps two partial sums per column; <c>addp</c>
/// adds them in the store. 16 accumulators, 4 B registers, 2 A registers.
/// </summary>
internal static unsafe class Q8Gemm4x8AdvSimd
{
    public const int MR = 4;
    public const int NR = 8;

    /// <summary>See <see cref="QuantizedGemmMicroKernel"/> for the contract.</summary>
    [Arm64Codegen(@"smull +v[0-9]+\.8h", @"smlal2 +v[0-9]+\.8h", @"sadalp +v[0-9]+\.4s", @"addp +v[0-9]+\.4s", @"shrn2? +v")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        var c0_01 = Vector128<int>.Zero; var c0_23 = Vector128<int>.Zero; var c0_45 = Vector128<int>.Zero; var c0_67 = Vector128<int>.Zero;
        var c1_01 = Vector128<int>.Zero; var c1_23 = Vector128<int>.Zero; var c1_45 = Vector128<int>.Zero; var c1_67 = Vector128<int>.Zero;
        var c2_01 = Vector128<int>.Zero; var c2_23 = Vector128<int>.Zero; var c2_45 = Vector128<int>.Zero; var c2_67 = Vector128<int>.Zero;
        var c3_01 = Vector128<int>.Zero; var c3_23 = Vector128<int>.Zero; var c3_45 = Vector128<int>.Zero; var c3_67 = Vector128<int>.Zero;

        sbyte* pa = (sbyte*)a;
        int g = 0;
        for (; g + 2 <= groups; g += 2)
        {
            var a0 = Neon.LoadVector128(pa).AsInt32();
            var a1 = Neon.LoadVector128(pa + 16).AsInt32();
            var b0 = Neon.LoadVector128(b);
            var b1 = Neon.LoadVector128(b + 16);
            var b2 = Neon.LoadVector128(b + 32);
            var b3 = Neon.LoadVector128(b + 48);
            Row(Neon.DuplicateSelectedScalarToVector128(a0, 0).AsSByte(), Neon.DuplicateSelectedScalarToVector128(a1, 0).AsSByte(), b0, b1, b2, b3, ref c0_01, ref c0_23, ref c0_45, ref c0_67);
            Row(Neon.DuplicateSelectedScalarToVector128(a0, 1).AsSByte(), Neon.DuplicateSelectedScalarToVector128(a1, 1).AsSByte(), b0, b1, b2, b3, ref c1_01, ref c1_23, ref c1_45, ref c1_67);
            Row(Neon.DuplicateSelectedScalarToVector128(a0, 2).AsSByte(), Neon.DuplicateSelectedScalarToVector128(a1, 2).AsSByte(), b0, b1, b2, b3, ref c2_01, ref c2_23, ref c2_45, ref c2_67);
            Row(Neon.DuplicateSelectedScalarToVector128(a0, 3).AsSByte(), Neon.DuplicateSelectedScalarToVector128(a1, 3).AsSByte(), b0, b1, b2, b3, ref c3_01, ref c3_23, ref c3_45, ref c3_67);
            pa += 2 * MR * 4;
            b += 2 * NR * 4;
        }

        if (g < groups)
        {
            var a0 = Neon.LoadVector128(pa).AsInt32();
            var b0 = Neon.LoadVector128(b);
            var b1 = Neon.LoadVector128(b + 16);
            RowOne(Neon.DuplicateSelectedScalarToVector128(a0, 0).AsSByte(), b0, b1, ref c0_01, ref c0_23, ref c0_45, ref c0_67);
            RowOne(Neon.DuplicateSelectedScalarToVector128(a0, 1).AsSByte(), b0, b1, ref c1_01, ref c1_23, ref c1_45, ref c1_67);
            RowOne(Neon.DuplicateSelectedScalarToVector128(a0, 2).AsSByte(), b0, b1, ref c2_01, ref c2_23, ref c2_45, ref c2_67);
            RowOne(Neon.DuplicateSelectedScalarToVector128(a0, 3).AsSByte(), b0, b1, ref c3_01, ref c3_23, ref c3_45, ref c3_67);
        }

        var requantize = new AdvSimdRequantize(q);
        bool full = m == MR && n == NR;
        Unsafe.SkipInit(out ByteTile96 storage);
        byte* tile = (byte*)Unsafe.AsPointer(ref storage[0]);
        byte* dst = full ? c : tile;
        nint stride = full ? ldc : NR;
        StoreRow(requantize, dst, c0_01, c0_23, c0_45, c0_67);
        StoreRow(requantize, dst + stride, c1_01, c1_23, c1_45, c1_67);
        StoreRow(requantize, dst + (2 * stride), c2_01, c2_23, c2_45, c2_67);
        StoreRow(requantize, dst + (3 * stride), c3_01, c3_23, c3_45, c3_67);
        if (!full)
        {
            AdvSimdRequantize.CopyCorner(tile, NR, c, ldc, m, n);
        }
    }

    /// <summary>One row, two groups: x0/x1 the row's broadcast bytes of groups g and g+1; b0/b1 columns 0-3/4-7 of g, b2/b3 of g+1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(
        Vector128<sbyte> x0, Vector128<sbyte> x1, Vector128<sbyte> b0, Vector128<sbyte> b1, Vector128<sbyte> b2, Vector128<sbyte> b3,
        ref Vector128<int> c01, ref Vector128<int> c23, ref Vector128<int> c45, ref Vector128<int> c67)
    {
        c01 = Neon.AddPairwiseWideningAndAdd(c01, Neon.MultiplyWideningLowerAndAdd(Neon.MultiplyWideningLower(x0, b0), x1, b2));
        c23 = Neon.AddPairwiseWideningAndAdd(c23, Neon.MultiplyWideningUpperAndAdd(Neon.MultiplyWideningUpper(x0, b0), x1, b2));
        c45 = Neon.AddPairwiseWideningAndAdd(c45, Neon.MultiplyWideningLowerAndAdd(Neon.MultiplyWideningLower(x0, b1), x1, b3));
        c67 = Neon.AddPairwiseWideningAndAdd(c67, Neon.MultiplyWideningUpperAndAdd(Neon.MultiplyWideningUpper(x0, b1), x1, b3));
    }

    /// <summary>One row, the last odd group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowOne(
        Vector128<sbyte> x0, Vector128<sbyte> b0, Vector128<sbyte> b1,
        ref Vector128<int> c01, ref Vector128<int> c23, ref Vector128<int> c45, ref Vector128<int> c67)
    {
        c01 = Neon.AddPairwiseWideningAndAdd(c01, Neon.MultiplyWideningLower(x0, b0));
        c23 = Neon.AddPairwiseWideningAndAdd(c23, Neon.MultiplyWideningUpper(x0, b0));
        c45 = Neon.AddPairwiseWideningAndAdd(c45, Neon.MultiplyWideningLower(x0, b1));
        c67 = Neon.AddPairwiseWideningAndAdd(c67, Neon.MultiplyWideningUpper(x0, b1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(in AdvSimdRequantize requantize, byte* row, Vector128<int> c01, Vector128<int> c23, Vector128<int> c45, Vector128<int> c67)
        => AdvSimdRequantize.Store8(row, requantize.Apply(Neon.AddPairwise(c01, c23), 0), requantize.Apply(Neon.AddPairwise(c45, c67), 4));
}
