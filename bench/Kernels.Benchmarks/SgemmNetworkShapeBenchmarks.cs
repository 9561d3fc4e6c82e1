using BenchmarkDotNet.Attributes;

namespace Kernels.Benchmarks;

/// <summary>SGEMM over representative layer shapes of the five networks (<see cref="NetworkGemmShapes"/>), 1 thread.</summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class SgemmNetworkShapeBenchmarks : SgemmBenchmark
{
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = NetworkGemmShapes.Representative[0];

    public static IEnumerable<GemmShape> Shapes => NetworkGemmShapes.Representative;

    [GlobalSetup]
    public void GlobalSetup() => Setup(Shape.M, Shape.N, Shape.K);

    [GlobalCleanup]
    public void GlobalCleanup() => Cleanup();

    [Benchmark(Baseline = true, Description = "OpenBLAS")]
    public void OpenBlasSgemm() => RunOpenBlas();

    [Benchmark(Description = "Kernels, B packed")]
    public void KernelsSgemmPacked() => RunKernelsPacked();
}
