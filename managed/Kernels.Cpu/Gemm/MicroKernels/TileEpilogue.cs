using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// The store of a partial tile (m &lt; MR or n &lt; NR) for kernels that keep their raw
/// accumulators in a stack tile first: scalar, touches only the m×n corner of C.
/// </summary>
internal static unsafe class TileEpilogue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* tile, int tileStride, float* c, nint ldc, int m, int n, float* bias, float min, float max, int flags)
    {
        bool accumulate = (flags & (int)GemmStoreFlags.Accumulate) != 0;
        bool clamp = (flags & (int)GemmStoreFlags.Clamp) != 0;
        bool leaky = (flags & (int)GemmStoreFlags.LeakyRelu) != 0;
        for (int i = 0; i < m; i++)
        {
            float* row = c + (i * ldc);
            float* acc = tile + (i * tileStride);
            for (int j = 0; j < n; j++)
            {
                float v = acc[j];
                if (accumulate)
                {
                    v += row[j];
                }

                if (bias != null)
                {
                    v += bias[j];
                }

                if (clamp)
                {
                    v = MathF.Min(MathF.Max(v, min), max);
                }

                if (leaky)
                {
                    v = MathF.FusedMultiplyAdd(MathF.Min(v, 0f), min, MathF.Max(v, 0f));
                }

                row[j] = v;
            }
        }
    }
}
