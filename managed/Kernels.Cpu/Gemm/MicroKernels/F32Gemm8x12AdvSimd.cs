using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// f32-gemm-8x12-advsimd: 24 q-register accumulators, A loaded as two q-registers (rows 0-3, 4-7)
/// and B as three per k step, one <c>fmla v.4s, b.4s, a.s[lane]</c> per accumulator: 29 of the 32
/// vector registers, no spills. Written against the <see cref="Neon"/> shim so the x86 tests run
/// it; tests/arm64-codegen checks the arm64 listing. Partial tiles go through a stack tile that is
/// an inline array, not stackalloc, so no stack-cookie check (a call) enters the arm64 code.
/// </summary>
internal static unsafe class F32Gemm8x12AdvSimd
{
    public const int MR = 8;
    public const int NR = 12;

    /// <summary>See <see cref="SgemmMicroKernel"/> for the contract.</summary>
    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.s\[[0-3]\]", @"ldp +q|ld1 +\{|ldr +q")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector128<float>.Zero; var c0_1 = Vector128<float>.Zero; var c0_2 = Vector128<float>.Zero;
        var c1_0 = Vector128<float>.Zero; var c1_1 = Vector128<float>.Zero; var c1_2 = Vector128<float>.Zero;
        var c2_0 = Vector128<float>.Zero; var c2_1 = Vector128<float>.Zero; var c2_2 = Vector128<float>.Zero;
        var c3_0 = Vector128<float>.Zero; var c3_1 = Vector128<float>.Zero; var c3_2 = Vector128<float>.Zero;
        var c4_0 = Vector128<float>.Zero; var c4_1 = Vector128<float>.Zero; var c4_2 = Vector128<float>.Zero;
        var c5_0 = Vector128<float>.Zero; var c5_1 = Vector128<float>.Zero; var c5_2 = Vector128<float>.Zero;
        var c6_0 = Vector128<float>.Zero; var c6_1 = Vector128<float>.Zero; var c6_2 = Vector128<float>.Zero;
        var c7_0 = Vector128<float>.Zero; var c7_1 = Vector128<float>.Zero; var c7_2 = Vector128<float>.Zero;

        do
        {
            var a0 = Neon.LoadVector128(a);
            var a1 = Neon.LoadVector128(a + 4);
            var b0 = Neon.LoadVector128(b + 0);
            var b1 = Neon.LoadVector128(b + 4);
            var b2 = Neon.LoadVector128(b + 8);
            c0_0 = Neon.FusedMultiplyAddBySelectedScalar(c0_0, b0, a0, 0);
            c0_1 = Neon.FusedMultiplyAddBySelectedScalar(c0_1, b1, a0, 0);
            c0_2 = Neon.FusedMultiplyAddBySelectedScalar(c0_2, b2, a0, 0);
            c1_0 = Neon.FusedMultiplyAddBySelectedScalar(c1_0, b0, a0, 1);
            c1_1 = Neon.FusedMultiplyAddBySelectedScalar(c1_1, b1, a0, 1);
            c1_2 = Neon.FusedMultiplyAddBySelectedScalar(c1_2, b2, a0, 1);
            c2_0 = Neon.FusedMultiplyAddBySelectedScalar(c2_0, b0, a0, 2);
            c2_1 = Neon.FusedMultiplyAddBySelectedScalar(c2_1, b1, a0, 2);
            c2_2 = Neon.FusedMultiplyAddBySelectedScalar(c2_2, b2, a0, 2);
            c3_0 = Neon.FusedMultiplyAddBySelectedScalar(c3_0, b0, a0, 3);
            c3_1 = Neon.FusedMultiplyAddBySelectedScalar(c3_1, b1, a0, 3);
            c3_2 = Neon.FusedMultiplyAddBySelectedScalar(c3_2, b2, a0, 3);
            c4_0 = Neon.FusedMultiplyAddBySelectedScalar(c4_0, b0, a1, 0);
            c4_1 = Neon.FusedMultiplyAddBySelectedScalar(c4_1, b1, a1, 0);
            c4_2 = Neon.FusedMultiplyAddBySelectedScalar(c4_2, b2, a1, 0);
            c5_0 = Neon.FusedMultiplyAddBySelectedScalar(c5_0, b0, a1, 1);
            c5_1 = Neon.FusedMultiplyAddBySelectedScalar(c5_1, b1, a1, 1);
            c5_2 = Neon.FusedMultiplyAddBySelectedScalar(c5_2, b2, a1, 1);
            c6_0 = Neon.FusedMultiplyAddBySelectedScalar(c6_0, b0, a1, 2);
            c6_1 = Neon.FusedMultiplyAddBySelectedScalar(c6_1, b1, a1, 2);
            c6_2 = Neon.FusedMultiplyAddBySelectedScalar(c6_2, b2, a1, 2);
            c7_0 = Neon.FusedMultiplyAddBySelectedScalar(c7_0, b0, a1, 3);
            c7_1 = Neon.FusedMultiplyAddBySelectedScalar(c7_1, b1, a1, 3);
            c7_2 = Neon.FusedMultiplyAddBySelectedScalar(c7_2, b2, a1, 3);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == MR && n == NR)
        {
            var epilogue = new AdvSimdEpilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1, c0_2);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1, c1_2);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1, c2_2);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1, c3_2);
            epilogue.StoreRow(c + 4 * ldc, c4_0, c4_1, c4_2);
            epilogue.StoreRow(c + 5 * ldc, c5_0, c5_1, c5_2);
            epilogue.StoreRow(c + 6 * ldc, c6_0, c6_1, c6_2);
            epilogue.StoreRow(c + 7 * ldc, c7_0, c7_1, c7_2);
            return;
        }

        Unsafe.SkipInit(out StackTile96 storage);
        float* tile = (float*)Unsafe.AsPointer(ref storage[0]);
        Neon.Store(tile + 0, c0_0); Neon.Store(tile + 4, c0_1); Neon.Store(tile + 8, c0_2);
        Neon.Store(tile + 12, c1_0); Neon.Store(tile + 16, c1_1); Neon.Store(tile + 20, c1_2);
        Neon.Store(tile + 24, c2_0); Neon.Store(tile + 28, c2_1); Neon.Store(tile + 32, c2_2);
        Neon.Store(tile + 36, c3_0); Neon.Store(tile + 40, c3_1); Neon.Store(tile + 44, c3_2);
        Neon.Store(tile + 48, c4_0); Neon.Store(tile + 52, c4_1); Neon.Store(tile + 56, c4_2);
        Neon.Store(tile + 60, c5_0); Neon.Store(tile + 64, c5_1); Neon.Store(tile + 68, c5_2);
        Neon.Store(tile + 72, c6_0); Neon.Store(tile + 76, c6_1); Neon.Store(tile + 80, c6_2);
        Neon.Store(tile + 84, c7_0); Neon.Store(tile + 88, c7_1); Neon.Store(tile + 92, c7_2);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }
}
