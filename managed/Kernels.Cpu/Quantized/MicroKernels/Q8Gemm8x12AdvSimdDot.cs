using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// qu8s8-gemm-8x12-advsimd-dot: ARMv8.2 dot product. sdot is int8 × int8, so A is packed as a − 128
/// (<see cref="QuantizedGemmMicroKernel.ActivationOffset"/> = 128, the correction is in the bias). Per group
/// of 4 k: A as two q-registers (rows 0-3, 4-7, 4 bytes each), B as three (columns 0-3, 4-7, 8-11), one
/// <c>sdot v.4s, b.16b, a.4b[row]</c> per accumulator: 24 accumulators + 5 operands of the 32 registers,
/// the fp32 8x12 kernel's shape. Through the <see cref="Neon"/> shim on x86 (an exact sdot emulation), and
/// on arm64 without the extension the same emulation (the check then only asks for no calls).
/// </summary>
internal static unsafe class Q8Gemm8x12AdvSimdDot
{
    public const int MR = 8;
    public const int NR = 12;

    /// <summary>See <see cref="QuantizedGemmMicroKernel"/> for the contract.</summary>
    [Arm64Codegen(@"ldr +q|ld1 +\{|ldp +q", @"shrn2? +v", @"sshl +v", RequiresDotProduct = true)]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        var c0_0 = Vector128<int>.Zero; var c0_1 = Vector128<int>.Zero; var c0_2 = Vector128<int>.Zero;
        var c1_0 = Vector128<int>.Zero; var c1_1 = Vector128<int>.Zero; var c1_2 = Vector128<int>.Zero;
        var c2_0 = Vector128<int>.Zero; var c2_1 = Vector128<int>.Zero; var c2_2 = Vector128<int>.Zero;
        var c3_0 = Vector128<int>.Zero; var c3_1 = Vector128<int>.Zero; var c3_2 = Vector128<int>.Zero;
        var c4_0 = Vector128<int>.Zero; var c4_1 = Vector128<int>.Zero; var c4_2 = Vector128<int>.Zero;
        var c5_0 = Vector128<int>.Zero; var c5_1 = Vector128<int>.Zero; var c5_2 = Vector128<int>.Zero;
        var c6_0 = Vector128<int>.Zero; var c6_1 = Vector128<int>.Zero; var c6_2 = Vector128<int>.Zero;
        var c7_0 = Vector128<int>.Zero; var c7_1 = Vector128<int>.Zero; var c7_2 = Vector128<int>.Zero;

        sbyte* pa = (sbyte*)a;
        for (int g = 0; g < groups; g++)
        {
            var a0 = Neon.LoadVector128(pa);
            var a1 = Neon.LoadVector128(pa + 16);
            var b0 = Neon.LoadVector128(b);
            var b1 = Neon.LoadVector128(b + 16);
            var b2 = Neon.LoadVector128(b + 32);
            c0_0 = Neon.DotProductBySelectedQuadruplet(c0_0, b0, a0, 0);
            c0_1 = Neon.DotProductBySelectedQuadruplet(c0_1, b1, a0, 0);
            c0_2 = Neon.DotProductBySelectedQuadruplet(c0_2, b2, a0, 0);
            c1_0 = Neon.DotProductBySelectedQuadruplet(c1_0, b0, a0, 1);
            c1_1 = Neon.DotProductBySelectedQuadruplet(c1_1, b1, a0, 1);
            c1_2 = Neon.DotProductBySelectedQuadruplet(c1_2, b2, a0, 1);
            c2_0 = Neon.DotProductBySelectedQuadruplet(c2_0, b0, a0, 2);
            c2_1 = Neon.DotProductBySelectedQuadruplet(c2_1, b1, a0, 2);
            c2_2 = Neon.DotProductBySelectedQuadruplet(c2_2, b2, a0, 2);
            c3_0 = Neon.DotProductBySelectedQuadruplet(c3_0, b0, a0, 3);
            c3_1 = Neon.DotProductBySelectedQuadruplet(c3_1, b1, a0, 3);
            c3_2 = Neon.DotProductBySelectedQuadruplet(c3_2, b2, a0, 3);
            c4_0 = Neon.DotProductBySelectedQuadruplet(c4_0, b0, a1, 0);
            c4_1 = Neon.DotProductBySelectedQuadruplet(c4_1, b1, a1, 0);
            c4_2 = Neon.DotProductBySelectedQuadruplet(c4_2, b2, a1, 0);
            c5_0 = Neon.DotProductBySelectedQuadruplet(c5_0, b0, a1, 1);
            c5_1 = Neon.DotProductBySelectedQuadruplet(c5_1, b1, a1, 1);
            c5_2 = Neon.DotProductBySelectedQuadruplet(c5_2, b2, a1, 1);
            c6_0 = Neon.DotProductBySelectedQuadruplet(c6_0, b0, a1, 2);
            c6_1 = Neon.DotProductBySelectedQuadruplet(c6_1, b1, a1, 2);
            c6_2 = Neon.DotProductBySelectedQuadruplet(c6_2, b2, a1, 2);
            c7_0 = Neon.DotProductBySelectedQuadruplet(c7_0, b0, a1, 3);
            c7_1 = Neon.DotProductBySelectedQuadruplet(c7_1, b1, a1, 3);
            c7_2 = Neon.DotProductBySelectedQuadruplet(c7_2, b2, a1, 3);
            pa += MR * 4;
            b += NR * 4;
        }

        // The accumulators go through a stack tile and one loop requantizes them row by row: 24 inlined copies
        // of the requantization would exhaust the JIT's inlining budget and leave shim calls in the listing.
        Unsafe.SkipInit(out IntTile96 accumulators);
        int* acc = (int*)Unsafe.AsPointer(ref accumulators[0]);
        Neon.Store(acc + 0, c0_0); Neon.Store(acc + 4, c0_1); Neon.Store(acc + 8, c0_2);
        Neon.Store(acc + 12, c1_0); Neon.Store(acc + 16, c1_1); Neon.Store(acc + 20, c1_2);
        Neon.Store(acc + 24, c2_0); Neon.Store(acc + 28, c2_1); Neon.Store(acc + 32, c2_2);
        Neon.Store(acc + 36, c3_0); Neon.Store(acc + 40, c3_1); Neon.Store(acc + 44, c3_2);
        Neon.Store(acc + 48, c4_0); Neon.Store(acc + 52, c4_1); Neon.Store(acc + 56, c4_2);
        Neon.Store(acc + 60, c5_0); Neon.Store(acc + 64, c5_1); Neon.Store(acc + 68, c5_2);
        Neon.Store(acc + 72, c6_0); Neon.Store(acc + 76, c6_1); Neon.Store(acc + 80, c6_2);
        Neon.Store(acc + 84, c7_0); Neon.Store(acc + 88, c7_1); Neon.Store(acc + 92, c7_2);

        var requantize = new AdvSimdRequantize(q);
        bool full = m == MR && n == NR;
        Unsafe.SkipInit(out ByteTile96 storage);
        byte* tile = (byte*)Unsafe.AsPointer(ref storage[0]);
        byte* dst = full ? c : tile;
        nint stride = full ? ldc : NR;
        for (int i = 0; i < MR; i++)
        {
            int* row = acc + (i * NR);
            byte* output = dst + (i * stride);
            AdvSimdRequantize.Store8(output, requantize.Apply(Neon.LoadVector128(row), 0), requantize.Apply(Neon.LoadVector128(row + 4), 4));
            AdvSimdRequantize.Store4(output + 8, requantize.Apply(Neon.LoadVector128(row + 8), 8));
        }

        if (!full)
        {
            AdvSimdRequantize.CopyCorner(tile, NR, c, ldc, m, n);
        }
    }
}
