using Kernels.Cpu.Quantized;

namespace Kernels.Tests.Quantized;

/// <summary>
/// The plain scalar definition the int8 kernels must match bit for bit, written independently of the kernels'
/// u/v formulation: x = Σ (a − z_a)·w + bias wrapped to int32, y = (x·M + 2^(30+s)) &gt;&gt; (31+s) in 64 bits
/// (round to nearest, ties up), out = clamp(y + z_out, min, max).
/// </summary>
internal static class QuantizedGemmReference
{
    public static long Requantize(int x, int multiplier, int shift)
    {
        int total = 31 + shift;
        return (((long)x * multiplier) + (1L << (total - 1))) >> total;
    }

    public static byte Output(int x, int multiplier, int shift, QuantizedOutput output)
    {
        long y = Requantize(x, multiplier, shift) + output.ZeroPoint;
        return (byte)Math.Clamp(y, output.Min, output.Max);
    }

    public static byte[] Compute(
        int m, int n, int k, byte[] a, int lda, byte inputZeroPoint, sbyte[] b, int ldb,
        int[]? bias, int[] multipliers, int[] shifts, QuantizedOutput output)
    {
        var c = new byte[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                long sum = bias?[j] ?? 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (a[(i * lda) + p] - inputZeroPoint) * b[(p * ldb) + j];
                }

                c[(i * n) + j] = Output(unchecked((int)sum), multipliers[j], shifts[j], output);
            }
        }

        return c;
    }
}
