using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// f32-gemm-12x32-avx512: 24 zmm accumulators (12 rows × 2 vectors of 16), B loaded as two zmm per k step,
/// A broadcast per row. Same shape as BLIS's SKX sgemm kernel (32x12 on column-major C). 27 of the
/// 32 zmm registers; on Zen 4 a zmm FMA issues at one per cycle, so 24 independent chains hide the
/// 4-cycle latency with room to spare.
/// </summary>
internal static unsafe class F32Gemm12x32Avx512
{
    public const int MR = 12;
    public const int NR = 32;

    /// <summary>See <see cref="SgemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        if (m <= 8)
        {
            if (m <= 4)
            {
                RunRows4(kc, a, b, c, ldc, m, n, bias, min, max, flags);
            }
            else
            {
                RunRows8(kc, a, b, c, ldc, m, n, bias, min, max, flags);
            }

            return;
        }

        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;

        do
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
            var a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
            var a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
            var a8 = Vector512.Create(a[8]);
            c8_0 = Avx512F.FusedMultiplyAdd(a8, b0, c8_0);
            c8_1 = Avx512F.FusedMultiplyAdd(a8, b1, c8_1);
            var a9 = Vector512.Create(a[9]);
            c9_0 = Avx512F.FusedMultiplyAdd(a9, b0, c9_0);
            c9_1 = Avx512F.FusedMultiplyAdd(a9, b1, c9_1);
            var a10 = Vector512.Create(a[10]);
            c10_0 = Avx512F.FusedMultiplyAdd(a10, b0, c10_0);
            c10_1 = Avx512F.FusedMultiplyAdd(a10, b1, c10_1);
            var a11 = Vector512.Create(a[11]);
            c11_0 = Avx512F.FusedMultiplyAdd(a11, b0, c11_0);
            c11_1 = Avx512F.FusedMultiplyAdd(a11, b1, c11_1);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == MR && n == NR)
        {
            var epilogue = new Vector512Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            epilogue.StoreRow(c + 4 * ldc, c4_0, c4_1);
            epilogue.StoreRow(c + 5 * ldc, c5_0, c5_1);
            epilogue.StoreRow(c + 6 * ldc, c6_0, c6_1);
            epilogue.StoreRow(c + 7 * ldc, c7_0, c7_1);
            epilogue.StoreRow(c + 8 * ldc, c8_0, c8_1);
            epilogue.StoreRow(c + 9 * ldc, c9_0, c9_1);
            epilogue.StoreRow(c + 10 * ldc, c10_0, c10_1);
            epilogue.StoreRow(c + 11 * ldc, c11_0, c11_1);
            return;
        }

        float* tile = stackalloc float[MR * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 16);
        c1_0.Store(tile + 32); c1_1.Store(tile + 48);
        c2_0.Store(tile + 64); c2_1.Store(tile + 80);
        c3_0.Store(tile + 96); c3_1.Store(tile + 112);
        c4_0.Store(tile + 128); c4_1.Store(tile + 144);
        c5_0.Store(tile + 160); c5_1.Store(tile + 176);
        c6_0.Store(tile + 192); c6_1.Store(tile + 208);
        c7_0.Store(tile + 224); c7_1.Store(tile + 240);
        c8_0.Store(tile + 256); c8_1.Store(tile + 272);
        c9_0.Store(tile + 288); c9_1.Store(tile + 304);
        c10_0.Store(tile + 320); c10_1.Store(tile + 336);
        c11_0.Store(tile + 352); c11_1.Store(tile + 368);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }

    /// <summary>
    /// The first 4 rows of the tile only (m ≤ 4), reading the same 12-row packed panels: the last panel of a
    /// GEMM whose M is not a multiple of 12 (49 rows of a 7x7 layer leave one row, which the full kernel would
    /// compute twelve times over).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows4(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;

        do
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == 4 && n == NR)
        {
            var epilogue = new Vector512Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            return;
        }

        float* tile = stackalloc float[4 * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 16);
        c1_0.Store(tile + 32); c1_1.Store(tile + 48);
        c2_0.Store(tile + 64); c2_1.Store(tile + 80);
        c3_0.Store(tile + 96); c3_1.Store(tile + 112);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }

    /// <summary>
    /// The first 8 rows of the tile only (m ≤ 8), reading the same 12-row packed panels: the last panel of a
    /// GEMM whose M is not a multiple of 12 (49 rows of a 7x7 layer leave one row, which the full kernel would
    /// compute twelve times over).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunRows8(int kc, float* a, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;

        do
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var a0 = Vector512.Create(a[0]);
            c0_0 = Avx512F.FusedMultiplyAdd(a0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(a0, b1, c0_1);
            var a1 = Vector512.Create(a[1]);
            c1_0 = Avx512F.FusedMultiplyAdd(a1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(a1, b1, c1_1);
            var a2 = Vector512.Create(a[2]);
            c2_0 = Avx512F.FusedMultiplyAdd(a2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(a2, b1, c2_1);
            var a3 = Vector512.Create(a[3]);
            c3_0 = Avx512F.FusedMultiplyAdd(a3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(a3, b1, c3_1);
            var a4 = Vector512.Create(a[4]);
            c4_0 = Avx512F.FusedMultiplyAdd(a4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(a4, b1, c4_1);
            var a5 = Vector512.Create(a[5]);
            c5_0 = Avx512F.FusedMultiplyAdd(a5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(a5, b1, c5_1);
            var a6 = Vector512.Create(a[6]);
            c6_0 = Avx512F.FusedMultiplyAdd(a6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(a6, b1, c6_1);
            var a7 = Vector512.Create(a[7]);
            c7_0 = Avx512F.FusedMultiplyAdd(a7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(a7, b1, c7_1);
            a += MR;
            b += NR;
        }
        while (--kc != 0);

        if (m == 8 && n == NR)
        {
            var epilogue = new Vector512Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            epilogue.StoreRow(c + 4 * ldc, c4_0, c4_1);
            epilogue.StoreRow(c + 5 * ldc, c5_0, c5_1);
            epilogue.StoreRow(c + 6 * ldc, c6_0, c6_1);
            epilogue.StoreRow(c + 7 * ldc, c7_0, c7_1);
            return;
        }

        float* tile = stackalloc float[8 * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 16);
        c1_0.Store(tile + 32); c1_1.Store(tile + 48);
        c2_0.Store(tile + 64); c2_1.Store(tile + 80);
        c3_0.Store(tile + 96); c3_1.Store(tile + 112);
        c4_0.Store(tile + 128); c4_1.Store(tile + 144);
        c5_0.Store(tile + 160); c5_1.Store(tile + 176);
        c6_0.Store(tile + 192); c6_1.Store(tile + 208);
        c7_0.Store(tile + 224); c7_1.Store(tile + 240);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }

    /// <summary>
    /// The same tile with A read in place, row-major with leading dimension <paramref name="lda"/> (all 12 rows
    /// must exist): no packing, for GEMMs whose A is a plain matrix (a stride-1 1x1 convolution's activation)
    /// and whose few B panels would not amortize packing it (N = 64 leaves two panels per packed block).
    /// Rows are addressed from three base pointers as base + lda·{0,4,8,12} bytes, so the loop needs 7 integer
    /// registers, not 12 row pointers.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunUnpackedA(int kc, float* a, nint lda, float* b, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        var c0_0 = Vector512<float>.Zero; var c0_1 = Vector512<float>.Zero;
        var c1_0 = Vector512<float>.Zero; var c1_1 = Vector512<float>.Zero;
        var c2_0 = Vector512<float>.Zero; var c2_1 = Vector512<float>.Zero;
        var c3_0 = Vector512<float>.Zero; var c3_1 = Vector512<float>.Zero;
        var c4_0 = Vector512<float>.Zero; var c4_1 = Vector512<float>.Zero;
        var c5_0 = Vector512<float>.Zero; var c5_1 = Vector512<float>.Zero;
        var c6_0 = Vector512<float>.Zero; var c6_1 = Vector512<float>.Zero;
        var c7_0 = Vector512<float>.Zero; var c7_1 = Vector512<float>.Zero;
        var c8_0 = Vector512<float>.Zero; var c8_1 = Vector512<float>.Zero;
        var c9_0 = Vector512<float>.Zero; var c9_1 = Vector512<float>.Zero;
        var c10_0 = Vector512<float>.Zero; var c10_1 = Vector512<float>.Zero;
        var c11_0 = Vector512<float>.Zero; var c11_1 = Vector512<float>.Zero;
        float* a0 = a, a4 = a + (4 * lda), a8 = a + (8 * lda);
        nint lda2 = 2 * lda, lda3 = 3 * lda;

        do
        {
            var b0 = Vector512.Load(b + 0);
            var b1 = Vector512.Load(b + 16);
            var x0 = Vector512.Create(*(a0));
            c0_0 = Avx512F.FusedMultiplyAdd(x0, b0, c0_0);
            c0_1 = Avx512F.FusedMultiplyAdd(x0, b1, c0_1);
            var x1 = Vector512.Create(*(a0 + lda));
            c1_0 = Avx512F.FusedMultiplyAdd(x1, b0, c1_0);
            c1_1 = Avx512F.FusedMultiplyAdd(x1, b1, c1_1);
            var x2 = Vector512.Create(*(a0 + lda2));
            c2_0 = Avx512F.FusedMultiplyAdd(x2, b0, c2_0);
            c2_1 = Avx512F.FusedMultiplyAdd(x2, b1, c2_1);
            var x3 = Vector512.Create(*(a0 + lda3));
            c3_0 = Avx512F.FusedMultiplyAdd(x3, b0, c3_0);
            c3_1 = Avx512F.FusedMultiplyAdd(x3, b1, c3_1);
            var x4 = Vector512.Create(*(a4));
            c4_0 = Avx512F.FusedMultiplyAdd(x4, b0, c4_0);
            c4_1 = Avx512F.FusedMultiplyAdd(x4, b1, c4_1);
            var x5 = Vector512.Create(*(a4 + lda));
            c5_0 = Avx512F.FusedMultiplyAdd(x5, b0, c5_0);
            c5_1 = Avx512F.FusedMultiplyAdd(x5, b1, c5_1);
            var x6 = Vector512.Create(*(a4 + lda2));
            c6_0 = Avx512F.FusedMultiplyAdd(x6, b0, c6_0);
            c6_1 = Avx512F.FusedMultiplyAdd(x6, b1, c6_1);
            var x7 = Vector512.Create(*(a4 + lda3));
            c7_0 = Avx512F.FusedMultiplyAdd(x7, b0, c7_0);
            c7_1 = Avx512F.FusedMultiplyAdd(x7, b1, c7_1);
            var x8 = Vector512.Create(*(a8));
            c8_0 = Avx512F.FusedMultiplyAdd(x8, b0, c8_0);
            c8_1 = Avx512F.FusedMultiplyAdd(x8, b1, c8_1);
            var x9 = Vector512.Create(*(a8 + lda));
            c9_0 = Avx512F.FusedMultiplyAdd(x9, b0, c9_0);
            c9_1 = Avx512F.FusedMultiplyAdd(x9, b1, c9_1);
            var x10 = Vector512.Create(*(a8 + lda2));
            c10_0 = Avx512F.FusedMultiplyAdd(x10, b0, c10_0);
            c10_1 = Avx512F.FusedMultiplyAdd(x10, b1, c10_1);
            var x11 = Vector512.Create(*(a8 + lda3));
            c11_0 = Avx512F.FusedMultiplyAdd(x11, b0, c11_0);
            c11_1 = Avx512F.FusedMultiplyAdd(x11, b1, c11_1);
            a0++;
            a4++;
            a8++;
            b += NR;
        }
        while (--kc != 0);

        if (n == NR)
        {
            var epilogue = new Vector512Epilogue(bias, min, max, flags);
            epilogue.StoreRow(c + 0 * ldc, c0_0, c0_1);
            epilogue.StoreRow(c + 1 * ldc, c1_0, c1_1);
            epilogue.StoreRow(c + 2 * ldc, c2_0, c2_1);
            epilogue.StoreRow(c + 3 * ldc, c3_0, c3_1);
            epilogue.StoreRow(c + 4 * ldc, c4_0, c4_1);
            epilogue.StoreRow(c + 5 * ldc, c5_0, c5_1);
            epilogue.StoreRow(c + 6 * ldc, c6_0, c6_1);
            epilogue.StoreRow(c + 7 * ldc, c7_0, c7_1);
            epilogue.StoreRow(c + 8 * ldc, c8_0, c8_1);
            epilogue.StoreRow(c + 9 * ldc, c9_0, c9_1);
            epilogue.StoreRow(c + 10 * ldc, c10_0, c10_1);
            epilogue.StoreRow(c + 11 * ldc, c11_0, c11_1);
            return;
        }

        float* tile = stackalloc float[MR * NR];
        c0_0.Store(tile + 0); c0_1.Store(tile + 16);
        c1_0.Store(tile + 32); c1_1.Store(tile + 48);
        c2_0.Store(tile + 64); c2_1.Store(tile + 80);
        c3_0.Store(tile + 96); c3_1.Store(tile + 112);
        c4_0.Store(tile + 128); c4_1.Store(tile + 144);
        c5_0.Store(tile + 160); c5_1.Store(tile + 176);
        c6_0.Store(tile + 192); c6_1.Store(tile + 208);
        c7_0.Store(tile + 224); c7_1.Store(tile + 240);
        c8_0.Store(tile + 256); c8_1.Store(tile + 272);
        c9_0.Store(tile + 288); c9_1.Store(tile + 304);
        c10_0.Store(tile + 320); c10_1.Store(tile + 336);
        c11_0.Store(tile + 352); c11_1.Store(tile + 368);
        TileEpilogue.Store(tile, NR, c, ldc, m, n, bias, min, max, flags);
    }
}
