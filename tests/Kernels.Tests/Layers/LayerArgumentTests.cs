using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Xunit;

namespace Kernels.Tests.Layers;

/// <summary>Bad descriptors and buffers fail before anything runs, naming the parameter; steady-state calls allocate nothing.</summary>
public sealed class LayerArgumentTests
{
    private static string? Param(Action action) => Assert.ThrowsAny<ArgumentException>(action).ParamName;

    [Fact]
    public void PoolingRejectsBadInput()
    {
        var ok = Pool2DDescriptor.Create(PoolingKind.Max, 9, 7, 4, 3, padding: 1);
        var x = new float[ok.InputLength];
        var y = LayerReference.Poisoned(ok.OutputLength);
        Assert.Equal("KernelWidth", Param(() => (ok with { KernelWidth = 10, PadLeft = 0, PadRight = 0 }).Validate()));
        Assert.Equal("PadTop", Param(() => (ok with { PadTop = 3 }).Validate()));
        Assert.Equal("Channels", Param(() => (ok with { Channels = 0 }).Validate()));
        Assert.Equal("StrideHeight", Param(() => (ok with { StrideHeight = 0 }).Validate()));
        Assert.Equal("OutputPixelStride", Param(() => (ok with { OutputPixelStride = 3 }).Validate()));
        Assert.Equal("Kind", Param(() => (ok with { Kind = (PoolingKind)7 }).Validate()));
        Assert.Equal("input", Param(() => Pooling2D.Run(ok, x.AsSpan(1), y)));
        Assert.Equal("output", Param(() => Pooling2D.Run(ok, x, y.AsSpan(1))));
        Assert.Equal("isa", Param(() => Pooling2D.Run(ok, x, y, (KernelIsa)9)));
        Assert.All(y, static v => Assert.True(float.IsNaN(v)));
        Assert.Equal("Height", Param(() => GlobalAveragePooling.Run(new GlobalAveragePoolDescriptor(1, 0, 3, 3), x, y)));
        Assert.Equal("output", Param(() => GlobalAveragePooling.Run(new GlobalAveragePoolDescriptor(1, 9, 7, 4, 5), x, new float[3])));
    }

    [Fact]
    public void DenseLayersRejectBadInput()
    {
        Assert.Equal("Size", Param(() => new LrnDescriptor(1, 2, 2, 4, Size: 0).Validate()));
        Assert.Equal("Bias", Param(() => new LrnDescriptor(1, 2, 2, 4, Bias: 0f).Validate()));
        Assert.Equal("Beta", Param(() => new LrnDescriptor(1, 2, 2, 4, Beta: float.NaN).Validate()));
        Assert.Equal("output", Param(() => LocalResponseNormalization.Run(new LrnDescriptor(1, 2, 2, 4), new float[16], new float[15])));
        Assert.Equal("Channels", Param(() => new SoftmaxDescriptor(1, 1, 1, 0).Validate()));
        Assert.Equal("input", Param(() => Softmax.Run(new SoftmaxDescriptor(1, 1, 1, 10), new float[9], new float[10])));

        var fc = new FullyConnectedDescriptor(1, 8, 4);
        Assert.Equal("OutputStride", Param(() => (fc with { OutputStride = 2 }).Validate()));
        Assert.Equal("Activation", Param(() => (fc with { Activation = new FusedActivation(Activation.LeakyRelu, float.NaN) }).Validate()));
        Assert.Equal("weights", Param(() => FullyConnected.Pack(fc, new float[31])));
        Assert.Equal("bias", Param(() => FullyConnected.Pack(fc, new float[32], new float[3])));
        using var packed = FullyConnected.Pack(fc, new float[32]);
        Assert.Equal("input", Param(() => FullyConnected.Run(packed, new float[7], new float[4])));
        Assert.Equal("output", Param(() => FullyConnected.Run(packed, new float[8], new float[3])));
    }

    [Fact]
    public void ElementwiseRejectsBadInputAndPartialAliasing()
    {
        var d = new ElementwiseAddDescriptor(1, 2, 2, 4);
        var a = new float[16];
        var b = new float[16];
        Assert.Equal("Width", Param(() => (d with { Width = -1 }).Validate()));
        Assert.Equal("b", Param(() => Elementwise.Add(d, a, b.AsSpan(1), new float[16])));
        Assert.Equal("output", Param(() => Elementwise.Add(d, a, b, new float[15])));

        // Shifted by one element: the kernel would read values it already wrote.
        var buffer = new float[17];
        Assert.Equal("output", Param(() => Elementwise.Add(d, buffer.AsSpan(0, 16), b, buffer.AsSpan(1))));
        Assert.Equal("output", Param(() => Elementwise.Add(d with { OutputPixelStride = 5 }, a, b, a.AsSpan())));
        Elementwise.Add(d, a, b, a); // exactly in place is fine

        var act = new ActivationDescriptor(1, 2, 2, 4, ActivationKind.Clip, Min: 1f, Max: 0f);
        Assert.Equal("Min", Param(() => act.Validate()));
        Assert.Equal("LeakySlope", Param(() => (act with { Kind = ActivationKind.LeakyRelu, LeakySlope = float.PositiveInfinity }).Validate()));
        Assert.Equal("Kind", Param(() => (act with { Kind = (ActivationKind)9 }).Validate()));
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        using var workers = new WorkerGroup(2);
        var pool = Pool2DDescriptor.Create(PoolingKind.Average, 18, 17, 37, 3, stride: 2, padding: 1, ceilMode: true);
        var gap = new GlobalAveragePoolDescriptor(1, 18, 17, 37);
        var lrn = new LrnDescriptor(1, 18, 17, 37);
        var softmax = new SoftmaxDescriptor(1, 18, 17, 37);
        var add = new ElementwiseAddDescriptor(1, 64, 64, 37, Activation.Relu);
        var act = new ActivationDescriptor(1, 64, 64, 37, ActivationKind.LeakyRelu);
        var fc1 = new FullyConnectedDescriptor(1, 300, 100, new FusedActivation(Activation.LeakyRelu));
        var fc4 = new FullyConnectedDescriptor(4, 300, 100, Activation.Relu6);
        var x = TestData.RandomFloats(new Random(13), 64 * 64 * 37);
        var y = new float[x.Length];
        using var packed1 = FullyConnected.Pack(fc1, x.AsSpan(0, 30_000));
        using var packed4 = FullyConnected.Pack(fc4, x.AsSpan(0, 30_000));

        void RunAll(WorkerGroup? workers)
        {
            Pooling2D.Run(pool, x, y, workers: workers);
            GlobalAveragePooling.Run(gap, x, y);
            LocalResponseNormalization.Run(lrn, x, y, workers);
            Softmax.Run(softmax, x, y, workers);
            Elementwise.Add(add, x, x, y, workers: workers);
            Elementwise.Activate(act, y, y, workers: workers);
            FullyConnected.Run(packed1, x, y, workers);
            FullyConnected.Run(packed4, x, y, workers);
        }

        SteadyState.AssertAllocatesNothing(() => RunAll(null), "layers on the caller");
        SteadyState.AssertAllocatesNothing(() => RunAll(workers), "layers with a worker group");
    }
}
