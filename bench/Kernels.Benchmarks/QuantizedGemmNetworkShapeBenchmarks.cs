using BenchmarkDotNet.Attributes;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;
using Kernels.Cpu.Quantized;

namespace Kernels.Benchmarks;

/// <summary>
/// The int8 GEMM (uint8 × int8 → requantized uint8, <see cref="QuantizedGemm.Default"/>, weights packed once) against
/// our own fp32 SGEMM on the same representative layer shapes (<see cref="NetworkGemmShapes"/>), 1 thread: the ratio
/// per layer is what issue 5's "int8 ≤ 0.5x fp32" target is made of. The GFLOP/s column counts 2·M·N·K for both.
/// </summary>
[Config(typeof(GemmBenchmarkConfig))]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class QuantizedGemmNetworkShapeBenchmarks
{
    private byte[] _a = [];
    private byte[] _c = [];
    private float[] _af = [];
    private float[] _cf = [];
    private QuantizedPackedWeights? _packed;
    private PackedWeights? _packedF32;
    private WorkerGroup? _workers;
    private readonly QuantizedGemm _gemm = QuantizedGemm.Default;
    private readonly Sgemm _sgemm = Sgemm.Default;

    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = NetworkGemmShapes.Representative[0];

    public static IEnumerable<GemmShape> Shapes => NetworkGemmShapes.Representative;

    [GlobalSetup]
    public void GlobalSetup()
    {
        (int m, int n, int k) = (Shape.M, Shape.N, Shape.K);
        var random = new Random(42);
        _a = new byte[m * k];
        random.NextBytes(_a);
        var b = new sbyte[k * n];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (sbyte)random.Next(-127, 128);
        }

        var (multiplier, shift) = Requantization.QuantizeMultiplier(30.0 / (128.0 * 73.0 * Math.Sqrt(k)));
        _packed = _gemm.PackB(k, n, b, n, new int[n], Enumerable.Repeat(multiplier, n).ToArray(), Enumerable.Repeat(shift, n).ToArray(), 128);
        _c = new byte[m * n];
        _af = _a.Select(static v => (v - 128) / 128f).ToArray();
        _packedF32 = _sgemm.PackB(k, n, b.Select(static v => v / 127f).ToArray(), n);
        _cf = new float[m * n];
        _workers = new WorkerGroup(1, [0], "benchmark");
    }

    [GlobalCleanup]
    public void GlobalCleanup()
    {
        _packed?.Dispose();
        _packedF32?.Dispose();
        _workers?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "Kernels fp32 SGEMM, B packed")]
    public void Fp32() => _sgemm.Multiply(Shape.M, _af, Shape.K, _packedF32!, _cf, Shape.N, workers: _workers);

    [Benchmark(Description = "Kernels int8 GEMM, B packed")]
    public void Int8() => _gemm.Multiply(Shape.M, _a, Shape.K, _packed!, _c, Shape.N, new QuantizedOutput(128), _workers);
}
