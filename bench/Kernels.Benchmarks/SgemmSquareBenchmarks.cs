using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks;

/// <summary>Square SGEMM, n = 256..2048, 1 thread (PLATFORM.md: OpenBLAS ~106 GFLOP/s, FMA peak 117 here).</summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SgemmSquareBenchmarks : SgemmBenchmark
{
    [Params(256, 512, 1024, 2048)]
    public int Size { get; set; }

    [GlobalSetup]
    public void GlobalSetup() => Setup(Size, Size, Size);

    [GlobalCleanup]
    public void GlobalCleanup() => Cleanup();

    [Benchmark(Baseline = true, Description = "OpenBLAS")]
    public void OpenBlasSgemm() => RunOpenBlas();

    [Benchmark(Description = "Kernels, B packed")]
    public void KernelsSgemmPacked() => RunKernelsPacked();
}
