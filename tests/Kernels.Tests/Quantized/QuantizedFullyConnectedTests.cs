using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// int8 fully connected against the integer reference (a 1×1 convolution over a batch of 1×1 images,
/// bit-exact) and the fp32 layer on dequantized operands within one output step (same argument as the
/// convolution tests), with output strides, batches, activations, 1 and 2 threads.
/// </summary>
public sealed class QuantizedFullyConnectedTests
{
    [Theory]
    [InlineData(1, 37, 10, 0, Activation.None)]
    [InlineData(2, 64, 33, 40, Activation.Relu)]
    [InlineData(3, 5, 1, 0, Activation.Relu6)]
    [InlineData(1, 300, 17, 0, Activation.None)]
    public unsafe void MatchesIntegerReferenceAndFp32(int batch, int ic, int oc, int stride, Activation activation)
    {
        var d = new FullyConnectedDescriptor(batch, ic, oc, activation, stride);
        var rng = new Random(ic * 7 + oc);
        var qi = new QuantizationParameters(0.05f, 90);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] w = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[] bias = TestData.RandomFloats(rng, oc);
        var probe = QuantizeLayer(w, oc, bias, qi, new QuantizationParameters(1f, 0));
        float[] fp32 = Fp32(d with { Activation = Activation.None }, Dequantize(x, qi), probe.DequantizedWeights(ic), probe.DequantizedBias(qi));
        var qo = RangeOf(fp32.Where((_, i) => i % d.EffectiveOutputStride < oc));
        var layer = QuantizeLayer(w, oc, bias, qi, qo);
        fp32 = Fp32(d, Dequantize(x, qi), layer.DequantizedWeights(ic), layer.DequantizedBias(qi));
        var asConv = Conv2DDescriptor.Create(1, 1, ic, oc, 1, activation: activation) with { Batch = batch, OutputPixelStride = stride };
        byte[] reference = QuantizedLayerReference.Convolution(asConv, x, qi, layer, qo);

        using var packed = QuantizedFullyConnected.Pack(d, w, bias, qi, qo);
        using var two = new WorkerGroup(2);
        foreach (var workers in new[] { null, two })
        {
            byte[] y = Poisoned(d.OutputLength);
            fixed (byte* px = x)
            fixed (byte* py = y)
            {
                QuantizedFullyConnected.Run(packed, px, py, workers);
            }

            AssertLayer($"fully connected {d} ({packed.KernelName}, {workers?.ThreadCount ?? 1} threads)", y, reference, fp32, qo, batch, oc, d.EffectiveOutputStride);
        }
    }

    [Fact]
    public unsafe void RejectsBadInputAndAllocatesNothing()
    {
        var d = new FullyConnectedDescriptor(1, 16, 8);
        var qi = new QuantizationParameters(0.05f, 90);
        var qo = new QuantizationParameters(0.1f, 20);
        var w = new float[128];
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => QuantizedFullyConnected.Pack(d, new float[5], null, qi, qo)).ParamName);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => QuantizedFullyConnected.Pack(d, w, new float[2], qi, qo)).ParamName);
        Assert.Equal("OutputStride", Assert.ThrowsAny<ArgumentException>(() => QuantizedFullyConnected.Pack(d with { OutputStride = 3 }, w, null, qi, qo)).ParamName);
        Assert.Throws<NotSupportedException>(() => QuantizedFullyConnected.Pack(d with { Activation = Activation.LeakyRelu }, w, null, qi, qo));
        Assert.Throws<ArgumentException>(() => QuantizedFullyConnected.Pack(d, w, null, qi, qo with { ZeroPoint = -1 }));

        var packed = QuantizedFullyConnected.Pack(d, TestData.RandomFloats(new Random(2), 128), null, qi, qo);
        var x = new byte[16];
        var y = new byte[8];
        using var workers = new WorkerGroup(2);
        SteadyState.AssertAllocatesNothing(() => QuantizedFullyConnected.Run(packed, x, y), "int8 fully connected");
        SteadyState.AssertAllocatesNothing(() => QuantizedFullyConnected.Run(packed, x, y, workers), "int8 fully connected on 2 threads");
        Assert.Throws<ArgumentException>(() => QuantizedFullyConnected.Run(packed, x.AsSpan(1), y));
        packed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => QuantizedFullyConnected.Run(packed, x, y));
    }

    private static float[] Fp32(FullyConnectedDescriptor d, float[] x, float[] w, float[] bias)
    {
        using var packed = FullyConnected.Pack(d, w, bias);
        var y = new float[d.OutputLength];
        FullyConnected.Run(packed, x, y);
        return y;
    }
}
