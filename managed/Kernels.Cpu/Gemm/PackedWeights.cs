using Kernels.Core;

namespace Kernels.Cpu.Gemm;

/// <summary>
/// B (the weights, K×N) packed once for one <see cref="Sgemm"/> configuration and reused by every
/// call: K blocks of <c>KC</c> rows, each a row of NR-column panels (kc·NR floats per panel),
/// 64-byte aligned. Block b starts at float offset b·KC·PaddedN, its panel j at j·kc·NR within it.
/// </summary>
public sealed unsafe class PackedWeights : IDisposable
{
    private readonly NativeBuffer<float> _buffer;

    internal PackedWeights(int k, int n, int nr, int kc, string kernelName)
    {
        K = k;
        N = n;
        NR = nr;
        KC = kc;
        KernelName = kernelName;
        PaddedN = (n + nr - 1) / nr * nr;
        _buffer = new NativeBuffer<float>(Math.Max(1L, (long)k * PaddedN), zero: false);
    }

    /// <summary>Rows of B (the GEMM's K).</summary>
    public int K { get; }

    /// <summary>Columns of B (the GEMM's N).</summary>
    public int N { get; }

    /// <summary>Panel width: the micro-kernel's NR.</summary>
    public int NR { get; }

    /// <summary>K block size the panels were cut for.</summary>
    public int KC { get; }

    /// <summary>N rounded up to a multiple of NR.</summary>
    public int PaddedN { get; }

    /// <summary>Name of the micro-kernel the layout was packed for.</summary>
    public string KernelName { get; }

    internal float* Pointer => _buffer.Pointer;

    /// <summary>Frees the packed panels.</summary>
    public void Dispose() => _buffer.Dispose();

    /// <summary>Packs B (row-major, ldb) into <paramref name="packed"/> laid out as described on this class.</summary>
    internal static void Pack(int k, int n, int nr, int kc, float* b, nint ldb, float* packed)
    {
        int paddedN = (n + nr - 1) / nr * nr;
        for (int k0 = 0; k0 < k; k0 += kc)
        {
            int kcur = Math.Min(kc, k - k0);
            SgemmPacking.PackB(nr, kcur, n, b + (k0 * ldb), ldb, packed + ((long)k0 * paddedN));
        }
    }
}
