using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Gemm;

/// <summary>
/// Single-precision GEMM, C[m×n] = A[m×k]·B[k×n] (+ bias[n]) then clamp, row-major with leading
/// dimensions; BLIS-style: B packed into NR panels (once, for weights), A packed per thread into
/// MC×KC blocks of MR panels, a register-blocked micro-kernel per tile; bias and ReLU/ReLU6 are
/// applied in the micro-kernel's store. Multithreaded over a <see cref="WorkerGroup"/> by a static
/// 2-D split of the C tiles. A call allocates nothing on the managed heap after warm-up.
/// An instance holds only configuration and may be used from several threads at once.
/// </summary>
public sealed unsafe class Sgemm
{
    // Block sizes from a sweep of SGEMM 1024³ on Zen 4 (32 KiB L1D, 1 MiB L2), 12x32 AVX-512:
    // KC 256 → 94 GFLOP/s, 384 → 103, 512 → 108, 1024 → 109; MC 48-288 within noise at KC 512.
    // A large KC amortizes the C tile's load/store over more FMAs; the B panel (KC·NR floats) then
    // streams from L2 while the 12-float A column per k stays in L1. For the AdvSimd 8x12 kernel the
    // B panel is 24 KiB and the MC×KC block of A 384 KiB: L1 and L2 of a Cortex-A7x big core.
    private const int DefaultKc = 512;
    private const int DefaultMc = 192;

    /// <summary>Most B panels per worker for which A is read in place rather than packed (see the driver).</summary>
    private const int UnpackedAMaxPanels = 2;

    [ThreadStatic]
    private static ScratchBuffer? t_packedA;

    [ThreadStatic]
    private static ScratchBuffer? t_packedB;

    private Sgemm(SgemmMicroKernel kernel, int kc, int mc)
    {
        Kernel = kernel;
        KC = kc;
        MC = Math.Max(kernel.MR, mc / kernel.MR * kernel.MR);
    }

    /// <summary>SGEMM on the best micro-kernel of this CPU (<see cref="SgemmKernels.Best"/>).</summary>
    public static Sgemm Default { get; } = Create(SgemmKernels.Best);

    /// <summary>The micro-kernel every tile goes through.</summary>
    public SgemmMicroKernel Kernel { get; }

    /// <summary>K block size (rows of B per packed block).</summary>
    public int KC { get; }

    /// <summary>M block size (rows of A packed per block), a multiple of MR.</summary>
    public int MC { get; }

    /// <summary>Creates an SGEMM that uses <paramref name="kernel"/>, with optional cache block sizes.</summary>
    /// <exception cref="ArgumentException">The kernel cannot run on this machine, or a block size is not positive.</exception>
    public static Sgemm Create(SgemmMicroKernel kernel, int kc = DefaultKc, int mc = DefaultMc)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (!kernel.CanExecute)
        {
            throw new ArgumentException($"Micro-kernel '{kernel.Name}' ({kernel.Isa}) cannot run on this machine.", nameof(kernel));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(kc, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(mc, 1);
        return new Sgemm(kernel, kc, mc);
    }

    /// <summary>Packs B (k×n, row-major, leading dimension ldb) once for reuse by <see cref="Multiply(int, ReadOnlySpan{float}, int, PackedWeights, Span{float}, int, ReadOnlySpan{float}, FusedActivation, WorkerGroup?)"/>.</summary>
    public PackedWeights PackB(int k, int n, ReadOnlySpan<float> b, int ldb)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        CheckMatrix(b, k, n, ldb, nameof(b), nameof(ldb));
        var packed = new PackedWeights(k, n, Kernel.NR, KC, Kernel.Name);
        fixed (float* pb = b)
        {
            PackedWeights.Pack(k, n, Kernel.NR, KC, pb, ldb, packed.Pointer);
        }

        return packed;
    }

    /// <summary>C = A·B (+ bias) with B packed per call (use <see cref="PackB"/> for weights that are reused).</summary>
    public void Multiply(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc,
        ReadOnlySpan<float> bias = default,
        FusedActivation activation = default,
        WorkerGroup? workers = null)
    {
        Validate(m, n, k, a, lda, c, ldc, bias);
        CheckMatrix(b, k, n, ldb, nameof(b), nameof(ldb));
        int paddedN = (n + Kernel.NR - 1) / Kernel.NR * Kernel.NR;
        float* packedB = ScratchBuffer.Get(ref t_packedB, (long)k * paddedN);
        fixed (float* pb = b)
        {
            PackedWeights.Pack(k, n, Kernel.NR, KC, pb, ldb, packedB);
        }

        Execute(m, n, k, a, lda, packedB, c, ldc, bias, activation, workers);
    }

    /// <summary>C = A·B (+ bias) with B pre-packed by <see cref="PackB"/>; k is <see cref="PackedWeights.K"/>.</summary>
    public void Multiply(
        int m,
        ReadOnlySpan<float> a, int lda,
        PackedWeights b,
        Span<float> c, int ldc,
        ReadOnlySpan<float> bias = default,
        FusedActivation activation = default,
        WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.NR != Kernel.NR || b.KC != KC)
        {
            throw new ArgumentException(
                $"B was packed for '{b.KernelName}' (NR {b.NR}, KC {b.KC}); this SGEMM uses '{Kernel.Name}' (NR {Kernel.NR}, KC {KC}).",
                nameof(b));
        }

        Validate(m, b.N, b.K, a, lda, c, ldc, bias);
        Execute(m, b.N, b.K, a, lda, b.Pointer, c, ldc, bias, activation, workers);
    }

    private void Execute(
        int m, int n, int k, ReadOnlySpan<float> a, int lda, float* packedB, Span<float> c, int ldc,
        ReadOnlySpan<float> bias, FusedActivation activation, WorkerGroup? workers)
    {
        activation.Validate(nameof(activation));
        fixed (float* pa = a)
        fixed (float* pc = c)
        fixed (float* pbias = bias)
        {
            Execute(m, n, k, new MatrixAPacker(pa, lda), packedB, pc, ldc, bias.IsEmpty ? null : pbias, activation, workers);
        }
    }

    /// <summary>
    /// The driver under every public entry: C[m×n] = A·B (+ bias), A delivered panel by panel by
    /// <paramref name="a"/> (a matrix, or rows gathered from an NHWC activation by a convolution),
    /// B packed as <see cref="PackedWeights"/> for this configuration. Arguments are trusted.
    /// </summary>
    internal void Execute<TA>(
        int m, int n, int k, in TA a, float* packedB, float* c, nint ldc, float* bias, FusedActivation activation, WorkerGroup? workers)
        where TA : struct, IGemmAPacker
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        var (min, max, finalFlags) = GemmEpilogue.From(activation);
        if (k == 0)
        {
            FillWithBias(m, n, c, ldc, bias, activation);
            return;
        }

        var work = new GemmWork<TA>
        {
            Kernel = Kernel.Function,
            UnpackedAKernel = Kernel.UnpackedAFunction,
            MR = Kernel.MR,
            NR = Kernel.NR,
            KC = KC,
            MC = MC,
            M = m,
            N = n,
            K = k,
            A = a,
            PackedB = packedB,
            PaddedN = (n + Kernel.NR - 1) / Kernel.NR * Kernel.NR,
            C = c,
            Ldc = ldc,
            Bias = bias,
            Min = min,
            Max = max,
            FinalFlags = finalFlags,
            NeonPacking = Kernel.PacksWithNeon,
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

    private static void FillWithBias(int m, int n, float* c, nint ldc, float* bias, FusedActivation activation)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                c[(i * ldc) + j] = activation.Apply(bias == null ? 0f : bias[j]);
            }
        }
    }

    private static void Validate(int m, int n, int k, ReadOnlySpan<float> a, int lda, Span<float> c, int ldc, ReadOnlySpan<float> bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckMatrix(a, m, k, lda, nameof(a), nameof(lda));
        CheckMatrix(c, m, n, ldc, nameof(c), nameof(ldc));
        if (!bias.IsEmpty && bias.Length < n)
        {
            throw new ArgumentException($"bias has {bias.Length} elements; N is {n} (pass an empty span for no bias).", nameof(bias));
        }
    }

    private static void CheckMatrix(ReadOnlySpan<float> data, int rows, int cols, int ld, string name, string ldName)
    {
        if (ld < Math.Max(1, cols))
        {
            throw new ArgumentOutOfRangeException(ldName, ld, $"{ldName} must be at least max(1, {cols}) (the columns of {name}).");
        }

        long needed = rows == 0 || cols == 0 ? 0 : ((long)(rows - 1) * ld) + cols;
        if (data.Length < needed)
        {
            throw new ArgumentException(
                $"{name} has {data.Length} elements; a {rows}×{cols} matrix with leading dimension {ld} needs {needed}.", name);
        }
    }

    /// <summary>One call's work: each worker owns a rectangle of C tiles (a static 2-D split).</summary>
    private struct GemmWork<TA> : IParallelWork
        where TA : struct, IGemmAPacker
    {
        public delegate*<int, float*, float*, float*, nint, int, int, float*, float, float, int, void> Kernel;
        public delegate*<int, float*, nint, float*, float*, nint, int, int, float*, float, float, int, void> UnpackedAKernel;
        public int MR, NR, KC, MC, M, N, K, PaddedN;
        public TA A;
        public float* PackedB, C, Bias;
        public nint Ldc;
        public float Min, Max;
        public int FinalFlags;
        public bool NeonPacking;

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

            float* aMatrix = null;
            nint aLda = 0;
            int mcPanels = MC / MR;
            float* packedA = ScratchBuffer.Get(ref t_packedA, (long)MC * KC);

            // A matrix is read in place (no packing) when K fits one block, or when this worker has at most
            // UnpackedAMaxPanels B panels to amortize a packed block over. ResNet50 1x1 layers, AVX-512, 1 thread:
            // N = 64 went from 81-85 % to 95 % of peak (packing was 14 % of the time), K ≤ 512 layers gained 1-7
            // points; with K = 1024-2048 the 12 row streams of 512 floats lost 2-10 points to packed panels.
            // Partial row panels are always packed.
            bool unpacked = UnpackedAKernel != null && (K <= KC || np1 - np0 <= UnpackedAMaxPanels) && A.TryGetMatrix(out aMatrix, out aLda);
            for (int k0 = 0; k0 < K; k0 += KC)
            {
                int kc = Math.Min(KC, K - k0);
                int flags = (k0 > 0 ? (int)GemmStoreFlags.Accumulate : 0) | (k0 + kc == K ? FinalFlags : 0);
                float* bBlock = PackedB + ((long)k0 * PaddedN);
                for (int mb = mp0; mb < mp1; mb += mcPanels)
                {
                    int mbEnd = Math.Min(mb + mcPanels, mp1);
                    int row0 = mb * MR;
                    int rows = Math.Min(mbEnd * MR, M) - row0;
                    for (int r = 0; r < rows; r += MR)
                    {
                        if (!unpacked || rows - r < MR)
                        {
                            A.PackPanel(MR, row0 + r, Math.Min(MR, rows - r), k0, kc, packedA + ((long)r * kc), NeonPacking);
                        }
                    }

                    for (int np = np0; np < np1; np++)
                    {
                        int col0 = np * NR;
                        int cols = Math.Min(NR, N - col0);
                        float* bPanel = bBlock + ((long)np * kc * NR);
                        float* bias = k0 == 0 && Bias != null ? Bias + col0 : null;
                        for (int mp = mb; mp < mbEnd; mp++)
                        {
                            int r = mp * MR;
                            if (unpacked && M - r >= MR)
                            {
                                UnpackedAKernel(kc, aMatrix + (r * aLda) + k0, aLda, bPanel, C + (r * Ldc) + col0, Ldc, MR, cols, bias, Min, Max, flags);
                            }
                            else
                            {
                                Kernel(kc, packedA + ((mp - mb) * kc * MR), bPanel, C + (r * Ldc) + col0, Ldc, Math.Min(MR, M - r), cols, bias, Min, Max, flags);
                            }
                        }
                    }
                }
            }
        }
    }
}
