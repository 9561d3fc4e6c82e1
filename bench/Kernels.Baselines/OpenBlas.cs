using System.Runtime.InteropServices;

namespace Kernels.Baselines;

/// <summary>
/// OpenBLAS SGEMM as a speed and correctness baseline. The library is loaded at run time
/// (no <c>DllImport</c>) so that a machine without it gets <see cref="UnavailableReason"/>
/// instead of a <see cref="DllNotFoundException"/> in the middle of a benchmark.
/// </summary>
public static unsafe class OpenBlas
{
    /// <summary>The soname Debian's libopenblas0 packages install (pthread, openmp and serial variants).</summary>
    public const string LibraryName = "libopenblas.so.0";

    // CBLAS enum values from cblas.h.
    private const int CblasRowMajor = 101;
    private const int CblasNoTrans = 111;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setNumThreads;
    private static readonly delegate* unmanaged<int> s_getNumThreads;
    private static readonly delegate* unmanaged<byte*> s_getConfig;
    private static readonly string? s_unavailableReason;

    static OpenBlas()
    {
        // OpenBLAS's idle workers busy-wait 2^28 cycles (~70 ms) after each call before sleeping, so
        // in an interleaved comparison they hold the cores while our threads run and halve our
        // 2-thread figure. 2^4 cycles makes them sleep at once; the wake-up costs microseconds per
        // call. Must be in the C environment before the library initializes.
        NativeEnvironment.SetDefault("OPENBLAS_THREAD_TIMEOUT", "4");
        if (!NativeLibrary.TryLoad(LibraryName, out nint handle))
        {
            s_unavailableReason = $"{LibraryName} not found: apt-get install libopenblas-dev";
            return;
        }

        if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemm))
        {
            s_unavailableReason = $"{LibraryName} was loaded but exports no cblas_sgemm (a BLAS without the CBLAS interface?)";
            return;
        }

        s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        // Thread control and configuration are OpenBLAS extensions; a reference BLAS under the same
        // soname would lack them, which only costs thread control.
        if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint set))
        {
            s_setNumThreads = (delegate* unmanaged<int, void>)set;
        }

        if (NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out nint get))
        {
            s_getNumThreads = (delegate* unmanaged<int>)get;
        }

        if (NativeLibrary.TryGetExport(handle, "openblas_get_config", out nint config))
        {
            s_getConfig = (delegate* unmanaged<byte*>)config;
        }
    }

    /// <summary>True when <see cref="LibraryName"/> was loaded and exports <c>cblas_sgemm</c>.</summary>
    public static bool IsAvailable => s_sgemm != null;

    /// <summary>Why OpenBLAS cannot be used (with the fix), or null when it can.</summary>
    public static string? UnavailableReason => s_unavailableReason;

    /// <summary>OpenBLAS's build description (version, target core, threading), or null.</summary>
    public static string? Configuration => s_getConfig == null ? null : Marshal.PtrToStringUTF8((nint)s_getConfig())?.Trim();

    /// <summary>The number of threads OpenBLAS currently uses, or null when it cannot tell.</summary>
    public static int? Threads => s_getNumThreads == null ? null : s_getNumThreads();

    /// <summary>Sets the number of threads OpenBLAS uses for subsequent calls (<c>openblas_set_num_threads</c>).</summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ThrowIfUnavailable();
        if (s_setNumThreads == null)
        {
            throw new NotSupportedException($"{LibraryName} exports no openblas_set_num_threads.");
        }

        s_setNumThreads(threads);
    }

    /// <summary>
    /// C[m×n] = A[m×k]·B[k×n], row-major with leading dimensions (<c>cblas_sgemm</c>, alpha 1, beta 0).
    /// </summary>
    public static void Sgemm(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(a.Length, m, k, lda, nameof(a), nameof(lda));
        CheckMatrix(b.Length, k, n, ldb, nameof(b), nameof(ldb));
        CheckMatrix(c.Length, m, n, ldc, nameof(c), nameof(ldc));
        ThrowIfUnavailable();

        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                c.Slice(i * ldc, n).Clear();
            }

            return;
        }

        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            s_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, ldc);
        }
    }

    private static void CheckMatrix(int length, int rows, int columns, int ld, string matrixName, string ldName)
    {
        // BLAS requires ld >= max(1, columns) even for empty matrices.
        if (ld < Math.Max(1, columns))
        {
            throw new ArgumentException($"Leading dimension {ld} is less than the {columns} columns of '{matrixName}'.", ldName);
        }

        if (rows > 0 && columns > 0)
        {
            long required = (long)(rows - 1) * ld + columns;
            if (length < required)
            {
                throw new ArgumentException($"'{matrixName}' holds {length} elements; a {rows}×{columns} matrix with leading dimension {ld} needs {required}.", matrixName);
            }
        }
    }

    private static void ThrowIfUnavailable()
    {
        if (s_sgemm == null)
        {
            throw new InvalidOperationException(s_unavailableReason);
        }
    }
}
