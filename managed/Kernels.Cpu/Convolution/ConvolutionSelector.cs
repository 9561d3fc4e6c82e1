using Kernels.Core;

namespace Kernels.Cpu.Convolution;

/// <summary>The selector's answer: an algorithm and its expected (heuristic) or measured time.</summary>
/// <param name="Algorithm">The algorithm.</param>
/// <param name="Milliseconds">Expected or measured time of one call.</param>
/// <param name="Measured">True when <paramref name="Milliseconds"/> was measured on this machine, false for the heuristic's estimate.</param>
public sealed record ConvolutionChoice(ConvolutionAlgorithm Algorithm, double Milliseconds, bool Measured);

/// <summary>
/// Chooses a convolution algorithm per layer: by a cost heuristic (operation counts of each algorithm
/// against this machine's FMA peak), or by measuring each applicable candidate once (see
/// <see cref="ConvolutionTuner"/>, results cached per machine). The executor asks it "which algorithm, how long".
/// </summary>
public static class ConvolutionSelector
{
    /// <summary>
    /// The heuristic estimate of every applicable algorithm, fastest first. Times are operation counts
    /// divided by the fraction of peak each algorithm's inner loop reaches (see <see cref="EstimateMilliseconds"/>).
    /// </summary>
    public static IReadOnlyList<ConvolutionChoice> Rank(Conv2DDescriptor descriptor, KernelIsa isa, int threads)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        return Convolutions.ApplicableAlgorithms(descriptor)
            .Select(a => new ConvolutionChoice(a, EstimateMilliseconds(descriptor, a, isa, threads), Measured: false))
            .OrderBy(static c => c.Milliseconds)
            .ToArray();
    }

    /// <summary>The heuristic's choice.</summary>
    /// <exception cref="ArgumentException">No registered algorithm applies to the layer.</exception>
    public static ConvolutionChoice Heuristic(Conv2DDescriptor descriptor, KernelIsa isa, int threads)
    {
        var ranked = Rank(descriptor, isa, threads);
        if (ranked.Count == 0)
        {
            throw new ArgumentException($"No registered convolution algorithm applies to {descriptor}.", nameof(descriptor));
        }

        return ranked[0];
    }

    /// <summary>
    /// The heuristic time of one algorithm: effective floating-point work over (peak × efficiency). Efficiencies
    /// are what the kernels reach on large layers (docs/performance.md); Winograd's GEMMs do 1/2.25 (F2) or 1/4 (F4)
    /// of the multiplies but add transforms that cost about as much as a pass over the input and output per tile.
    /// </summary>
    public static double EstimateMilliseconds(Conv2DDescriptor descriptor, ConvolutionAlgorithm algorithm, KernelIsa isa, int threads)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        double peak = PeakGflopsPerThread(isa) * threads * 1e9;
        var d = descriptor;
        double flops = d.Flops;
        double pixels = (double)d.Batch * d.OutputHeight * d.OutputWidth;
        double seconds = algorithm switch
        {
            ConvolutionAlgorithm.Pointwise => flops / (peak * 0.85 * RowEfficiency(pixels)),

            // The packed A block is gathered from the input: one load/store per element of the im2col matrix.
            ConvolutionAlgorithm.Im2Col => (flops / (peak * GemmEfficiency(d) * RowEfficiency(pixels))) + (pixels * d.ReductionLength * d.Groups / (peak / 8)),
            ConvolutionAlgorithm.WinogradF2 => WinogradSeconds(d, 2, peak),
            ConvolutionAlgorithm.WinogradF4 => WinogradSeconds(d, 4, peak),

            // Depthwise work is one FMA per weight per pixel and streams the input: about a quarter of peak.
            ConvolutionAlgorithm.Depthwise => flops / (peak * 0.25),
            ConvolutionAlgorithm.Direct => flops / (peak * 0.5),
            _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Auto has no cost."),
        };
        return seconds * 1e3;
    }

    private static double GemmEfficiency(Conv2DDescriptor d)
    {
        // Short reductions (first layers, K = 27) and narrow outputs waste part of each micro-kernel tile.
        double k = d.ReductionLength;
        double n = d.GroupOutputChannels;
        return 0.85 * (k / (k + 32)) * (n / (n + 8));
    }

    /// <summary>
    /// A GEMM with few rows re-reads its packed weights for little work: 7x7 layers (49 pixels; 4 Winograd F4
    /// tiles) stream megabytes of weights per call. Efficiency rows/(rows + 24) is 0.67 at 49 rows, 0.14 at 4.
    /// </summary>
    private static double RowEfficiency(double rows) => rows / (rows + 24);

    private static double WinogradSeconds(Conv2DDescriptor d, int m, double peak)
    {
        int tile = m + 2;
        double tiles = (double)d.Batch * ((d.OutputHeight + m - 1) / m) * ((d.OutputWidth + m - 1) / m);
        double gemmFlops = 2.0 * tiles * tile * tile * d.InputChannels * d.OutputChannels / RowEfficiency(tiles);

        // Input transform: ~2·tile³ adds per channel per tile; output transform: ~2·tile²·m per channel.
        double transformFlops = tiles * ((2.0 * tile * tile * tile * d.InputChannels) + (2.0 * tile * tile * m * d.OutputChannels));
        return (gemmFlops / (peak * 0.8)) + (transformFlops / (peak * 0.15));
    }

    private static readonly Lazy<double>[] Peaks =
        Enum.GetValues<KernelIsa>().Select(static isa => new Lazy<double>(() => MeasurePeak(isa))).ToArray();

    /// <summary>The FMA peak of one thread for the variant, measured once per process (50 ms).</summary>
    public static double PeakGflopsPerThread(KernelIsa isa) => Peaks[(int)isa].Value;

    private static double MeasurePeak(KernelIsa isa)
    {
        // The FMA peak probe measures the widest vector unit; narrower variants reach that over the vector width ratio.
        double widest = Diagnostics.FmaPeak.Measure(1, TimeSpan.FromMilliseconds(50)).Gflops;
        int widestLanes = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 16 : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? 8 : 4;
        int lanes = isa switch { KernelIsa.Avx512 => 16, KernelIsa.Avx2 => 8, _ => 4 };
        return widest * Math.Min(1.0, (double)lanes / widestLanes);
    }
}
