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
    LibraryReport OpenBlas,
    SgemmReport Int8Gemm,
    OpenCLReport OpenCL);

/// <param name="Available">At least one OpenCL device.</param>
/// <param name="UnavailableReason">One line: no libOpenCL, no platform, or platforms without devices.</param>
/// <param name="ProgramBuilds">With <c>--build-programs</c>: every embedded program built on every device; else null.</param>
internal sealed record OpenCLReport(bool Available, string? UnavailableReason, IReadOnlyList<OpenCLDeviceReport> Devices, IReadOnlyList<ProgramBuildReport>? ProgramBuilds);

/// <param name="Key">Device, vendor, driver and platform version: what the program cache and the tuner file are keyed by.</param>
internal sealed record OpenCLDeviceReport(
    int Index,
    string Platform,
    string Name,
    string Vendor,
    string Type,
    string DriverVersion,
    string DeviceVersion,
    string OpenCLCVersion,
    int ComputeUnits,
    int MaxClockMHz,
    long MaxWorkGroupSize,
    IReadOnlyList<long> MaxWorkItemSizes,
    long LocalMemoryBytes,
    long GlobalMemoryBytes,
    long MaxAllocationBytes,
    bool Fp16,
    bool IntegerDot8,
    IReadOnlyList<string> Extensions,
    string BuildOptions,
    string Key);

/// <param name="FromCache">Loaded from the on-disk program-binary cache rather than compiled.</param>
internal sealed record ProgramBuildReport(int Device, string Program, double Milliseconds, bool FromCache);

internal sealed record ClusterReport(int Id, IReadOnlyList<int> Cores, long MaxFrequencyKHz, int Capacity, string CpuPart, bool IsVirtual);

/// <summary>A micro-kernel registry: SGEMM's, or (the devices report's <c>int8Gemm</c>) the int8 GEMM's.</summary>
/// <param name="Selected">The micro-kernel <c>Sgemm.Default</c> (<c>QuantizedGemm.Default</c>) uses.</param>
/// <param name="Kernels">Every registered micro-kernel, supported on this CPU or not.</param>
internal sealed record SgemmReport(string Selected, IReadOnlyList<MicroKernelReport> Kernels);

/// <param name="Supported">Runs natively at full speed here.</param>
/// <param name="Executable">Runs here at all: natively, or through the Neon shim / SIMDe (tests only).</param>
internal sealed record MicroKernelReport(string Name, string Isa, int Mr, int Nr, bool Supported, bool Executable);

/// <param name="Detail">Native: whether NEON kernels are built in; OpenBLAS: its build configuration.</param>
internal sealed record LibraryReport(bool Available, string? UnavailableReason, string? Detail);

/// <param name="Int8Gops">The int8 dot-product peak (vpdpbusd or sdot) in 10⁹ integer ops/s on the same threads; null where the CPU has none.</param>
/// <param name="Int8Isa">Its instruction (avx512vnni, avxvnni, sdot), or null.</param>
internal sealed record PeakReport(int Threads, IReadOnlyList<int> Cores, double Gflops, string Isa, double? Int8Gops, string? Int8Isa);

/// <summary>One <c>bench gemm --precision int8</c> run (no baseline: none of the available libraries has this int8 GEMM).</summary>
/// <param name="Gops">2·m·n·k integer operations / median time, in 10⁹/s.</param>
/// <param name="PeakGops">The int8 dot-product peak measured with the same threads; null where the CPU has none.</param>
/// <param name="PeakFraction">Gops / PeakGops.</param>
/// <param name="VerifiedRows">Rows of C compared bit for bit with the scalar integer reference (all mismatches fail the command).</param>
internal sealed record Int8GemmBenchReport(
    string Precision,
    int M,
    int N,
    int K,
    int Threads,
    IReadOnlyList<int> Cores,
    bool Pinned,
    string Kernel,
    double Gops,
    double MedianMs,
    double BestMs,
    int Repetitions,
    double? PeakGops,
    string? PeakIsa,
    double? PeakFraction,
    int VerifiedRows);

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

/// <summary>One <c>bench conv</c> run. Baseline fields are null when there is no baseline.</summary>
/// <param name="Shape">The layer in the --shape form.</param>
/// <param name="Flops">2·OH·OW·OC·KH·KW·IC/groups.</param>
/// <param name="RequestedAlgorithm">The --algorithm value (auto and winograd stand for several candidates).</param>
/// <param name="Algorithm">The fastest of our candidates, whose times are <paramref name="Ms"/> and <paramref name="Gflops"/>.</param>
/// <param name="Ms">Median milliseconds per call of <paramref name="Algorithm"/>.</param>
/// <param name="Candidates">Every algorithm measured (one unless --algorithm is auto or winograd).</param>
/// <param name="BaselineAlgorithm">The fastest of oneDNN's algorithm kinds (auto, direct, winograd).</param>
/// <param name="BaselineLayout">"nhwc", or oneDNN's blocked layout, timed without the reorders (see BaselineCandidates for the time with them).</param>
/// <param name="Ratio">BaselineMs / Ms: above 1 means faster than the baseline (as in bench gemm).</param>
/// <param name="BaselineCandidates">Every oneDNN algorithm kind: its time, or why oneDNN has none for the layer.</param>
/// <param name="MaxRelativeError">Largest |ours − reference| over the largest |reference| on sampled pixels, over our candidates.</param>
internal sealed record ConvBenchReport(
    string Shape,
    double Flops,
    string RequestedAlgorithm,
    string Algorithm,
    string Kernel,
    string Isa,
    int Threads,
    IReadOnlyList<int> Cores,
    bool Pinned,
    double Ms,
    double BestMs,
    int Repetitions,
    double Gflops,
    IReadOnlyList<ConvCandidate> Candidates,
    string? Baseline,
    string? BaselineAlgorithm,
    string? BaselineImplementation,
    string? BaselineLayout,
    double? BaselineMs,
    double? BaselineGflops,
    double? Ratio,
    IReadOnlyList<ConvBaselineCandidate>? BaselineCandidates,
    string? BaselineVersion,
    double MaxRelativeError,
    double? BaselineMaxRelativeError);

/// <summary><c>bench conv --component opencl</c>: one device kernel, timed by the queue's profiling events.</summary>
/// <param name="Component">"opencl:N".</param>
/// <param name="Ms">Median device time of the kernel (profiling event start to end), without host transfers.</param>
/// <param name="Gflops">GFLOP/s at the median (GOP/s for int8: two operations a multiply-add).</param>
/// <param name="MaxRelativeError">Largest |device − reference| over the largest |reference| on sampled pixels.</param>
internal sealed record ConvDeviceBenchReport(
    string Shape,
    double Flops,
    string Component,
    string Device,
    string RequestedAlgorithm,
    string Kernel,
    double Ms,
    double BestMs,
    int Repetitions,
    double Gflops,
    double MaxRelativeError)
{
    /// <summary>fp32, fp16 (half storage) or int8.</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>fp16: whether the device computed in half (cl_khr_fp16) rather than float.</summary>
    public bool HalfArithmetic { get; init; }

    /// <summary>int8: bytes that differ from the CPU int8 layer (always 0 in a report: a difference fails the command).</summary>
    public int? MismatchedBytes { get; init; }

    /// <summary>int8: whether the device has cl_arm_integer_dot_product_int8 (arm_dot) rather than the plain-int fallback.</summary>
    public bool? IntegerDotProduct { get; init; }
}

/// <summary><c>bench conv --precision int8</c> on the CPU: the int8 layer against our own fp32 layer in the same interleaved run.</summary>
/// <param name="Flops">2·OH·OW·OC·KH·KW·IC/groups: the same count in integer operations for int8.</param>
/// <param name="Precision">"int8".</param>
/// <param name="Algorithm">The int8 layer's name (qu8-conv-…), which chooses its own algorithm.</param>
/// <param name="Ms">Median milliseconds per call of the int8 layer (uint8 in, uint8 out).</param>
/// <param name="Gops">Flops / Ms in 10⁹ integer operations per second.</param>
/// <param name="Baseline">"fp32": our own fp32 layer, the fastest of auto's candidates.</param>
/// <param name="BaselineAlgorithm">The fastest fp32 candidate, whose times are <paramref name="BaselineMs"/> and <paramref name="BaselineGflops"/>.</param>
/// <param name="Ratio">BaselineMs / Ms: above 1 means int8 is faster than fp32.</param>
/// <param name="BaselineCandidates">Every fp32 candidate measured.</param>
/// <param name="MaxErrorSteps">Largest |dequantized int8 output − float64 reference| on sampled pixels, in output quantization steps.</param>
/// <param name="MaxErrorBoundSteps">The bound the largest error had to meet (weight rounding worst case + one step); any value beyond its bound fails the command.</param>
/// <param name="BaselineMaxRelativeError">Largest |fp32 − reference| over the largest |reference| on sampled pixels, over the fp32 candidates.</param>
internal sealed record ConvInt8BenchReport(
    string Shape,
    double Flops,
    string Precision,
    string Algorithm,
    string Isa,
    int Threads,
    IReadOnlyList<int> Cores,
    bool Pinned,
    double Ms,
    double BestMs,
    int Repetitions,
    double Gops,
    float InputScale,
    int InputZeroPoint,
    float OutputScale,
    int OutputZeroPoint,
    string Baseline,
    string BaselineAlgorithm,
    string BaselineKernel,
    double BaselineMs,
    double BaselineGflops,
    double Ratio,
    IReadOnlyList<ConvCandidate> BaselineCandidates,
    double MaxErrorSteps,
    double MaxErrorBoundSteps,
    double BaselineMaxRelativeError);

/// <summary>One of our algorithms in a <c>bench conv</c> run.</summary>
internal sealed record ConvCandidate(string Algorithm, string Kernel, double Ms, double BestMs, double Gflops);

/// <summary>One oneDNN algorithm kind in a <c>bench conv</c> run; times are null (and Unsupported says why) when oneDNN has no implementation.</summary>
/// <param name="Ms">Median ms of the convolution primitive (without layout reorders).</param>
/// <param name="MsWithReorders">Median ms including the reorders from and to NHWC, when the layout is not NHWC.</param>
internal sealed record ConvBaselineCandidate(
    string Algorithm, string? Implementation, string? Layout, double? Ms, double? MsWithReorders, double? Gflops, string? Unsupported);

/// <summary>One network of <c>bench models</c> (the JSON output is an array of these).</summary>
internal sealed record ModelBenchReport(
    string Name, int Threads, double MinMs, double MedianMs, double P90Ms, double ImagesPerSecond,
    double PlanMs, long ArenaBytes, long IntermediateBytes, int Iterations)
{
    /// <summary>fp32 or int8.</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>Steps on 8-bit tensors.</summary>
    public int QuantizedLayers { get; init; }
}

/// <summary><c>kernels run</c>'s result; <see cref="Layers"/> only with --profile.</summary>
internal sealed record RunReport(
    string Model, int Threads, int Iterations, int Warmup, double MinMs, double MedianMs, double P90Ms, double MeanMs,
    double ImagesPerSecond, double PlanMs, long ArenaBytes, string InputShape, string OutputShape, int TopClass,
    string? OutputFile, IReadOnlyList<LayerReport>? Layers, double AllocatedBytesPerRun = 0)
{
    /// <summary>fp32 or int8.</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>Steps on 8-bit tensors.</summary>
    public int QuantizedLayers { get; init; }

    /// <summary>With --profile: mean ms per run of the quantize and dequantize steps.</summary>
    public double? ConversionMs { get; init; }

    /// <summary>With --profile: their share of the layers' total.</summary>
    public double? ConversionShare { get; init; }

    /// <summary>With --profile: values clamped while quantizing (all runs).</summary>
    public long? SaturatedValues { get; init; }
}

/// <summary>One layer of a profiled run: mean ms per run and its share of the layers' total.</summary>
internal sealed record LayerReport(
    string Name, string Operator, string InputShape, string OutputShape, string Algorithm, double Milliseconds, double Gflops, double Share)
{
    /// <summary>Ran on 8-bit tensors, or converts between float and 8-bit.</summary>
    public bool Quantized { get; init; }

    /// <summary>A quantize or dequantize step.</summary>
    public bool IsConversion { get; init; }

    /// <summary>Values a quantize step clamped (all runs).</summary>
    public long SaturatedValues { get; init; }
}

/// <summary><c>kernels tune-quant</c>'s result.</summary>
internal sealed record TuneQuantReport(
    string Model, string Metric, double Budget, double Error, double FloatMs, double PlanMs, int FloatLayers, int QuantizableLayers, string PlanFile,
    IReadOnlyList<LayerTuningReport> Layers);

/// <summary>One layer of <c>kernels tune-quant</c>.</summary>
internal sealed record LayerTuningReport(string Name, string Operator, double FloatMs, double Int8Ms, double SavedMs, double ErrorAlone, string Precision);

/// <summary><c>kernels quantize</c>'s result.</summary>
internal sealed record QuantizeReport(string Model, string Output, long Bytes, int Tensors, string Method, int CalibrationInputs);
