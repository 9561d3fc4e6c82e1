using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// f32-gemm-4x8-vector128: the portable kernel (any CPU with or without SIMD hardware): 8 accumulators
/// fit the 16 registers of SSE. Vector128.FusedMultiplyAdd keeps the same fused rounding as the
/// other kernels (on hardware without FMA the runtime computes it per lane).
/// </summary>
internal static unsafe class F32Gemm4x8Vector128
{
    public const int MR = 4;
    public const int NR = 8;

    /// <summary>See <see cref="SgemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector128<float>.Zero; var c0_1 = Vector128<float>.Zero;
        var c1_0 = Vector128<float>.Zero; var c1_1 = Vector128<float>.Zero;
        var c2_0 = Vector128<float>.Zero; var c2_1 = Vector128<float>.Zero;
        var c3_0 = Vector128<float>.Zero; var c3_1 = Vector128<float>.Zero;

        do
        {
            var b0 = Vector128.Load(b + 0);
            var b1 = Vector128.Load(b + 4);
            var a0 = Vector128.Create(a[0]);
            c0_0 = Vector128.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Vector128.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector128.Create(a[1]);
            c1_0 = Vector128.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Vector128.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector128.Create(a[2]);
            c2_0 = Vector128.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Vector128.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector128.Create(a[3]);
            c3_0 = Vector128.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Vector128.FusedMultiplyAdd(a3, b1, c3_1);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == MR && n == NR)
        {
            var epilogue = new Vector128Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            return;
        }

        float* tile = stackalloc float[MR * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 4);
        c1_0.Store(tile + 8); c1_1.Store(tile + 12);
        c2_0.Store(tile + 16); c2_1.Store(tile + 20);
        c3_0.Store(tile + 24); c3_1.Store(tile + 28);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }
}
