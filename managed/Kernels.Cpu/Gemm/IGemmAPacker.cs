using System.Runtime.CompilerServices;
namespace Kernels.Cpu.Gemm;

/// <summary>
/// Delivers the GEMM's A one packed MR-row panel at a time, so A need not exist as a matrix: a
/// convolution gathers the rows straight from its NHWC input (1x1 with stride, im2col) into the
/// cache-sized block the micro-kernels read, instead of writing and re-reading a whole im2col matrix.
/// </summary>
internal unsafe interface IGemmAPacker
{
    /// <summary>
    /// Writes rows [row0, row0 + rows) × columns [k0, k0 + kc) of A as one panel: for p &lt; kc and i &lt; mr,
    /// panel[p·mr + i] = A[row0 + i, k0 + p] for i &lt; rows, 0 otherwise. 1 ≤ rows ≤ mr.
    /// <paramref name="neon"/>: pack with the AdvSimd code (see <see cref="PanelPacking.PackRows"/>).
    /// </summary>
    void PackPanel(int mr, int row0, int rows, int k0, int kc, float* panel, bool neon);

    /// <summary>True, with the matrix, when A is a plain row-major matrix that a kernel may read in place.</summary>
    bool TryGetMatrix(out float* a, out nint lda);
}

/// <summary>A as a row-major matrix with leading dimension lda.</summary>
internal readonly unsafe struct MatrixAPacker : IGemmAPacker
{
    private readonly float* _a;
    private readonly nint _lda;

    public MatrixAPacker(float* a, nint lda)
    {
        _a = a;
        _lda = lda;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackPanel(int mr, int row0, int rows, int k0, int kc, float* panel, bool neon)
    {
        var sources = new PanelRows();
        float* first = _a + (row0 * _lda) + k0;
        for (int i = 0; i < rows; i++)
        {
            sources[i] = (nint)(first + (i * _lda));
        }

        PanelPacking.PackRows(mr, rows, kc, ref sources, panel, neon);
    }

    public bool TryGetMatrix(out float* a, out nint lda)
    {
        a = _a;
        lda = _lda;
        return true;
    }
}
