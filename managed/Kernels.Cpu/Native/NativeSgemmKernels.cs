using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Native;

/// <summary>
/// The C micro-kernels with the managed micro-kernel signature, for the micro-kernel registry.
/// Unchecked hot path: register them only when <see cref="NativeLibraryStatus.HasNeonKernels"/>
/// is true (otherwise the call throws EntryPointNotFoundException or DllNotFoundException).
/// <para>
/// The import uses SuppressGCTransition, and the JIT binds such imports when it compiles the
/// method that contains the call. The wrappers are therefore NoInlining: a caller that merely
/// contains a call to <see cref="Neon8x12"/> still compiles and runs on machines without the
/// library; only calling it fails. Do not inline NativeMethods.kn_sgemm_ukernel_8x12_neon into
/// generic GEMM drivers for the same reason.
/// </para>
/// </summary>
internal static unsafe class NativeSgemmKernels
{
    public const int MR = 8;
    public const int NR = 12;

    /// <summary>
    /// 8x12 fp32 micro-kernel (kn_sgemm_ukernel_8x12_neon). <paramref name="a"/>: one packed A
    /// panel (kc x 8, <see cref="NativeKernels.PackA"/> with mr = 8); <paramref name="b"/>: one
    /// packed B panel (kc x 12, nr = 12). kc &gt;= 1, 1 &lt;= m &lt;= 8, 1 &lt;= n &lt;= 12,
    /// ldc &gt;= n (floats). For i &lt; m, j &lt; n: acc = Σ_p a[p*8+i]*b[p*12+j] (FMA);
    /// flags &amp; 1: acc += c[i*ldc+j]; bias != null: acc += bias[j];
    /// flags &amp; 2: acc = fminf(fmaxf(acc, min), max); c[i*ldc+j] = acc. Only the m x n corner
    /// of C is touched.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Neon8x12(int kc, float* a, float* b, float* c, nint ldc, int m, int n,
                                float* bias, float min, float max, int flags)
    {
        Debug.Assert(kc >= 1 && m is >= 1 and <= MR && n is >= 1 and <= NR && ldc >= n);
        NativeMethods.kn_sgemm_ukernel_8x12_neon((nuint)kc, a, b, c, (nuint)ldc, (nuint)m, (nuint)n,
                                                 bias, min, max, flags);
    }
}
