namespace Kernels.Cpu.Gemm;

/// <summary>
/// Panel packing for the micro-kernels: A into MR-row panels (MR values per k), B into NR-column
/// panels (NR values per k), zero-padded so kernels never read past the matrix.
/// The C helper library has the same routines (kn_pack_a_f32 / kn_pack_b_f32) for C callers.
/// </summary>
internal static unsafe class SgemmPacking
{
    /// <summary>Packs rows [0, m) × columns [0, k) of A (row-major, lda) into ceil(m/mr) panels of k·mr floats.</summary>
    public static void PackA(int mr, int m, int k, float* a, nint lda, float* packed)
    {
        for (int row0 = 0; row0 < m; row0 += mr)
        {
            int rows = Math.Min(mr, m - row0);
            for (int i = 0; i < rows; i++)
            {
                float* src = a + ((row0 + i) * lda);
                float* dst = packed + i;
                for (int p = 0; p < k; p++)
                {
                    dst[p * mr] = src[p];
                }
            }

            for (int i = rows; i < mr; i++)
            {
                float* dst = packed + i;
                for (int p = 0; p < k; p++)
                {
                    dst[p * mr] = 0f;
                }
            }

            packed += k * mr;
        }
    }

    /// <summary>Packs rows [0, k) × columns [0, n) of B (row-major, ldb) into ceil(n/nr) panels of k·nr floats.</summary>
    public static void PackB(int nr, int k, int n, float* b, nint ldb, float* packed)
    {
        for (int col0 = 0; col0 < n; col0 += nr)
        {
            int cols = Math.Min(nr, n - col0);
            nuint bytes = (nuint)(cols * sizeof(float));
            for (int p = 0; p < k; p++)
            {
                float* dst = packed + (p * nr);
                Buffer.MemoryCopy(b + (p * ldb) + col0, dst, bytes, bytes);
                for (int j = cols; j < nr; j++)
                {
                    dst[j] = 0f;
                }
            }

            packed += k * nr;
        }
    }
}
