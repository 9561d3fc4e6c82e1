using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;
using Xunit;

namespace Kernels.Tests.Gemm;

/// <summary>Driver behaviour beyond the numerics: bad input, K = 0, reuse, zero allocation.</summary>
public sealed class SgemmDriverTests
{
    [Fact]
    public void BadInputThrowsNamingTheArgument()
    {
        var sgemm = Sgemm.Default;
        var a = new float[6];
        var b = new float[6];
        var c = new float[4];
        Assert.Equal("m", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(-1, 2, 3, a, 3, b, 2, c, 2)).ParamName);
        Assert.Equal("k", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, -3, a, 3, b, 2, c, 2)).ParamName);
        Assert.Equal("lda", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a, 2, b, 2, c, 2)).ParamName);
        Assert.Equal("a", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a.AsSpan(0, 5), 3, b, 2, c, 2)).ParamName);
        Assert.Equal("b", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a, 3, b.AsSpan(0, 5), 2, c, 2)).ParamName);
        Assert.Equal("ldc", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a, 3, b, 2, c, 1)).ParamName);
        Assert.Equal("c", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a, 3, b, 2, c.AsSpan(0, 3), 2)).ParamName);
        Assert.Equal("bias", Assert.ThrowsAny<ArgumentException>(() => sgemm.Multiply(2, 2, 3, a, 3, b, 2, c, 2, new float[1])).ParamName);
        Assert.All(c, static v => Assert.Equal(0f, v));
    }

    [Fact]
    public void PackedWeightsFromAnotherConfigurationAreRejected()
    {
        var b = new float[64 * 64];
        var small = Sgemm.Create(SgemmKernels.Get("f32-gemm-4x8-vector128"), kc: 32);
        using var packed = small.PackB(64, 64, b, 64);
        var other = Sgemm.Create(SgemmKernels.Get("f32-gemm-4x8-vector128"), kc: 64);
        var ex = Assert.Throws<ArgumentException>(() => other.Multiply(1, new float[64], 64, packed, new float[64], 64));
        Assert.Equal("b", ex.ParamName);
    }

    [Fact]
    public void ZeroKGivesClampedBias()
    {
        var c = new float[6];
        Sgemm.Default.Multiply(2, 3, 0, [], 1, [], 3, c, 3, [-1f, 2f, 9f], Activation.Relu6);
        Assert.Equal([0f, 2f, 6f, 0f, 2f, 6f], c);
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var sgemm = Sgemm.Default;
        int m = 70, n = 90, k = 300;
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        var bias = new float[n];
        using var packed = sgemm.PackB(k, n, b, n);
        using var workers = new WorkerGroup(2);
        SteadyState.AssertAllocatesNothing(
            () =>
            {
                sgemm.Multiply(m, a, k, packed, c, n, bias, Activation.Relu, workers);
                sgemm.Multiply(m, n, k, a, k, b, n, c, n, bias, Activation.Relu);
            },
            sgemm.Kernel.Name);
    }
}
