using Kernels.Cpu.Quantized;
using Xunit;

namespace Kernels.Tests.Quantized;

/// <summary>Bad input is an ArgumentException naming the parameter, thrown before anything is written; steady-state calls allocate nothing.</summary>
public sealed class QuantizedGemmValidationTests
{
    private const int M = 5, N = 6, K = 7;
    private static readonly int[] Ones = Enumerable.Repeat(1 << 30, N).ToArray();
    private static readonly int[] Zeros = new int[N];

    private static QuantizedPackedWeights Pack(QuantizedGemm gemm) => gemm.PackB(K, N, new sbyte[K * N], N, Zeros, Ones, Zeros, 3);

    [Fact]
    public void PackBRejectsBadArgumentsNamingThem()
    {
        var gemm = QuantizedGemm.Default;
        var b = new sbyte[K * N];
        AssertParam("b", () => gemm.PackB(K, N, new sbyte[(K * N) - 1], N, Zeros, Ones, Zeros, 0));
        AssertParam("ldb", () => gemm.PackB(K, N, b, N - 1, Zeros, Ones, Zeros, 0));
        AssertParam("k", () => gemm.PackB(-1, N, b, N, Zeros, Ones, Zeros, 0));
        AssertParam("k", () => gemm.PackB(QuantizedGemm.MaxK + 1, 1, new sbyte[QuantizedGemm.MaxK + 1], 1, [0], [1], [0], 0));
        AssertParam("n", () => gemm.PackB(K, -1, b, N, Zeros, Ones, Zeros, 0));
        AssertParam("bias", () => gemm.PackB(K, N, b, N, new int[N - 1], Ones, Zeros, 0));
        AssertParam("multipliers", () => gemm.PackB(K, N, b, N, Zeros, new int[N - 1], Zeros, 0));
        AssertParam("multipliers", () => gemm.PackB(K, N, b, N, Zeros, [1, 1, -1, 1, 1, 1], Zeros, 0));
        AssertParam("shifts", () => gemm.PackB(K, N, b, N, Zeros, Ones, new int[N - 1], 0));
        AssertParam("shifts", () => gemm.PackB(K, N, b, N, Zeros, Ones, [0, 0, 0, 0, 0, 32], 0));
        AssertParam("shifts", () => gemm.PackB(K, N, b, N, Zeros, Ones, [0, -1, 0, 0, 0, 0], 0));
        var withMinus128 = new sbyte[K * N];
        withMinus128[(3 * N) + 2] = sbyte.MinValue;
        var e = AssertParam("b", () => gemm.PackB(K, N, withMinus128, N, Zeros, Ones, Zeros, 0));
        Assert.Contains("b[3, 2]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MultiplyRejectsBadArgumentsBeforeWriting()
    {
        var gemm = QuantizedGemm.Default;
        using var packed = Pack(gemm);
        var a = new byte[M * K];
        var c = new byte[M * N];
        Array.Fill(c, (byte)0xA5);
        AssertParam("a", () => gemm.Multiply(M, new byte[(M * K) - 1], K, packed, c, N, new QuantizedOutput(0)));
        AssertParam("lda", () => gemm.Multiply(M, a, K - 1, packed, c, N, new QuantizedOutput(0)));
        AssertParam("c", () => gemm.Multiply(M, a, K, packed, new byte[(M * N) - 1], N, new QuantizedOutput(0)));
        AssertParam("ldc", () => gemm.Multiply(M, a, K, packed, c, N - 1, new QuantizedOutput(0)));
        AssertParam("m", () => gemm.Multiply(-1, a, K, packed, c, N, new QuantizedOutput(0)));
        AssertParam("output", () => gemm.Multiply(M, a, K, packed, c, N, new QuantizedOutput(Requantization.MaxZeroPointMagnitude + 1)));
        AssertParam("output", () => gemm.Multiply(M, a, K, packed, c, N, new QuantizedOutput(0, 200, 100)));
        Assert.All(c, static v => Assert.Equal(0xA5, v));

        var other = QuantizedGemmKernels.All.First(k => k.CanExecute && k.Name != gemm.Kernel.Name);
        using var packedForOther = Pack(QuantizedGemm.Create(other));
        AssertParam("b", () => gemm.Multiply(M, a, K, packedForOther, c, N, new QuantizedOutput(0)));
        Assert.All(c, static v => Assert.Equal(0xA5, v));
    }

    [Fact]
    public void CreateRejectsAKernelThisMachineCannotRun()
    {
        foreach (var kernel in QuantizedGemmKernels.All.Where(static k => !k.CanExecute))
        {
            AssertParam("kernel", () => QuantizedGemm.Create(kernel));
        }

        AssertParam("mc", () => QuantizedGemm.Create(QuantizedGemmKernels.Best, mc: 0));
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var gemm = QuantizedGemm.Default;
        var rng = new Random(3);
        const int m = 70, n = 50, k = 90;
        var b = new sbyte[k * n];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (sbyte)rng.Next(-127, 128);
        }

        using var packed = gemm.PackB(k, n, b, n, new int[n], Enumerable.Repeat(1 << 20, n).ToArray(), new int[n], 128);
        var a = new byte[m * k];
        rng.NextBytes(a);
        var c = new byte[m * n];
        var output = new QuantizedOutput(128);
        SteadyState.AssertAllocatesNothing(() => gemm.Multiply(m, a, k, packed, c, n, output), $"QuantizedGemm.Multiply ({gemm.Kernel.Name}, 1 thread)");
        using var workers = new Kernels.Core.Threading.WorkerGroup(2);
        SteadyState.AssertAllocatesNothing(() => gemm.Multiply(m, a, k, packed, c, n, output, workers), $"QuantizedGemm.Multiply ({gemm.Kernel.Name}, 2 threads)");
    }

    private static ArgumentException AssertParam(string name, Action call)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(name, e.ParamName);
        return e;
    }
}
