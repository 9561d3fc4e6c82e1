using Kernels.Baselines;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Benchmarks;

/// <summary>
/// One thread, our SGEMM with B packed beforehand (as a plan packs weights) against OpenBLAS, both
/// writing C[M×N] = A[M×K]·B[K×N] with tight leading dimensions on the same random data.
/// </summary>
/// <remarks>Not sealed: BenchmarkDotNet derives its runner from the benchmark class.</remarks>
public abstract class SgemmBenchmark
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private PackedWeights? _packedB;
    private WorkerGroup? _workers;
    private Sgemm _sgemm = Sgemm.Default;
    private int _m;
    private int _n;
    private int _k;

    protected void Setup(int m, int n, int k)
    {
        if (!OpenBlas.IsAvailable)
        {
            throw new InvalidOperationException($"The OpenBLAS baseline is unavailable: {OpenBlas.UnavailableReason}");
        }

        OpenBlas.SetThreads(1);
        (_m, _n, _k) = (m, n, k);
        var random = new Random(42);
        _a = Enumerable.Range(0, m * k).Select(_ => (random.NextSingle() * 2) - 1).ToArray();
        _b = Enumerable.Range(0, k * n).Select(_ => (random.NextSingle() * 2) - 1).ToArray();
        _c = new float[m * n];
        _workers = new WorkerGroup(1, [0], "benchmark");
        _sgemm = Sgemm.Default;
        _packedB = _sgemm.PackB(k, n, _b, n);
    }

    protected void Cleanup()
    {
        _packedB?.Dispose();
        _workers?.Dispose();
    }

    protected void RunOpenBlas() => OpenBlas.Sgemm(_m, _n, _k, _a, _k, _b, _n, _c, _n);

    protected void RunKernelsPacked() => _sgemm.Multiply(_m, _a, _k, _packedB!, _c, _n, workers: _workers);
}
