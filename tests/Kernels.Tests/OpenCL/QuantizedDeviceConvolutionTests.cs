using Kernels.Core;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Quantized;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// conv2d_int8_direct_nhwc_4x4 and conv2d_int8_1x1_nhwc_4x4 (opencl/conv_int8.cl) bit-exact against the CPU int8 layer
/// (<see cref="QuantizedConvolutions.Create"/>) and the independent integer reference, poison between channel slices
/// untouched, over awkward shapes and zero points. On PoCL this runs the plain-int dot product (no cl_arm_integer_dot_product_int8).
/// </summary>
public sealed class QuantizedDeviceConvolutionTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    private static readonly (Conv2DDescriptor Layer, int InputZeroPoint)[] Cases =
    [
        // 1x1: batch 2 into a channel slice, IC and OC not multiples of 4, stride 2, 1x1 spatial with ReLU.
        (Conv2DDescriptor.Create(5, 7, 13, 11, 1) with { Batch = 2, OutputPixelStride = 16 }, 117),
        (Conv2DDescriptor.Create(1, 1, 20, 9, 1, activation: Activation.Relu), 0),
        (Conv2DDescriptor.Create(9, 9, 8, 6, 1, stride: 2), 255),
        (Conv2DDescriptor.Create(7, 5, 3, 5, 1, activation: Activation.Relu6), 3),

        // k×k: first-layer 3 channels, ReLU6, stride 2, groups, asymmetric padding with dilation and a slice.
        (Conv2DDescriptor.Create(6, 5, 3, 7, 3, stride: 1, padding: 1, activation: Activation.Relu6), 250),
        (Conv2DDescriptor.Create(11, 10, 3, 16, 3, stride: 2, padding: 1, activation: Activation.Relu), 0),
        (Conv2DDescriptor.Create(7, 7, 6, 4, 3, stride: 2, padding: 1, groups: 2), 128),
        (Conv2DDescriptor.Create(9, 13, 10, 9, 3, stride: 2, padding: 1) with { Batch = 2 }, 255),
        (new Conv2DDescriptor
        {
            InputHeight = 9, InputWidth = 8, InputChannels = 5, OutputChannels = 3, KernelHeight = 5, KernelWidth = 3,
            PadTop = 2, PadBottom = 1, PadLeft = 0, PadRight = 2, DilationHeight = 2, StrideWidth = 2, OutputPixelStride = 5,
        }, 40),

        // 1x1 with padding is not pointwise: the direct kernel with the zero point at the border.
        (Conv2DDescriptor.Create(4, 6, 9, 5, 1, padding: 1, activation: Activation.Relu6), 200),

        // Depthwise (groups = channels): stride 1 and 2, a 5x5, dilation, channels below and past a multiple of 4, 1x1 maps.
        (Conv2DDescriptor.Create(8, 9, 19, 19, 3, stride: 1, padding: 1, groups: 19, activation: Activation.Relu) with { Batch = 2 }, 90),
        (Conv2DDescriptor.Create(9, 11, 40, 40, 3, stride: 2, padding: 1, groups: 40) with { OutputPixelStride = 48 }, 255),
        (Conv2DDescriptor.Create(10, 9, 6, 6, 5, stride: 2, padding: 2, groups: 6, activation: Activation.Relu6), 1),
        (Conv2DDescriptor.Create(9, 10, 24, 24, 3, stride: 1, padding: 2, groups: 24, dilation: 2) with { Batch = 2, OutputPixelStride = 27 }, 77),
        (Conv2DDescriptor.Create(1, 1, 3, 3, 3, stride: 1, padding: 1, groups: 3), 255),
        (Conv2DDescriptor.Create(7, 6, 16, 16, 3, stride: 1, padding: 0, groups: 16, activation: Activation.Relu6), 0),

        // Grouped but not depthwise (2 output channels per group) stays on the direct kernel.
        (Conv2DDescriptor.Create(8, 7, 8, 16, 3, stride: 1, padding: 1, groups: 8), 140),

        // A wider reduction (K = 3·3·67) with many output channel blocks.
        (Conv2DDescriptor.Create(6, 7, 67, 37, 3, stride: 1, padding: 1), 131),
    ];

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Cases.Length; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [OpenCLTheory]
    [MemberData(nameof(CaseIndices))]
    public void IsBitExactWithTheCpuLayer(int index)
    {
        var (d, zeroPoint) = Cases[index];
        var rng = new Random(4000 + index);
        var qi = new QuantizationParameters(0.03f, zeroPoint);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[]? bias = index % 4 == 3 ? null : TestData.RandomFloats(rng, d.OutputChannels);

        // The output range from the fp32 layer on the dequantized operands, so most outputs are inside (0, 255).
        var probe = QuantizeLayer(weights, d.OutputChannels, bias, qi, new QuantizationParameters(1f, 0));
        float[] fp32 = Fp32(d with { Activation = Activation.None }, Dequantize(x, qi), probe.DequantizedWeights(d.ReductionLength), probe.DequantizedBias(qi));
        var qo = RangeOf(fp32.Where((_, i) => i % d.EffectiveOutputPixelStride < d.OutputChannels));
        var layer = QuantizeLayer(weights, d.OutputChannels, bias, qi, qo);
        fp32 = Fp32(d, Dequantize(x, qi), layer.DequantizedWeights(d.ReductionLength), layer.DequantizedBias(qi));
        byte[] reference = Quantized.QuantizedLayerReference.Convolution(d, x, qi, layer, qo);

        byte[] cpu = Poisoned(d.OutputLength);
        using (QuantizedConvolution conv = QuantizedConvolutions.Create(d, weights, bias, qi, qo))
        {
            conv.Run(x, cpu);
        }

        byte[] device = Poisoned(d.OutputLength);
        using var deviceConv = new QuantizedDeviceConvolution(fixture.Context, d, weights, bias, qi, qo);
        string kernel = d.IsDepthwise ? "conv2d_int8_depthwise_nhwc_4x4"
            : PointwiseConvolution.WhyNotApplicable(d) is null ? "conv2d_int8_1x1_nhwc_4x4" : "conv2d_int8_direct_nhwc_4x4";
        Assert.Equal(kernel, deviceConv.KernelName);
        deviceConv.Run(x, device);

        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string what = $"{deviceConv.KernelName} on {d} (input zero point {zeroPoint}, output {qo})";
        AssertLayer(what, device, reference, fp32, qo, pixels, d.OutputChannels, d.EffectiveOutputPixelStride);
        Assert.True(cpu.AsSpan().SequenceEqual(device), $"{what}: differs from the CPU layer at byte {cpu.AsSpan().CommonPrefixLength(device)}.");
    }

    [OpenCLFact]
    public void WritesAtAnOutputOffsetOnly()
    {
        var d = Conv2DDescriptor.Create(5, 6, 7, 6, 3, padding: 1) with { OutputPixelStride = 9 };
        var rng = new Random(17);
        var qi = new QuantizationParameters(0.05f, 60);
        var qo = new QuantizationParameters(0.2f, 120);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        byte[] expected = Poisoned(d.OutputLength);
        using (QuantizedConvolution conv = QuantizedConvolutions.Create(d, weights, null, qi, qo))
        {
            conv.Run(x, expected);
        }

        const int offset = 3;
        using var deviceConv = new QuantizedDeviceConvolution(fixture.Context, d, weights, null, qi, qo);
        using DeviceBuffer input = fixture.Context.CreateBuffer(d.InputLength);
        using DeviceBuffer output = fixture.Context.CreateBuffer(d.OutputLength + offset + 5);
        input.Write<byte>(x);
        output.Write<byte>(Poisoned(output.Bytes));
        deviceConv.Run(input, output, offset);
        var all = new byte[output.Bytes];
        output.Read<byte>(all);
        Assert.All(all[..offset], b => Assert.Equal(Poisoned(1)[0], b));
        Assert.All(all[(offset + (int)d.OutputLength)..], b => Assert.Equal(Poisoned(1)[0], b));
        Assert.Equal(expected, all[offset..(offset + (int)d.OutputLength)]);
    }

    /// <summary>
    /// Requantization scale exactly ½ (integer weights of max 127, input scale ½, output scale 1): every odd accumulator
    /// is a tie, which the definition rounds toward +∞ (−2.5 → −2); a kernel rounding ties away from zero or to even
    /// would differ from the CPU on the negative ones.
    /// </summary>
    [OpenCLFact]
    public void RoundsTiesTowardPlusInfinityAsTheCpu()
    {
        var d = Conv2DDescriptor.Create(6, 6, 5, 7, 3, padding: 1);
        var rng = new Random(23);
        var weights = new float[d.WeightsLength];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = i % d.ReductionLength == 0 ? 127 : rng.Next(-3, 4);
        }

        var qi = new QuantizationParameters(0.5f, 128);
        var qo = new QuantizationParameters(1f, 128);
        float[] bias = Enumerable.Range(0, d.OutputChannels).Select(o => (o - 3) * 0.5f).ToArray();
        byte[] x = RandomBytes(rng, d.InputLength, 124, 133);
        var layer = QuantizeLayer(weights, d.OutputChannels, bias, qi, qo);
        Assert.All(layer.Multipliers, m => Assert.Equal(1 << 30, m));
        Assert.All(layer.Shifts, s => Assert.Equal(0, s));
        byte[] reference = Quantized.QuantizedLayerReference.Convolution(d, x, qi, layer, qo);
        byte[] device = Poisoned(d.OutputLength);
        using var deviceConv = new QuantizedDeviceConvolution(fixture.Context, d, weights, bias, qi, qo);
        deviceConv.Run(x, device);
        Assert.Equal(reference, device);
        Assert.Contains(device, b => b < 128);
        Assert.Contains(device, b => b > 128);
    }

    /// <summary>
    /// The bit-exact comparison has the power to see a requantization that is slightly off: the same layer with an
    /// output scale 10⁻⁴ away (a multiplier off by about 2·10⁵ in 2³¹) differs from the CPU layer in some bytes, by one step.
    /// </summary>
    [OpenCLFact]
    public void ASlightlyWrongRequantizationIsCaught()
    {
        var d = Conv2DDescriptor.Create(9, 9, 16, 12, 3, padding: 1);
        var rng = new Random(31);
        var qi = new QuantizationParameters(0.03f, 110);
        var qo = new QuantizationParameters(0.09f, 125);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[] bias = TestData.RandomFloats(rng, d.OutputChannels);
        byte[] cpu = Poisoned(d.OutputLength);
        using (QuantizedConvolution conv = QuantizedConvolutions.Create(d, weights, bias, qi, qo))
        {
            conv.Run(x, cpu);
        }

        Assert.True(cpu.Count(static b => b is > 0 and < 255) * 2 > cpu.Length, "the layer saturates: the test would not see rounding");
        byte[] exact = Poisoned(d.OutputLength);
        byte[] off = Poisoned(d.OutputLength);
        using (var right = new QuantizedDeviceConvolution(fixture.Context, d, weights, bias, qi, qo))
        {
            right.Run(x, exact);
        }

        using (var wrong = new QuantizedDeviceConvolution(fixture.Context, d, weights, bias, qi, qo with { Scale = qo.Scale * 1.0001f }))
        {
            wrong.Run(x, off);
        }

        Assert.Equal(cpu, exact);
        int differing = cpu.Zip(off).Count(static p => p.First != p.Second);
        Assert.True(differing > 0, "a requantization off by 1e-4 went unnoticed");
        Assert.All(cpu.Zip(off), p => Assert.InRange(Math.Abs(p.First - p.Second), 0, 1));
    }

    [OpenCLFact]
    public void RejectsBadInputNamingWhatIsWrong()
    {
        OpenCLContext cl = fixture.Context;
        var d = Conv2DDescriptor.Create(6, 6, 4, 4, 3, padding: 1);
        float[] weights = TestData.RandomFloats(new Random(5), (int)d.WeightsLength);
        var qi = new QuantizationParameters(0.02f, 128);
        var qo = new QuantizationParameters(0.1f, 128);

        var signed = Assert.Throws<ArgumentException>(() => new QuantizedDeviceConvolution(cl, d, weights, null, qi with { DataType = DataType.Int8, ZeroPoint = 0 }, qo));
        Assert.Contains("uint8", signed.Message);
        Assert.Contains("input", signed.Message);
        var outOfRange = Assert.Throws<ArgumentException>(() => new QuantizedDeviceConvolution(cl, d, weights, null, qi, qo with { ZeroPoint = 300 }));
        Assert.Contains("zero point", outOfRange.Message);
        var shortWeights = Assert.Throws<ArgumentException>(() => new QuantizedDeviceConvolution(cl, d, weights[..10], null, qi, qo));
        Assert.Contains("weights", shortWeights.Message, StringComparison.OrdinalIgnoreCase);
        var shortBias = Assert.Throws<ArgumentException>(() => new QuantizedDeviceConvolution(cl, d, weights, new float[3], qi, qo));
        Assert.Equal("bias", shortBias.ParamName);
        var nan = (float[])weights.Clone();
        nan[7] = float.NaN;
        Assert.Contains("weights[7]", Assert.Throws<ArgumentException>(() => new QuantizedDeviceConvolution(cl, d, nan, null, qi, qo)).Message);
        Assert.Throws<NotSupportedException>(() => new QuantizedDeviceConvolution(cl, d with { Activation = new FusedActivation(Activation.LeakyRelu, 0.1f) }, weights, null, qi, qo));

        using var conv = new QuantizedDeviceConvolution(cl, d, weights, null, qi, qo);
        using DeviceBuffer input = cl.CreateBuffer(d.InputLength);
        using DeviceBuffer small = cl.CreateBuffer(16);
        var tooSmall = Assert.Throws<ArgumentException>(() => conv.Run(input, small));
        Assert.Contains("conv2d_int8_direct_nhwc_4x4", tooSmall.Message);
        Assert.Contains(cl.Device.Name, tooSmall.Message);
        Assert.Throws<ArgumentException>(() => conv.Run(small, input));
        Assert.Throws<ArgumentException>(() => conv.Run(input, input));
        Assert.Throws<ArgumentException>(() => conv.Run(new byte[3], new byte[d.OutputLength]));
    }

    private static float[] Fp32(Conv2DDescriptor d, float[] x, float[] w, float[] bias)
    {
        using var conv = Convolutions.Create(d, w, bias, ConvolutionAlgorithm.Auto);
        var y = new float[d.OutputLength];
        conv.Run(x, y);
        return y;
    }
}
