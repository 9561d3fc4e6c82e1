namespace Kernels.Cli;

// What the commands report; with --json these are the documented output schema (camelCase).

internal sealed record DevicesReport(
    int CoreCount,
    IReadOnlyList<ClusterReport> Clusters,
    IReadOnlyList<string> Isa,
    string Runtime,
    int VectorBits,
    SgemmReport Sgemm,
    LibraryReport Native,
    LibraryReport OpenBlas);

internal sealed record ClusterReport(int Id, IReadOnlyList<int> Cores, long MaxFrequencyKHz, int Capacity, string CpuPart, bool IsVirtual);

/// <param name="Selected">The micro-kernel <c>Sgemm.Default</c> uses.</param>
/// <param name="Kernels">Every registered micro-kernel, supported on this CPU or not.</param>
internal sealed record SgemmReport(string Selected, IReadOnlyList<MicroKernelReport> Kernels);

/// <param name="Supported">Runs natively at full speed here.</param>
/// <param name="Executable">Runs here at all: natively, or through the Neon shim / SIMDe (tests only).</param>
internal sealed record MicroKernelReport(string Name, string Isa, int Mr, int Nr, bool Supported, bool Executable);

/// <param name="Detail">Native: whether NEON kernels are built in; OpenBLAS: its build configuration.</param>
internal sealed record LibraryReport(bool Available, string? UnavailableReason, string? Detail);

internal sealed record PeakReport(int Threads, IReadOnlyList<int> Cores, double Gflops, string Isa);

/// <summary>One <c>bench gemm</c> run. Baseline fields are null when there is no baseline.</summary>
/// <param name="Gflops">2·m·n·k / median time.</param>
/// <param name="Ratio">Gflops / BaselineGflops: above 1 means faster than the baseline.</param>
/// <param name="PeakFraction">Gflops / PeakGflops, the peak measured with the same threads.</param>
/// <param name="MaxRelativeError">Largest |ours − reference| over the largest |reference|.</param>
/// <param name="VerifiedAgainst">"openblas" (whole result) or "reference" (float64, sampled rows).</param>
internal sealed record GemmBenchReport(
    int M,
    int N,
    int K,
    int Threads,
    IReadOnlyList<int> Cores,
    bool Pinned,
    string Kernel,
    bool Packed,
    double Gflops,
    double MedianMs,
    double BestMs,
    int Repetitions,
    string? Baseline,
    double? BaselineGflops,
    double? BaselineMs,
    double? BaselineBestMs,
    double? Ratio,
    double PeakGflops,
    string PeakIsa,
    double PeakFraction,
    double MaxRelativeError,
    string VerifiedAgainst);
