using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Xunit;

namespace Kernels.Tests.Layers;

/// <summary>Element-wise add, standalone activations and the copy-free channel concat.</summary>
public sealed class ElementwiseTests
{
    public static IEnumerable<object[]> Isas => LayerReference.Isas;

    [Theory]
    [MemberData(nameof(Isas))]
    public void AddMatchesReference(KernelIsa isa)
    {
        var rng = new Random(10);
        using var workers = new WorkerGroup(2);
        FusedActivation[] activations = [FusedActivation.None, Activation.Relu, Activation.Relu6, new FusedActivation(Activation.LeakyRelu, 0.1f)];
        int cases = 0;
        foreach (var (h, w) in LayerReference.Maps.Append((64, 40)))
        foreach (int c in LayerReference.Channels)
        foreach (var activation in activations)
        {
            bool strided = cases % 3 == 1;
            var d = new ElementwiseAddDescriptor(cases % 4 == 0 ? 2 : 1, h, w, c, activation, strided ? c + 3 : 0);
            var a = TestData.RandomFloats(rng, (int)d.InputLength);
            var b = TestData.RandomFloats(rng, (int)d.InputLength);
            for (int i = 0; i < a.Length; i++)
            {
                a[i] *= 8f; // reach past ReLU6's upper clamp
            }

            var expected = new double[a.Length];
            for (int i = 0; i < a.Length; i++)
            {
                expected[i] = DenseLayerTests.Activate(activation, (double)(a[i] + b[i]));
            }

            var y = LayerReference.Poisoned(d.OutputLength + 2);
            Elementwise.Add(d, a, b, y.AsSpan(1), isa, cases % 2 == 0 ? workers : null);
            LayerReference.AssertStrided(expected, y, c, d.EffectiveOutputPixelStride, 1, 1e-6, $"add {d} {isa}");

            if (!strided)
            {
                // In place: the output is the first input.
                var inPlace = (float[])a.Clone();
                Elementwise.Add(d, inPlace, b, inPlace, isa, workers);
                Assert.Equal(y.AsSpan(1, a.Length).ToArray(), inPlace);
            }

            cases++;
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void ActivationsMatchReference(KernelIsa isa)
    {
        var rng = new Random(11);
        using var workers = new WorkerGroup(2);
        int cases = 0;
        foreach (var (h, w) in LayerReference.Maps.Append((64, 40)))
        foreach (int c in LayerReference.Channels)
        foreach (var kind in Enum.GetValues<ActivationKind>())
        {
            bool strided = cases % 3 == 2;
            var d = new ActivationDescriptor(1, h, w, c, kind, Min: -0.3f, Max: 0.5f, LeakySlope: 0.05f, OutputPixelStride: strided ? c + 1 : 0);
            var x = TestData.RandomFloats(rng, (int)d.InputLength);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= 8f;
            }

            var expected = x.Select(v => kind switch
            {
                ActivationKind.Relu => Math.Max(v, 0.0),
                ActivationKind.Relu6 => Math.Clamp(v, 0.0, 6.0),
                ActivationKind.LeakyRelu => v >= 0 ? v : 0.05 * v,
                _ => Math.Clamp(v, -0.3, 0.5),
            }).ToArray();
            var y = LayerReference.Poisoned(d.OutputLength);
            Elementwise.Activate(d, x, y, isa, cases % 2 == 0 ? workers : null);
            LayerReference.AssertStrided(expected, y, c, d.EffectiveOutputPixelStride, 0, 1e-6, $"act {d} {isa}");
            for (int i = 0; i < x.Length && !strided; i++)
            {
                Assert.Equal(d.Apply(x[i]), y[i]);
            }

            if (!strided)
            {
                Elementwise.Activate(d, x, x, isa, workers);
                Assert.Equal(y, x);
            }

            cases++;
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void ProducersWriteIntoConcatSlicesWithoutCopy(KernelIsa isa)
    {
        // An inception-like block: max pool, average pool and a fully connected branch meet in one tensor.
        var rng = new Random(12);
        int h = 9, w = 7, c = 13;
        var x = TestData.RandomFloats(rng, h * w * c);
        var concat = new ChannelConcat(h * w, c, c, 5, 3);
        Assert.Equal(34, concat.PixelStride);
        Assert.Equal([0, 13, 26, 31], Enumerable.Range(0, 4).Select(concat.Offset));
        var y = LayerReference.Poisoned(concat.OutputLength);

        var max = Pool2DDescriptor.Create(PoolingKind.Max, h, w, c, 3, padding: 1) with { OutputPixelStride = concat.PixelStride };
        var avg = Pool2DDescriptor.Create(PoolingKind.Average, h, w, c, 3, padding: 1, countIncludePad: true) with { OutputPixelStride = concat.PixelStride };
        Pooling2D.Run(max, x, concat.Slice(y, 0), isa);
        Pooling2D.Run(avg, x, concat.Slice(y, 1), isa);
        var fc = new FullyConnectedDescriptor(h * w, c, 5, Activation.Relu, concat.PixelStride);
        var weights = TestData.RandomFloats(rng, 5 * c);
        using (var packed = FullyConnected.Pack(fc, weights, default, isa))
        {
            FullyConnected.Run(packed, x, concat.Slice(y, 2));
        }

        var act = new ActivationDescriptor(1, h, w, 3, ActivationKind.Relu6, OutputPixelStride: concat.PixelStride);
        var z = TestData.RandomFloats(rng, h * w * 3);
        Elementwise.Activate(act, z, concat.Slice(y, 3), isa);

        var maxExpected = LayerReference.Pool(max, x);
        var avgExpected = LayerReference.Pool(avg, x);
        for (int p = 0; p < h * w; p++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                Assert.Equal(maxExpected[(p * c) + ch], y[(p * 34) + ch], 5);
                Assert.Equal(avgExpected[(p * c) + ch], y[(p * 34) + 13 + ch], 5);
            }

            for (int j = 0; j < 5; j++)
            {
                double acc = 0;
                for (int i = 0; i < c; i++)
                {
                    acc += (double)x[(p * c) + i] * weights[(j * c) + i];
                }

                Assert.Equal(Math.Max(acc, 0), y[(p * 34) + 26 + j], 4);
            }

            for (int j = 0; j < 3; j++)
            {
                Assert.Equal(Math.Clamp(z[(p * 3) + j], 0f, 6f), y[(p * 34) + 31 + j]);
            }
        }

        Assert.DoesNotContain(y, float.IsNaN);
    }

    [Fact]
    public void ConcatRejectsBadLayouts()
    {
        Assert.Equal("inputChannels", Assert.Throws<ArgumentException>(() => new ChannelConcat(4)).ParamName);
        Assert.Equal("inputChannels", Assert.Throws<ArgumentException>(() => new ChannelConcat(4, 3, 0)).ParamName);
        Assert.Equal("pixels", Assert.ThrowsAny<ArgumentException>(() => new ChannelConcat(0, 3)).ParamName);
        var concat = new ChannelConcat(4, 3, 5);
        Assert.Equal("output", Assert.Throws<ArgumentException>(() => concat.Slice(new float[31], 0)).ParamName);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => concat.Slice(new float[32], 2)).ParamName);
    }
}
