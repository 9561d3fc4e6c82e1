using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;
using Xunit;

namespace Kernels.Tests.Gemm;

/// <summary>
/// The one tester of the SGEMM micro-kernel family (XNNPACK style): every registered kernel this
/// machine can execute (AdvSimd ones through the Neon shim) runs the whole GEMM driver over the
/// awkward-shape table against the float64 reference, with the output poisoned first.
/// Error bound: |c − ref| ≤ (K + 2)·2⁻²⁴·(Σ_p |a·b| + |bias|) (see <see cref="SgemmReference"/>).
/// </summary>
public sealed class SgemmMicroKernelTests
{
    private static readonly int[] Sizes = [1, 2, 3, 5, 7, 8, 9, 12, 13, 16, 17, 31, 33, 64, 100, 257];

    public static TheoryData<string> ExecutableKernels()
    {
        var data = new TheoryData<string>();
        foreach (var kernel in SgemmKernels.All.Where(static k => k.CanExecute))
        {
            data.Add(kernel.Name);
        }

        return data;
    }

    [Fact]
    public void RegistryHasEveryIsaAndABestKernel()
    {
        var names = SgemmKernels.All.Select(static k => k.Name).ToArray();
        Assert.Contains("f32-gemm-8x12-advsimd", names);
        Assert.Contains("f32-gemm-12x32-avx512", names);
        Assert.Contains("f32-gemm-6x16-avx2", names);
        Assert.Contains("f32-gemm-4x8-vector128", names);
        Assert.Contains("f32-gemm-8x12-neon-c", names);
        if (OptionalDependencies.RequireAll)
        {
            // CI builds the NEON C source everywhere (SIMDe on x86): the tester must include it.
            Assert.True(SgemmKernels.Get("f32-gemm-8x12-neon-c").CanExecute, "f32-gemm-8x12-neon-c cannot run: NEON C kernels not built");
        }
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.True(SgemmKernels.Best.CanExecute);
        Assert.Throws<ArgumentException>(() => SgemmKernels.Get("f32-gemm-1x1-nothing"));
    }

    [Theory]
    [MemberData(nameof(ExecutableKernels))]
    public void EveryShapeMatchesReference(string kernelName)
    {
        var sgemm = Sgemm.Create(SgemmKernels.Get(kernelName));
        var rng = new Random(1234);
        int variant = 0;
        foreach (int m in Sizes)
        {
            foreach (int n in Sizes)
            {
                foreach (int k in Sizes)
                {
                    // Rotate the epilogue so every (m, n, k) class meets each variant across the table.
                    var activation = (variant % 4) switch { 0 => Activation.None, 1 => Activation.Relu, 2 => Activation.Relu6, _ => new FusedActivation(Activation.LeakyRelu, 0.2f) };
                    bool withBias = variant % 2 == 0;
                    variant++;
                    CheckOne(sgemm, rng, m, n, k, withBias, activation, workers: null, packed: (m + n + k) % 2 == 0);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(ExecutableKernels))]
    public void MultithreadedSplitsMatchReference(string kernelName)
    {
        var sgemm = Sgemm.Create(SgemmKernels.Get(kernelName), kc: 48, mc: 24);
        var rng = new Random(99);
        foreach (int threads in new[] { 2, 3 })
        {
            using var workers = new WorkerGroup(threads);
            foreach (var (m, n, k) in new[] { (1, 257, 33), (257, 1, 100), (100, 64, 257), (33, 100, 17), (2, 3, 5), (64, 257, 64) })
            {
                CheckOne(sgemm, rng, m, n, k, withBias: true, Activation.Relu, workers, packed: true);
                CheckOne(sgemm, rng, m, n, k, withBias: false, Activation.None, workers, packed: false);
                CheckOne(sgemm, rng, m, n, k, withBias: true, new FusedActivation(Activation.LeakyRelu, 0.01f), workers, packed: true);
            }
        }
    }

    internal static void CheckOne(Sgemm sgemm, Random rng, int m, int n, int k, bool withBias, FusedActivation activation, WorkerGroup? workers, bool packed)
    {
        int lda = k + 3, ldb = n + 5, ldc = n + 7;
        var a = TestData.RandomFloats(rng, (m * lda) + 1);
        var b = TestData.RandomFloats(rng, (k * ldb) + 1);
        float[]? bias = withBias ? TestData.RandomFloats(rng, n) : null;
        var c = new float[m * ldc];
        Array.Fill(c, float.NaN);
        var (expected, bound) = SgemmReference.Compute(m, n, k, a, lda, b, ldb, bias, activation);

        if (packed)
        {
            using var pb = sgemm.PackB(k, n, b, ldb);
            sgemm.Multiply(m, a, lda, pb, c, ldc, bias, activation, workers);
        }
        else
        {
            sgemm.Multiply(m, n, k, a, lda, b, ldb, c, ldc, bias, activation, workers);
        }

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                float got = c[(i * ldc) + j];
                if (j >= n)
                {
                    Assert.True(float.IsNaN(got), $"{sgemm.Kernel.Name} m={m} n={n} k={k}: wrote outside the m×n block at ({i},{j}).");
                    continue;
                }

                double want = expected[(i * n) + j];
                double err = Math.Abs(got - want);
                if (!(err <= bound[(i * n) + j]))
                {
                    Assert.Fail($"{sgemm.Kernel.Name} m={m} n={n} k={k} bias={withBias} {activation} packed={packed} threads={workers?.ThreadCount ?? 1}: " +
                        $"C[{i},{j}] = {got}, reference {want}, error {err:E3} > bound {bound[(i * n) + j]:E3}.");
                }
            }
        }
    }
}
