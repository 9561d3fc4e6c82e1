using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// int8 convolution against (a) the integer reference, bit-exact, poison between channel slices untouched, and
/// (b) the fp32 convolution on the dequantized input, weights and bias, within one output step. Why one step:
/// the integer result is the real result on those dequantized operands (the int32 sum is exact) times a Q31
/// multiplier (relative error below 2^−30), rounded once: within ½ step plus a negligible term; the fp32 layer's
/// result quantized is within ½ step plus its float rounding. Every case runs on every ISA variant this machine
/// executes (the default, AVX-512, AVX2, AdvSimd through the shim; with DOTNET_ switches off, the scalar paths)
/// with 1 and 2 threads.
/// </summary>
public sealed class QuantizedConvolutionTests
{
    private static readonly Conv2DDescriptor[] Cases =
    [
        // 1x1 stride 1: the direct GEMM on the activation rows; batch 2, written into a channel slice.
        Conv2DDescriptor.Create(5, 7, 13, 11, 1) with { Batch = 2, OutputPixelStride = 16 },
        Conv2DDescriptor.Create(1, 1, 20, 9, 1, activation: Activation.Relu),
        Conv2DDescriptor.Create(9, 9, 8, 6, 1, stride: 2),
        Conv2DDescriptor.Create(6, 5, 3, 7, 3, stride: 1, padding: 1, activation: Activation.Relu6),
        Conv2DDescriptor.Create(11, 10, 3, 16, 3, stride: 2, padding: 1, activation: Activation.Relu),
        Conv2DDescriptor.Create(7, 7, 6, 4, 3, stride: 2, padding: 1, groups: 2),
        new Conv2DDescriptor
        {
            InputHeight = 9, InputWidth = 8, InputChannels = 5, OutputChannels = 3, KernelHeight = 5, KernelWidth = 3,
            PadTop = 2, PadBottom = 1, PadLeft = 0, PadRight = 2, DilationHeight = 2, StrideWidth = 2, OutputPixelStride = 5,
        },

        // Depthwise: 3x3 stride 1 and 2 (channels past a multiple of 16, below 16, slices), 5x5, 1x1 spatial.
        Conv2DDescriptor.Create(8, 9, 19, 19, 3, stride: 1, padding: 1, groups: 19, activation: Activation.Relu) with { Batch = 2 },
        Conv2DDescriptor.Create(9, 11, 40, 40, 3, stride: 2, padding: 1, groups: 40) with { OutputPixelStride = 48 },
        Conv2DDescriptor.Create(6, 6, 7, 7, 3, stride: 1, padding: 1, groups: 7, activation: Activation.Relu6),
        Conv2DDescriptor.Create(10, 9, 32, 32, 5, stride: 2, padding: 2, groups: 32),
        Conv2DDescriptor.Create(1, 1, 24, 24, 3, stride: 1, padding: 1, groups: 24),
        Conv2DDescriptor.Create(7, 6, 16, 16, 3, stride: 1, padding: 0, groups: 16),

        // Depthwise with 32-channel blocks (AVX-512): 70 channels end with a block shifted back; stride 2 and a slice.
        Conv2DDescriptor.Create(6, 7, 70, 70, 3, stride: 1, padding: 1, groups: 70, activation: Activation.Relu6),
        Conv2DDescriptor.Create(9, 8, 32, 32, 3, stride: 2, padding: 1, groups: 32) with { Batch = 2, OutputPixelStride = 33 },

        // Dilated depthwise (interior and borders); im2col in several 512 KiB blocks (K = 4608: 113 rows each) that cross images.
        Conv2DDescriptor.Create(9, 10, 24, 24, 3, stride: 1, padding: 2, groups: 24, dilation: 2),
        Conv2DDescriptor.Create(12, 12, 512, 8, 3, stride: 1, padding: 1, activation: Activation.Relu) with { Batch = 2 },

        // Indirect (VNNI) shapes: a 7x7 stride-2 first layer with row taps cut by the padding on every side and a
        // read past the input's end; grouped pixel taps (4 channels per group); dilated pixel taps; M and N tails.
        Conv2DDescriptor.Create(13, 11, 3, 33, 7, stride: 2, padding: 3, activation: Activation.Relu) with { Batch = 2 },
        Conv2DDescriptor.Create(9, 7, 8, 10, 3, stride: 1, padding: 1, groups: 2) with { OutputPixelStride = 12 },
        Conv2DDescriptor.Create(10, 9, 12, 40, 3, stride: 1, padding: 2, dilation: 2, activation: Activation.Relu6),
        Conv2DDescriptor.Create(5, 5, 5, 7, 3, stride: 1, padding: 0),

        // Stride-1 depthwise with 32-channel blocks and the sliding column window: batch 2 and a slice; dilated rows only.
        Conv2DDescriptor.Create(7, 11, 64, 64, 3, stride: 1, padding: 1, groups: 64) with { Batch = 2, OutputPixelStride = 72 },
        Conv2DDescriptor.Create(10, 9, 40, 40, 3, stride: 1, padding: 1, groups: 40) with { DilationHeight = 2, PadTop = 2, PadBottom = 2 },
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

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public unsafe void MatchesIntegerReferenceAndFp32(int index)
    {
        var d = Cases[index];
        var rng = new Random(1000 + index);
        var qi = new QuantizationParameters(0.03f, 117);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[] bias = TestData.RandomFloats(rng, d.OutputChannels);

        // The fp32 layer on dequantized operands, twice: once to find the output range, once to compare.
        var qoProbe = new QuantizationParameters(1f, 0);
        var probe = QuantizeLayer(weights, d.OutputChannels, bias, qi, qoProbe);
        float[] fp32 = Fp32(d with { Activation = Activation.None }, Dequantize(x, qi), probe.DequantizedWeights(d.ReductionLength), probe.DequantizedBias(qi));
        var qo = RangeOf(fp32.Where((_, i) => i % d.EffectiveOutputPixelStride < d.OutputChannels));
        var layer = QuantizeLayer(weights, d.OutputChannels, bias, qi, qo);
        fp32 = Fp32(d, Dequantize(x, qi), layer.DequantizedWeights(d.ReductionLength), layer.DequantizedBias(qi));
        byte[] reference = QuantizedLayerReference.Convolution(d, x, qi, layer, qo);
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;

        using var two = new WorkerGroup(2);
        foreach (KernelIsa? isa in Isas)
        {
            using var conv = QuantizedConvolutions.Create(d, weights, bias, qi, qo, isa);
            Assert.Equal(layer.WeightScales.Select(static s => (float)s), conv.WeightScales);
            foreach (var workers in new[] { null, two })
            {
                byte[] y = Poisoned(d.OutputLength);
                fixed (byte* px = x)
                fixed (byte* py = y)
                {
                    conv.Run(px, py, workers);
                }

                AssertLayer($"{conv.Name} ({isa?.ToString() ?? "default"}, {workers?.ThreadCount ?? 1} threads) on {d}", y, reference, fp32, qo, pixels, d.OutputChannels, d.EffectiveOutputPixelStride);
            }
        }
    }

    /// <summary>
    /// The indirect convolution and im2col + GEMM compute the same exact int32 sums and requantize them once, so
    /// they agree bit for bit; over shapes that exercise every kind of tap (pixel, row, assembled partial rows,
    /// the zero-point buffer, a rounded read at the input's end), 1 and 2 threads. Only where the VNNI tile runs.
    /// </summary>
    [Fact]
    public unsafe void IndirectMatchesIm2ColBitForBit()
    {
        var gemm = QuantizedGemm.Create(QuantizedConvolutions.GemmKernelFor(null));
        if (!QuantizedIndirectConvolution.Applies(Conv2DDescriptor.Create(4, 4, 4, 4, 3), gemm.Kernel))
        {
            return; // no AVX-512 VNNI here: the indirect form is never planned (ChoosesTheAlgorithmByShape checks that)
        }

        Conv2DDescriptor[] shapes =
        [
            Conv2DDescriptor.Create(227, 227, 3, 64, 3, stride: 2, padding: 0, activation: Activation.Relu),
            Conv2DDescriptor.Create(31, 29, 3, 64, 7, stride: 2, padding: 3, activation: Activation.Relu),
            Conv2DDescriptor.Create(17, 17, 16, 64, 3, stride: 1, padding: 1, activation: Activation.Relu),
            Conv2DDescriptor.Create(15, 13, 32, 70, 5, stride: 1, padding: 2),
            Conv2DDescriptor.Create(12, 12, 7, 9, 1) with { Batch = 3 },
            Conv2DDescriptor.Create(9, 9, 6, 20, 3, stride: 2, padding: 1) with { PadRight = 2, PadBottom = 0 },
            Conv2DDescriptor.Create(11, 11, 24, 18, 3, stride: 1, padding: 1, groups: 3) with { OutputPixelStride = 20 },
            Conv2DDescriptor.Create(14, 14, 64, 96, 1, stride: 2),

            // Windows larger than the image (no tap row or column is ever wholly inside), row and pixel taps, batch 2.
            Conv2DDescriptor.Create(4, 5, 3, 20, 7, stride: 1, padding: 3) with { Batch = 2 },
            Conv2DDescriptor.Create(5, 4, 8, 36, 7, stride: 2, padding: 3, activation: Activation.Relu6) with { Batch = 2 },
        ];
        using var two = new WorkerGroup(2);
        var rng = new Random(77);
        foreach (var d in shapes)
        {
            var qi = new QuantizationParameters(0.02f, rng.Next(256));
            var qo = new QuantizationParameters(0.05f + (float)rng.NextDouble(), rng.Next(256));
            float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
            float[] bias = TestData.RandomFloats(rng, d.OutputChannels);
            byte[] x = RandomBytes(rng, d.InputLength);
            using var indirect = QuantizedConvolutions.Create(d, weights, bias, qi, qo, null, indirect: true);
            using var im2col = QuantizedConvolutions.Create(d, weights, bias, qi, qo, null, indirect: false);
            Assert.StartsWith("qu8-conv-indirect-", indirect.Name);
            Assert.DoesNotContain("indirect", im2col.Name);
            byte[] expected = Poisoned(d.OutputLength);
            im2col.Run(x, expected);
            foreach (var workers in new[] { null, two })
            {
                byte[] y = Poisoned(d.OutputLength);
                indirect.Run(x, y, workers);
                int diff = -1;
                for (int i = 0; i < y.Length && diff < 0; i++)
                {
                    if (y[i] != expected[i])
                    {
                        diff = i;
                    }
                }

                Assert.True(diff < 0, $"{d} ({workers?.ThreadCount ?? 1} threads): byte {diff} is {(diff < 0 ? 0 : y[diff])}, im2col gives {(diff < 0 ? 0 : expected[diff])}");
            }
        }
    }

    [Fact]
    public unsafe void NearlyPrunedChannelsKeepTheirBias()
    {
        // Channel 0: weights of 1e-9 next to a bias of 1.5 (max|w|/127 as the scale would overflow the int32 bias);
        // channel 1: all-zero weights with a bias; channel 2: ordinary.
        var d = Conv2DDescriptor.Create(4, 4, 3, 3, 1);
        var weights = new float[] { 1e-9f, -1e-9f, 1e-9f, 0, 0, 0, 0.5f, -0.25f, 0.125f };
        var bias = new float[] { 1.5f, -0.745f, 0.1f };
        var qi = new QuantizationParameters(0.01f, 0);
        var qo = new QuantizationParameters(0.02f, 100);
        var rng = new Random(9);
        byte[] x = RandomBytes(rng, d.InputLength);
        var layer = QuantizeLayer(weights, 3, bias, qi, qo);
        byte[] reference = QuantizedLayerReference.Convolution(d, x, qi, layer, qo);
        float[] fp32 = Fp32(d, Dequantize(x, qi), weights, bias);
        using var conv = QuantizedConvolutions.Create(d, weights, bias, qi, qo);
        byte[] y = Poisoned(d.OutputLength);
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            conv.Run(px, py);
        }

        AssertLayer(conv.Name, y, reference, fp32, qo, 16, 3, 3);
        Assert.Equal(qo.Quantize(1.5f), y[0]);
        Assert.Equal(qo.Quantize(-0.745f), y[1]);
    }

    [Fact]
    public void ChoosesTheAlgorithmByShape()
    {
        var qi = new QuantizationParameters(0.02f, 128);
        var qo = new QuantizationParameters(0.05f, 10);
        string Name(Conv2DDescriptor d)
        {
            using var conv = QuantizedConvolutions.Create(d, new float[d.WeightsLength], null, qi, qo);
            return conv.Name;
        }

        // With the C VNNI tile every non-depthwise layer but grouped/dilated ones of odd group widths runs indirectly.
        bool vnni = QuantizedGemmKernels.Best.Name == QuantizedGemmKernels.Avx512VnniName;
        Assert.StartsWith(vnni ? "qu8-conv-indirect-" : "qu8-conv-1x1-", Name(Conv2DDescriptor.Create(4, 4, 8, 8, 1)));
        Assert.StartsWith(vnni ? "qu8-conv-indirect-" : "qu8-conv-im2col-", Name(Conv2DDescriptor.Create(4, 4, 8, 8, 1, stride: 2)));
        Assert.StartsWith(vnni ? "qu8-conv-indirect-" : "qu8-conv-im2col-", Name(Conv2DDescriptor.Create(8, 8, 3, 8, 3, stride: 2, padding: 1)));
        Assert.StartsWith("qu8-conv-im2col-", Name(Conv2DDescriptor.Create(8, 8, 6, 8, 3, stride: 1, padding: 1, groups: 2)));
        Assert.StartsWith("qu8-conv-im2col-", Name(Conv2DDescriptor.Create(8, 8, 3, 8, 3, stride: 1, padding: 2, dilation: 2)));
        Assert.StartsWith("qu8-dwconv-3x3-", Name(Conv2DDescriptor.Create(8, 8, 8, 8, 3, padding: 1, groups: 8)));
        Assert.StartsWith("qu8-dwconv-kxk-", Name(Conv2DDescriptor.Create(8, 8, 8, 8, 5, padding: 2, groups: 8)));
    }

    [Fact]
    public unsafe void RejectsBadInputBeforeAllocating()
    {
        var d = Conv2DDescriptor.Create(6, 6, 4, 8, 3, padding: 1);
        var qi = new QuantizationParameters(0.02f, 128);
        var qo = new QuantizationParameters(0.05f, 10);
        var w = new float[d.WeightsLength];
        var e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, new float[3], null, qi, qo));
        Assert.Equal("weights", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d with { StrideHeight = 0 }, w, null, qi, qo));
        Assert.Equal("StrideHeight", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, w, new float[3], qi, qo));
        Assert.Equal("bias", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, w, null, qi with { DataType = DataType.Int8, ZeroPoint = 0 }, qo));
        Assert.Contains("uint8", e.Message);
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, w, null, qi with { Scale = 0 }, qo));
        Assert.Contains("input", e.Message);
        var wNaN = new float[d.WeightsLength];
        wNaN[5] = float.NaN;
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, wNaN, null, qi, qo));
        Assert.Contains("weights[5]", e.Message);

        // A scale ratio at or above 1: the output scale too small for the weights (requantization is a right shift).
        var big = Enumerable.Repeat(100f, (int)d.WeightsLength).ToArray();
        e = Assert.Throws<ArgumentException>(() => QuantizedConvolutions.Create(d, big, null, qi, qo with { Scale = 0.001f }));
        Assert.Equal("output", e.ParamName);
        var leaky = Assert.Throws<NotSupportedException>(() => QuantizedConvolutions.Create(d with { Activation = Activation.LeakyRelu }, w, null, qi, qo));
        Assert.Contains("LeakyRelu", leaky.Message);

        using var conv = QuantizedConvolutions.Create(d, w, null, qi, qo);
        var input = new byte[d.InputLength];
        var output = new byte[d.OutputLength];
        Assert.Throws<ArgumentException>(() => conv.Run(input.AsSpan(1), output));
        Assert.Throws<ArgumentException>(() => conv.Run(input, output.AsSpan(1)));
        Assert.Throws<ArgumentNullException>(() => conv.Run(null, (byte*)1));
        conv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => conv.Run(input, output));
    }

    [Fact]
    public unsafe void SteadyStateAllocatesNothing()
    {
        var qi = new QuantizationParameters(0.02f, 128);
        var qo = new QuantizationParameters(0.05f, 10);
        var rng = new Random(5);
        foreach (var d in new[] { Cases[0], Cases[4], Cases[8] })
        {
            using var conv = QuantizedConvolutions.Create(d, TestData.RandomFloats(rng, (int)d.WeightsLength), null, qi, qo);
            var x = RandomBytes(rng, d.InputLength);
            var y = new byte[d.OutputLength];
            using var workers = new WorkerGroup(2);
            SteadyState.AssertAllocatesNothing(() => conv.Run(x, y), conv.Name);
            SteadyState.AssertAllocatesNothing(() => conv.Run(x, y, workers), conv.Name + " on 2 threads");
        }
    }

    private static float[] Fp32(Conv2DDescriptor d, float[] x, float[] w, float[] bias)
    {
        using var conv = Convolutions.Create(d, w, bias, ConvolutionAlgorithm.Auto);
        var y = new float[d.OutputLength];
        conv.Run(x, y);
        return y;
    }
}
