using System.Runtime.CompilerServices;
using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

/// <summary>
/// NativeSgemmKernels.Neon8x12 (C kn_sgemm_ukernel_8x12_neon; SIMDe-emulated on x86) against a
/// float64 reference. Error bound: |got - ref| &lt;= 1e-5 * (Σ|a*b| + |c_old| + |bias|) + 1e-7.
/// C is poisoned with NaN first; everything outside the m x n corner must stay poisoned.
/// </summary>
public unsafe class NativeSgemmKernelTests
{
    public static TheoryData<int> KcValues() => new() { 1, 2, 3, 4, 5, 8, 17, 64 };

    [NeonTheory]
    [MemberData(nameof(KcValues))]
    public void Matches_float64_reference_for_every_tile_shape(int kc)
    {
        if (!NativeTestSupport.ShouldRunNeon())
            return;
        const int MR = NativeSgemmKernels.MR, NR = NativeSgemmKernels.NR, Guard = 8;
        const float lo = -0.75f, hi = 0.5f;
        var rng = new Random(kc);
        for (int m = 1; m <= MR; m++)
        for (int n = 1; n <= NR; n++)
        for (int flags = 0; flags < 4; flags++)
        for (int withBias = 0; withBias < 2; withBias++)
        {
            // Unpacked A (m x kc) and B (kc x n), packed with the library's packers.
            float[] aRows = TestData.RandomFloats(rng, m * kc);
            float[] bRows = TestData.RandomFloats(rng, kc * n);
            var aPanel = new float[kc * MR];
            var bPanel = new float[kc * NR];
            NativeKernels.PackA(MR, m, kc, aRows, kc, aPanel);
            NativeKernels.PackB(NR, kc, n, bRows, n, bPanel);
            float[] bias = TestData.RandomFloats(rng, n);

            int ldc = n + 5;
            var cbuf = new float[Guard + MR * ldc + Guard];
            Array.Fill(cbuf, NativeTestSupport.Poison);
            var cOld = new float[m, n];
            if ((flags & 1) != 0)
            {
                for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    cbuf[Guard + i * ldc + j] = cOld[i, j] = (float)(rng.NextDouble() * 2 - 1);
            }

            fixed (float* pa = aPanel)
            fixed (float* pb = bPanel)
            fixed (float* pc = cbuf)
            fixed (float* pbias = bias)
            {
                NativeSgemmKernels.Neon8x12(kc, pa, pb, pc + Guard, ldc, m, n, withBias == 1 ? pbias : null, lo, hi, flags);
            }

            for (int idx = 0; idx < cbuf.Length; idx++)
            {
                int off = idx - Guard;
                bool inside = off >= 0 && off < MR * ldc && off / ldc < m && off % ldc < n;
                if (!inside)
                {
                    if (!NativeTestSupport.IsPoison(cbuf[idx]))
                        Assert.Fail($"m {m} n {n} kc {kc} flags {flags} bias {withBias}: wrote outside the corner at offset {off}");
                    continue;
                }
                int r = off / ldc, col = off % ldc;
                double want = 0, mag = 0;
                for (int p = 0; p < kc; p++)
                {
                    double prod = (double)aRows[r * kc + p] * bRows[p * n + col];
                    want += prod;
                    mag += Math.Abs(prod);
                }
                if ((flags & 1) != 0) { want += cOld[r, col]; mag += Math.Abs(cOld[r, col]); }
                if (withBias == 1) { want += bias[col]; mag += Math.Abs(bias[col]); }
                if ((flags & 2) != 0) want = Math.Min(Math.Max(want, lo), hi);
                double tol = 1e-5 * mag + 1e-7;
                double got = cbuf[idx];
                if (!(Math.Abs(got - want) <= tol))
                    Assert.Fail($"m {m} n {n} kc {kc} flags {flags} bias {withBias}: c[{r}][{col}] = {got:R}, want {want:R} (tol {tol:G3})");
            }
        }
    }

    [NeonFact]
    public void Full_tile_through_raw_binding_with_unit_ldc()
    {
        if (!NativeTestSupport.ShouldRunNeon())
            return;
        // a = all ones, b[p][j] = j: c[i][j] = kc * j, then + bias, clamp at 20.
        const int kc = 3;
        var a = new float[kc * 8];
        var b = new float[kc * 12];
        Array.Fill(a, 1f);
        for (int p = 0; p < kc; p++)
        for (int j = 0; j < 12; j++)
            b[p * 12 + j] = j;
        var bias = new float[12];
        Array.Fill(bias, 0.5f);
        var c = new float[8 * 12];
        CallRaw(kc, a, b, c, bias);
        for (int i = 0; i < 8; i++)
        for (int j = 0; j < 12; j++)
            Assert.Equal(Math.Min(kc * j + 0.5f, 20f), c[i * 12 + j]);
    }

    // The import is SuppressGCTransition (bound when the caller is compiled): keep it out of the
    // test method so that KERNELS_SKIP_NATIVE works on machines without the library.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CallRaw(int kc, float[] a, float[] b, float[] c, float[] bias)
    {
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        {
            NativeMethods.kn_sgemm_ukernel_8x12_neon((nuint)kc, pa, pb, pc, 12, 8, 12, pbias, float.NegativeInfinity, 20f, NativeMethods.GemmClamp);
        }
    }
}
