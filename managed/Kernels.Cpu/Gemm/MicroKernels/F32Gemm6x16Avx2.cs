using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// f32-gemm-6x16-avx2: 12 ymm accumulators (6 rows × 2 vectors of 8), the classic Haswell shape:
/// 12 + 2 (B) + 1 (broadcast A) = 15 of the 16 ymm registers.
/// </summary>
internal static unsafe class F32Gemm6x16Avx2
{
    public const int MR = 6;
    public const int NR = 16;

    /// <summary>See <see cref="SgemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector256<float>.Zero; var c0_1 = Vector256<float>.Zero;
        var c1_0 = Vector256<float>.Zero; var c1_1 = Vector256<float>.Zero;
        var c2_0 = Vector256<float>.Zero; var c2_1 = Vector256<float>.Zero;
        var c3_0 = Vector256<float>.Zero; var c3_1 = Vector256<float>.Zero;
        var c4_0 = Vector256<float>.Zero; var c4_1 = Vector256<float>.Zero;
        var c5_0 = Vector256<float>.Zero; var c5_1 = Vector256<float>.Zero;

        do
        {
            var b0 = Vector256.Load(b + 0);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c0_0 = Fma.MultiplyAdd(a0, b0, c0_0);
            c0_1 = Fma.MultiplyAdd(a0, b1, c0_1);
            var a1 = Vector256.Create(a[1]);
            c1_0 = Fma.MultiplyAdd(a1, b0, c1_0);
            c1_1 = Fma.MultiplyAdd(a1, b1, c1_1);
            var a2 = Vector256.Create(a[2]);
            c2_0 = Fma.MultiplyAdd(a2, b0, c2_0);
            c2_1 = Fma.MultiplyAdd(a2, b1, c2_1);
            var a3 = Vector256.Create(a[3]);
            c3_0 = Fma.MultiplyAdd(a3, b0, c3_0);
            c3_1 = Fma.MultiplyAdd(a3, b1, c3_1);
            var a4 = Vector256.Create(a[4]);
            c4_0 = Fma.MultiplyAdd(a4, b0, c4_0);
            c4_1 = Fma.MultiplyAdd(a4, b1, c4_1);
            var a5 = Vector256.Create(a[5]);
            c5_0 = Fma.MultiplyAdd(a5, b0, c5_0);
            c5_1 = Fma.MultiplyAdd(a5, b1, c5_1);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == MR && n == NR)
        {
            var epilogue = new Vector256Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            epilogue.StoreRow(c + 4 * ldc, c4_0, c4_1);
            epilogue.StoreRow(c + 5 * ldc, c5_0, c5_1);
            return;
        }

        float* tile = stackalloc float[MR * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 8);
        c1_0.Store(tile + 16); c1_1.Store(tile + 24);
        c2_0.Store(tile + 32); c2_1.Store(tile + 40);
        c3_0.Store(tile + 48); c3_1.Store(tile + 56);
        c4_0.Store(tile + 64); c4_1.Store(tile + 72);
        c5_0.Store(tile + 80); c5_1.Store(tile + 88);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }
}
