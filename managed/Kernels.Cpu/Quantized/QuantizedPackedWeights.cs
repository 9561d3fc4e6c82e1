using Kernels.Core;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// int8 weights B (K×N, symmetric per output channel) packed once at plan time for one micro-kernel,
/// with the per-channel int32 terms of the epilogue: panels of NR columns, each groups × NR × 4 int8
/// (K padded to a multiple of 4 with zeros; see <see cref="QuantizedGemmMicroKernel"/>), and NR-padded
/// per-channel bias, multiplier and shift.
/// <para>
/// The activation zero point z is folded into the bias here: Σ_k (a − z)·w = Σ_k a·w − z·Σ_k w, so the
/// stored bias is bias − z·colsum (and + 128·colsum for kernels that consume a − 128, since then the
/// kernel's sum is Σ (a − 128)·w), computed in 64 bits and wrapped to int32 like the kernels' sums.
/// </para>
/// </summary>
public sealed unsafe class QuantizedPackedWeights : IDisposable
{
    private readonly NativeBuffer<sbyte> _panels;
    private readonly NativeBuffer<int> _channels;

    internal QuantizedPackedWeights(int k, int n, QuantizedGemmMicroKernel kernel, byte inputZeroPoint)
    {
        K = k;
        N = n;
        NR = kernel.NR;
        KernelName = kernel.Name;
        InputZeroPoint = inputZeroPoint;
        Groups = (k + 3) / 4;
        PaddedN = (n + NR - 1) / NR * NR;
        _panels = new NativeBuffer<sbyte>(Math.Max(1L, (long)Groups * 4 * PaddedN), zero: true);
        _channels = new NativeBuffer<int>(3L * PaddedN, zero: true);
    }

    /// <summary>Rows of B (the GEMM's K).</summary>
    public int K { get; }

    /// <summary>Columns of B (output channels, the GEMM's N).</summary>
    public int N { get; }

    /// <summary>Panel width: the micro-kernel's NR.</summary>
    public int NR { get; }

    /// <summary>Name of the micro-kernel the layout was packed for.</summary>
    public string KernelName { get; }

    /// <summary>The activation zero point folded into <see cref="Bias"/>.</summary>
    public byte InputZeroPoint { get; }

    /// <summary>K rounded up to groups of 4.</summary>
    internal int Groups { get; }

    /// <summary>N rounded up to a multiple of NR.</summary>
    internal int PaddedN { get; }

    internal sbyte* Panels => _panels.Pointer;

    /// <summary>Folded bias per channel (PaddedN entries).</summary>
    internal int* Bias => _channels.Pointer;

    internal int* Multiplier => _channels.Pointer + PaddedN;

    internal int* Shift => _channels.Pointer + (2 * PaddedN);

    /// <summary>Frees the packed panels.</summary>
    public void Dispose()
    {
        _panels.Dispose();
        _channels.Dispose();
    }

    internal void Pack(ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, int activationOffset)
    {
        sbyte* panels = Panels;
        long panelBytes = (long)Groups * NR * 4;
        for (int j = 0; j < N; j++)
        {
            sbyte* column = panels + ((j / NR) * panelBytes) + ((j % NR) * 4);
            long sum = 0;
            for (int p = 0; p < K; p++)
            {
                sbyte w = b[(p * ldb) + j];
                column[((p >> 2) * NR * 4) + (p & 3)] = w;
                sum += w;
            }

            long folded = (bias.IsEmpty ? 0 : bias[j]) - ((long)(InputZeroPoint - activationOffset) * sum);
            Bias[j] = unchecked((int)folded);
            Multiplier[j] = multipliers[j];
            Shift[j] = shifts[j];
        }
    }
}
