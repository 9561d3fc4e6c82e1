using Kernels.Core;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Xunit;

namespace Kernels.Tests.Convolution;

/// <summary>Validation before work, algorithm applicability, selection, tuning cache, steady-state allocation.</summary>
public sealed class ConvolutionApiTests
{
    private static readonly Conv2DDescriptor Layer3x3 = Conv2DDescriptor.Create(9, 7, 8, 16, 3, padding: 1);

    [Fact]
    public void DescriptorComputesOutputSizeFlopsAndLengths()
    {
        var d = new Conv2DDescriptor
        {
            Batch = 2, InputHeight = 18, InputWidth = 17, InputChannels = 8, OutputChannels = 12, KernelHeight = 3, KernelWidth = 5,
            StrideHeight = 2, StrideWidth = 3, PadTop = 1, PadBottom = 0, PadLeft = 2, PadRight = 1, DilationHeight = 2, Groups = 4, OutputPixelStride = 20,
        };
        d.Validate();
        Assert.Equal(((18 + 1 - 5) / 2) + 1, d.OutputHeight);
        Assert.Equal(((17 + 3 - 5) / 3) + 1, d.OutputWidth);
        Assert.Equal(3 * 5 * 2, d.ReductionLength);
        Assert.Equal(12L * 30, d.WeightsLength);
        Assert.Equal(2.0 * 2 * d.OutputHeight * d.OutputWidth * 12 * 30, d.Flops);
        Assert.Equal((((long)2 * d.OutputHeight * d.OutputWidth) - 1) * 20 + 12, d.OutputLength);
    }

    [Theory]
    [InlineData("56x56x64,3x3,64,1,1", 56, 56, 64, 64, 3, 1, 1, 1)]
    [InlineData("112x112x32,3x3,32,1,1,32", 112, 112, 32, 32, 3, 1, 1, 32)]
    [InlineData("56x56x64,1x1,256", 56, 56, 64, 256, 1, 1, 0, 1)]
    [InlineData("224x224x3,7x7,64,2,3", 224, 224, 3, 64, 7, 2, 3, 1)]
    public void ParseReadsTheCommandLineForm(string text, int h, int w, int ic, int oc, int k, int s, int p, int g)
    {
        var d = Conv2DDescriptor.Parse(text);
        Assert.Equal((h, w, ic, oc, k, k, s, p, g), (d.InputHeight, d.InputWidth, d.InputChannels, d.OutputChannels, d.KernelHeight, d.KernelWidth, d.StrideHeight, d.PadTop, d.Groups));
        Assert.Equal(d, Conv2DDescriptor.Parse(d.ToString()));
    }

    [Theory]
    [InlineData("56x56,3x3,64")]
    [InlineData("56x56x64,3,64")]
    [InlineData("56x56x64,3x3,64,1,1,1,9")]
    [InlineData("56x56xa,3x3,64")]
    [InlineData("56x56x-1,3x3,64")]
    public void ParseRejectsMalformedText(string text) => Assert.Throws<FormatException>(() => Conv2DDescriptor.Parse(text));

    [Theory]
    [InlineData("9x7x8,3x3,16,1,0,3", "Groups")]
    [InlineData("9x7x9,3x3,16,1,0,3", "Groups")]
    [InlineData("3x3x8,5x5,16,1,0", "KernelHeight")]
    [InlineData("9x7x8,3x3,16,0,1", "StrideHeight")]
    [InlineData("9x7x0,3x3,16", "InputChannels")]
    public void ValidateNamesTheBadField(string text, string param)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Conv2DDescriptor.Parse(text));
        Assert.Equal(param, e.ParamName);
    }

    [Fact]
    public void WidthLargerThanPaddedInputIsRejected()
    {
        var d = Conv2DDescriptor.Create(9, 2, 4, 4, 3) with { KernelHeight = 1 };
        Assert.Equal("KernelWidth", Assert.ThrowsAny<ArgumentException>(d.Validate).ParamName);
        Assert.Equal("OutputPixelStride", Assert.ThrowsAny<ArgumentException>((Layer3x3 with { OutputPixelStride = 15 }).Validate).ParamName);
        Assert.Equal("PadLeft", Assert.ThrowsAny<ArgumentException>((Layer3x3 with { PadLeft = -1 }).Validate).ParamName);
        Assert.Equal("Activation", Assert.ThrowsAny<ArgumentException>((Layer3x3 with { Activation = new FusedActivation(Activation.LeakyRelu, float.NaN) }).Validate).ParamName);
    }

    [Fact]
    public void CreateValidatesWeightsBiasAlgorithmAndIsaBeforeWork()
    {
        var weights = new float[Layer3x3.WeightsLength];
        Assert.Equal("weights", Assert.ThrowsAny<ArgumentException>(() => Convolutions.Create(Layer3x3, new float[weights.Length - 1])).ParamName);
        Assert.Equal("bias", Assert.ThrowsAny<ArgumentException>(() => Convolutions.Create(Layer3x3, weights, new float[15])).ParamName);
        var e = Assert.ThrowsAny<ArgumentException>(() => Convolutions.Create(Layer3x3, weights, default, ConvolutionAlgorithm.Pointwise));
        Assert.Equal("algorithm", e.ParamName);
        Assert.Contains("not 1x1", e.Message, StringComparison.Ordinal);
        Assert.Equal("algorithm", Assert.ThrowsAny<ArgumentException>(() => Convolutions.Create(Layer3x3, weights, default, (ConvolutionAlgorithm)99)).ParamName);
        Assert.Equal("isa", Assert.ThrowsAny<ArgumentException>(() => Convolutions.Create(Layer3x3, weights, default, ConvolutionAlgorithm.Im2Col, (KernelIsa)7)).ParamName);
    }

    [Fact]
    public void RunChecksSpanLengths()
    {
        using var kernel = Convolutions.Create(Layer3x3, new float[Layer3x3.WeightsLength], default, ConvolutionAlgorithm.Im2Col);
        var input = new float[Layer3x3.InputLength];
        var output = new float[Layer3x3.OutputLength];
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => kernel.Run(input.AsSpan(1), output)).ParamName);
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => kernel.Run(input, output.AsSpan(1))).ParamName);
        kernel.Dispose();
        Assert.Throws<ObjectDisposedException>(() => kernel.Run(input, output));
    }

    [Fact]
    public void AlgorithmNamesRoundTrip()
    {
        foreach (var a in Enum.GetValues<ConvolutionAlgorithm>().Where(static a => a != ConvolutionAlgorithm.Auto))
        {
            Assert.Equal([a], ConvolutionAlgorithmNames.Parse(a.ToName()));
        }

        Assert.Equal([ConvolutionAlgorithm.WinogradF4, ConvolutionAlgorithm.WinogradF2], ConvolutionAlgorithmNames.Parse("winograd"));
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => ConvolutionAlgorithmNames.Parse("fft")).ParamName);
    }

    [Fact]
    public void HeuristicRanksOnlyApplicableAlgorithmsAndPrefersPointwiseFor1x1()
    {
        var pointwise = Conv2DDescriptor.Parse("28x28x128,1x1,128");
        var ranked = ConvolutionSelector.Rank(pointwise, KernelIsas.Best, threads: 1);
        Assert.Equal(Convolutions.ApplicableAlgorithms(pointwise).Order(), ranked.Select(static c => c.Algorithm).Order());
        Assert.Equal(ConvolutionAlgorithm.Pointwise, ranked[0].Algorithm);
        Assert.All(ranked, static c => Assert.True(c.Milliseconds > 0 && !c.Measured));
        Assert.DoesNotContain(ConvolutionAlgorithm.Pointwise, ConvolutionSelector.Rank(Layer3x3, KernelIsas.Best, 1).Select(static c => c.Algorithm));
    }

    [Theory]
    [InlineData("56x56x64,3x3,64,1,1", ConvolutionAlgorithm.WinogradF4)]
    [InlineData("112x112x32,3x3,32,1,1,32", ConvolutionAlgorithm.Depthwise)]
    [InlineData("224x224x3,3x3,32,2,1", ConvolutionAlgorithm.Direct)]
    [InlineData("56x56x256,1x1,512,2", ConvolutionAlgorithm.Pointwise)]
    [InlineData("27x27x96,5x5,256,1,2,2", ConvolutionAlgorithm.Im2Col)]
    public void HeuristicPicksTheAlgorithmMeasuredFastestOnNetworkLayers(string shape, ConvolutionAlgorithm expected)
    {
        // The expectations are the measured winners of docs/performance.md (AVX-512, 1 thread); the heuristic
        // only compares operation counts, so the same choice holds on every ISA.
        Assert.Equal(expected, ConvolutionSelector.Heuristic(Conv2DDescriptor.Parse(shape), KernelIsas.Best, threads: 1).Algorithm);
    }

    [Fact]
    public void TunerMeasuresOnceAndReusesTheCacheFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kernels-tuner-" + Guid.NewGuid().ToString("N"));
        string file = Path.Combine(dir, "conv.json");
        try
        {
            var d = Conv2DDescriptor.Parse("9x7x8,1x1,16");
            var lines = new List<string>();
            var first = new ConvolutionTuner(file, machine: "test-machine").Choose(d, KernelIsas.Best, progress: lines.Add);
            Assert.True(first.Measured);
            Assert.Equal(Convolutions.ApplicableAlgorithms(d).Count, lines.Count);
            Assert.True(File.Exists(file));

            var reopened = new ConvolutionTuner(file, machine: "test-machine");
            Assert.Equal(1, reopened.Count);
            var again = reopened.Choose(d, KernelIsas.Best, progress: _ => Assert.Fail("a cached layer was measured again"));
            Assert.Equal(first, again);

            Assert.Equal(0, new ConvolutionTuner(file, machine: "another-machine").Count);

            File.WriteAllText(file, "{ not json");
            Assert.Equal(0, new ConvolutionTuner(file, machine: "test-machine").Count);
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData(ConvolutionAlgorithm.Im2Col, "18x17x13,3x3,16,2,1")]
    [InlineData(ConvolutionAlgorithm.Pointwise, "18x17x13,1x1,16,2,0")]
    public void SteadyStateRunAllocatesNothing(ConvolutionAlgorithm algorithm, string shape)
    {
        var d = Conv2DDescriptor.Parse(shape);
        using var kernel = Convolutions.Create(d, new float[d.WeightsLength], new float[d.OutputChannels], algorithm);
        var input = new float[d.InputLength];
        var output = new float[d.OutputLength];
        using var workers = new Kernels.Core.Threading.WorkerGroup(2);
        SteadyState.AssertAllocatesNothing(
            () =>
            {
                kernel.Run(input, output);
                kernel.Run(input, output, workers);
            },
            kernel.Name);
    }
}
