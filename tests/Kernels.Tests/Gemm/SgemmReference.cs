namespace Kernels.Tests.Gemm;

/// <summary>Float64 reference GEMM and the error bound every optimized kernel is held to.</summary>
internal static class SgemmReference
{
    /// <summary>Unit roundoff of float32.</summary>
    public const double U = 1.0 / (1 << 24);

    /// <summary>
    /// Computes ref[i,j] = Σ_p a[i,p]·b[p,j] + bias[j], activated, in float64, and the bound
    /// (K + 2)·u·(Σ_p |a[i,p]·b[p,j]| + |bias[j]|): the worst-case error of any float32 evaluation
    /// order with one rounding per multiply-add plus the bias and accumulate-into-C additions.
    /// </summary>
    public static (double[] Expected, double[] Bound) Compute(
        int m, int n, int k, float[] a, int lda, float[] b, int ldb, float[]? bias, Kernels.Core.FusedActivation activation)
    {
        var expected = new double[m * n];
        var bound = new double[m * n];
        var rowSum = new double[n];
        var rowAbs = new double[n];
        for (int i = 0; i < m; i++)
        {
            Array.Clear(rowSum);
            Array.Clear(rowAbs);
            for (int p = 0; p < k; p++)
            {
                double av = a[(i * lda) + p];
                int bo = p * ldb;
                for (int j = 0; j < n; j++)
                {
                    double prod = av * b[bo + j];
                    rowSum[j] += prod;
                    rowAbs[j] += Math.Abs(prod);
                }
            }

            for (int j = 0; j < n; j++)
            {
                double v = rowSum[j] + (bias is null ? 0 : bias[j]);
                double mag = rowAbs[j] + (bias is null ? 0 : Math.Abs(bias[j]));
                expected[(i * n) + j] = Convolution.ConvReference.Activate(v, activation);
                bound[(i * n) + j] = ((k + 2) * U * mag) + 1e-30;
            }
        }

        return (expected, bound);
    }
}
