using System.Runtime.CompilerServices;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// int8 GEMM with requantization: C[m×n] (uint8) = requantize(A[m×k] (uint8, zero point) · B[k×n] (int8,
/// symmetric per column) + bias[n]), row-major with leading dimensions. BLIS-style like <see cref="Sgemm"/>:
/// B packed once (<see cref="PackB"/>, K in groups of 4 for vpdpbusd/sdot, zero-point correction folded into
/// the bias), A packed per call into MC×K blocks of MR panels, one micro-kernel call per MR×NR tile over
/// the whole K (int32 accumulators stay in registers, so K is not blocked), requantized in its store.
/// Multithreaded over a <see cref="WorkerGroup"/> by a static 2-D split of the C tiles; a call allocates
/// nothing on the managed heap after warm-up. An instance holds only configuration.
/// </summary>
public sealed unsafe class QuantizedGemm
{
    /// <summary>Largest K: 255·127·K must stay inside int32 so that no accumulator wraps.</summary>
    public const int MaxK = 65536;

    // The packed A block (MC×K bytes) is sized to stay in a 1 MiB L2 (Zen 4; the big cores of recent
    // Cortex-A have 512 KiB-1 MiB) next to the B panel that is streamed through it: 256 KiB.
    private const int ABlockBytes = 256 * 1024;
    private const int DefaultMc = 192;

    [ThreadStatic]
    private static ScratchBuffer? t_packedA;

    private QuantizedGemm(QuantizedGemmMicroKernel kernel, int mc)
    {
        Kernel = kernel;
        MC = Math.Max(kernel.MR, mc / kernel.MR * kernel.MR);
    }

    /// <summary>The int8 GEMM on <see cref="QuantizedGemmKernels.Best"/>.</summary>
    public static QuantizedGemm Default { get; } = Create(QuantizedGemmKernels.Best);

    /// <summary>The micro-kernel every tile goes through.</summary>
    public QuantizedGemmMicroKernel Kernel { get; }

    /// <summary>Largest M block (rows of A packed per block), a multiple of MR; smaller for large K.</summary>
    public int MC { get; }

    /// <summary>Creates an int8 GEMM on <paramref name="kernel"/>.</summary>
    /// <exception cref="ArgumentException">The kernel cannot run here, or mc is not positive.</exception>
    public static QuantizedGemm Create(QuantizedGemmMicroKernel kernel, int mc = DefaultMc)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (!kernel.CanExecute)
        {
            throw new ArgumentException($"Micro-kernel '{kernel.Name}' ({kernel.Isa}) cannot run on this machine.", nameof(kernel));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(mc, 1);
        return new QuantizedGemm(kernel, mc);
    }

    /// <summary>
    /// Packs the weights (k×n int8, row-major, leading dimension ldb, every value in [−127, 127] as symmetric
    /// quantization gives) with their per-output-channel bias (optional), Q31 multipliers and right shifts
    /// (see <see cref="Requantization"/>), folding the activation zero point into the bias.
    /// </summary>
    /// <exception cref="ArgumentException">A size, length or value is out of range; the message names the parameter (and the element).</exception>
    public QuantizedPackedWeights PackB(
        int k, int n, ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<int> multipliers, ReadOnlySpan<int> shifts, byte inputZeroPoint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckMatrix(b.Length, k, n, ldb, nameof(b), nameof(ldb));
        if (!bias.IsEmpty && bias.Length < n)
        {
            throw new ArgumentException($"bias has {bias.Length} elements; N is {n} (pass an empty span for no bias).", nameof(bias));
        }

        Requantization.ValidateChannels(n, multipliers, shifts, nameof(multipliers), nameof(shifts));
        for (int p = 0; p < k; p++)
        {
            ReadOnlySpan<sbyte> row = b.Slice(p * ldb, n);
            int bad = row.IndexOf(sbyte.MinValue);
            if (bad >= 0)
            {
                // −128 would break the ARMv8.0 kernel's int16 pair sums (2·128·128 > 32767); symmetric int8 never produces it.
                throw new ArgumentException($"b[{p}, {bad}] is −128; symmetric int8 weights are in [−127, 127].", nameof(b));
            }
        }

        var packed = new QuantizedPackedWeights(k, n, Kernel, inputZeroPoint);
        packed.Pack(b, ldb, bias, multipliers, shifts, Kernel.ActivationOffset);
        return packed;
    }

    /// <summary>C = requantize(A·B + bias) with B packed by <see cref="PackB"/> for this kernel; k is <see cref="QuantizedPackedWeights.K"/>.</summary>
    /// <exception cref="ArgumentException">A size or length is out of range, B was packed for another kernel, or <paramref name="output"/> is invalid.</exception>
    public void Multiply(int m, ReadOnlySpan<byte> a, int lda, QuantizedPackedWeights b, Span<byte> c, int ldc, QuantizedOutput output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.KernelName != Kernel.Name)
        {
            throw new ArgumentException($"B was packed for '{b.KernelName}'; this GEMM uses '{Kernel.Name}'.", nameof(b));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(m);
        CheckMatrix(a.Length, m, b.K, lda, nameof(a), nameof(lda));
        CheckMatrix(c.Length, m, b.N, ldc, nameof(c), nameof(ldc));
        output.Validate(nameof(output));
        fixed (byte* pa = a)
        fixed (byte* pc = c)
        {
            Execute(m, pa, lda, b, pc, ldc, output, workers);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Execute(int m, byte* a, nint lda, QuantizedPackedWeights b, byte* c, nint ldc, QuantizedOutput output, WorkerGroup? workers)
    {
        int n = b.N;
        if (m == 0 || n == 0)
        {
            return;
        }

        int groups = b.Groups;
        int mr = Kernel.MR;
        int mc = Math.Max(mr, Math.Min(MC, ABlockBytes / Math.Max(1, groups * 4) / mr * mr));
        var work = new Work
        {
            Kernel = Kernel.Function,
            MR = mr,
            NR = Kernel.NR,
            MC = mc,
            M = m,
            N = n,
            K = b.K,
            Groups = groups,
            FlipSign = Kernel.ActivationOffset != 0,
            A = a,
            Lda = lda,
            PackedB = b.Panels,
            C = c,
            Ldc = ldc,
            Bias = b.Bias,
            Multiplier = b.Multiplier,
            Shift = b.Shift,
            Low = output.Min - output.ZeroPoint,
            High = output.Max - output.ZeroPoint,
            ZeroPoint = output.ZeroPoint,
        };

        if (workers is null || workers.ThreadCount == 1)
        {
            work.Execute(0, 1);
        }
        else
        {
            workers.Run(ref work);
        }
    }

    private static void CheckMatrix(int length, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least max(1, {cols}) (the columns of {name}).");
        }

        long needed = rows == 0 || cols == 0 ? 0 : ((long)(rows - 1) * ld) + cols;
        if (length < needed)
        {
            throw new ArgumentException($"{name} has {length} elements; a {rows}×{cols} matrix with leading dimension {ld} needs {needed}.", name);
        }
    }

    /// <summary>
    /// Packs rows [row0, row0 + rows) of A (rows ≤ MR) into one panel: groups × MR × 4 bytes, row i's 4 bytes of
    /// a group contiguous; missing rows and the K tail are zero; with <paramref name="flipSign"/> each byte is
    /// stored as a − 128 (int8), for the s8×s8 kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PackPanel(int mr, byte* a, nint lda, int rows, int k, int groups, bool flipSign, byte* panel)
    {
        uint flip = flipSign ? 0x80808080u : 0u;
        int fullGroups = k >> 2;
        int stride = mr * 4;
        for (int i = 0; i < rows; i++)
        {
            byte* src = a + (i * lda);
            uint* dst = (uint*)(panel + (i * 4));
            for (int g = 0; g < fullGroups; g++)
            {
                dst[g * mr] = Unsafe.ReadUnaligned<uint>(src + (g * 4)) ^ flip;
            }

            if (fullGroups < groups)
            {
                // B is zero at the padded k, so any value works; zero (in the packed domain) keeps it deterministic.
                uint tail = 0;
                for (int t = 0; t < (k & 3); t++)
                {
                    tail |= (uint)(src[(fullGroups * 4) + t] ^ (byte)flip) << (8 * t);
                }

                dst[fullGroups * mr] = tail;
            }
        }

        for (int i = rows; i < mr; i++)
        {
            for (int g = 0; g < groups; g++)
            {
                *(uint*)(panel + (g * stride) + (i * 4)) = 0;
            }
        }
    }

    /// <summary>One call's work: each worker owns a rectangle of C tiles (a static 2-D split).</summary>
    private struct Work : IParallelWork
    {
        public delegate*<int, byte*, sbyte*, byte*, nint, int, int, RequantizeTile*, void> Kernel;
        public int MR, NR, MC, M, N, K, Groups;
        public bool FlipSign;
        public byte* A, C;
        public nint Lda, Ldc;
        public sbyte* PackedB;
        public int* Bias, Multiplier, Shift;
        public int Low, High, ZeroPoint;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int worker, int workerCount)
        {
            int mPanels = (M + MR - 1) / MR;
            int nPanels = (N + NR - 1) / NR;
            TileGrid.Split(mPanels, nPanels, workerCount, out int tilesM, out int tilesN);
            if (worker >= tilesM * tilesN)
            {
                return;
            }

            int wm = worker / tilesN;
            int wn = worker % tilesN;
            int mp0 = (int)((long)mPanels * wm / tilesM), mp1 = (int)((long)mPanels * (wm + 1) / tilesM);
            int np0 = (int)((long)nPanels * wn / tilesN), np1 = (int)((long)nPanels * (wn + 1) / tilesN);
            if (mp0 == mp1 || np0 == np1)
            {
                return;
            }

            int panelABytes = Groups * MR * 4;
            long panelBBytes = (long)Groups * NR * 4;
            int mcPanels = MC / MR;
            byte* packedA = (byte*)ScratchBuffer.Get(ref t_packedA, ((long)mcPanels * panelABytes / 4) + 1);
            RequantizeTile tile = default;
            tile.Low = Low;
            tile.High = High;
            tile.ZeroPoint = ZeroPoint;
            for (int mb = mp0; mb < mp1; mb += mcPanels)
            {
                int mbEnd = Math.Min(mb + mcPanels, mp1);
                for (int mp = mb; mp < mbEnd; mp++)
                {
                    int r = mp * MR;
                    PackPanel(MR, A + (r * Lda), Lda, Math.Min(MR, M - r), K, Groups, FlipSign, packedA + ((mp - mb) * panelABytes));
                }

                for (int np = np0; np < np1; np++)
                {
                    int col0 = np * NR;
                    int cols = Math.Min(NR, N - col0);
                    sbyte* bPanel = PackedB + (np * panelBBytes);
                    tile.Bias = Bias + col0;
                    tile.Multiplier = Multiplier + col0;
                    tile.Shift = Shift + col0;
                    for (int mp = mb; mp < mbEnd; mp++)
                    {
                        int r = mp * MR;
                        Kernel(Groups, packedA + ((mp - mb) * panelABytes), bPanel, C + (r * Ldc) + col0, Ldc, Math.Min(MR, M - r), cols, &tile);
                    }
                }
            }
        }
    }
}
