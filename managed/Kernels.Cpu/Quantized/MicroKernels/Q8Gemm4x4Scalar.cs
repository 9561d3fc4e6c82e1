using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// qu8s8-gemm-4x4-scalar: the portable kernel, plain integer arithmetic (u8 × s8 products, int32 sums),
/// 16 accumulators in locals. Also the fallback where no SIMD kernel runs.
/// </summary>
internal static unsafe class Q8Gemm4x4Scalar
{
    public const int MR = 4;
    public const int NR = 4;

    /// <summary>See <see cref="QuantizedGemmMicroKernel"/> for the contract.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        Unsafe.SkipInit(out Accumulators16 acc);
        for (int t = 0; t < MR * NR; t++)
        {
            acc[t] = 0;
        }

        for (int g = 0; g < groups; g++)
        {
            for (int i = 0; i < MR; i++)
            {
                int a0 = a[(i * 4) + 0], a1 = a[(i * 4) + 1], a2 = a[(i * 4) + 2], a3 = a[(i * 4) + 3];
                for (int j = 0; j < NR; j++)
                {
                    sbyte* w = b + (j * 4);
                    acc[(i * NR) + j] += (a0 * w[0]) + (a1 * w[1]) + (a2 * w[2]) + (a3 * w[3]);
                }
            }

            a += MR * 4;
            b += NR * 4;
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[(i * ldc) + j] = Requantization.Apply(
                    unchecked(acc[(i * NR) + j] + q->Bias[j]), q->Multiplier[j], q->Shift[j], q->Low, q->High, q->ZeroPoint);
            }
        }
    }

    [InlineArray(MR * NR)]
    private struct Accumulators16
    {
        private int _element;
    }
}
