using Kernels.Baselines;
using Kernels.Core;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.Cli;

/// <summary>
/// The oneDNN convolution baseline: checked against the float64 reference on the awkward-shape table,
/// against our registered algorithms on real network layers, and for its argument checks and thread control.
/// </summary>
public sealed class OneDnnTests
{
    /// <summary>
    /// oneDNN is optional (libdnnl-dev): tests that need it carry [OneDnnFact]/[OneDnnTheory] and are
    /// skipped without it, except under KERNELS_REQUIRE_ALL=1 (CI), where this fails them.
    /// </summary>
    private static void RequireOneDnn() =>
        Assert.True(OneDnn.IsAvailable, $"oneDNN is unavailable ({OneDnn.UnavailableReason}).");

    [Fact]
    public void Availability_HasAReasonExactlyWhenUnavailable()
    {
        Assert.Equal(OneDnn.IsAvailable, OneDnn.UnavailableReason is null);
        if (!OneDnn.IsAvailable)
        {
            Assert.Throws<InvalidOperationException>(() => OneDnn.SetThreads(1));
        }
    }

    [OneDnnTheory]
    [InlineData(OneDnnConvolutionAlgorithm.Direct)]
    [InlineData(OneDnnConvolutionAlgorithm.Auto)]
    public void MatchesDirectReferenceOnShapeTable(OneDnnConvolutionAlgorithm algorithm)
    {
        RequireOneDnn();
        int seed = 0, ran = 0;
        foreach (Conv2DDescriptor d in ConvShapes.All())
        {
            seed++;
            // Auto may pick Winograd for 3x3 stride 1: allow its transform error there.
            CheckAgainstReference(d, algorithm, winograd: algorithm == OneDnnConvolutionAlgorithm.Auto, seed);
            ran++;
        }

        Assert.True(ran > 100, $"only {ran} shapes ran");
    }

    [OneDnnTheory]
    [InlineData("18x17x16,3x3,16,1,1")]
    [InlineData("56x56x64,3x3,64,1,1")]
    public void Winograd_MatchesReferenceWithinWinogradBound(string shape)
    {
        RequireOneDnn();
        Conv2DDescriptor d = Conv2DDescriptor.Parse(shape, Activation.Relu);
        try
        {
            CheckAgainstReference(d, OneDnnConvolutionAlgorithm.Winograd, winograd: true, seed: 7);
        }
        catch (NotSupportedException e)
        {
            // oneDNN's Winograd is AVX-512 only; elsewhere the adapter must say so rather than fail.
            Assert.Contains("winograd", e.Message);
        }
    }

    /// <summary>Our registered algorithms and oneDNN on the layers the performance comparison uses.</summary>
    [OneDnnTheory]
    [InlineData("56x56x64,3x3,64,1,1")]     // ResNet50 res2a_branch2b
    [InlineData("56x56x64,1x1,256")]        // ResNet50 res2a_branch2c
    [InlineData("112x112x32,3x3,32,1,1,32")] // MobileNet v1 conv2_1/dw
    [InlineData("28x28x96,3x3,128,1,1")]    // GoogLeNet inception_3a/3x3 (N not a power of two)
    public void AgreesWithOurAlgorithmsOnNetworkLayers(string shape)
    {
        RequireOneDnn();
        Conv2DDescriptor d = Conv2DDescriptor.Parse(shape, Activation.Relu);
        var rng = new Random(shape.Length);
        float[] input = TestData.RandomFloats(rng, (int)d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[] bias = TestData.RandomFloats(rng, d.OutputChannels);
        var theirs = new float[d.OutputLength];
        using (var oneDnn = OneDnnConvolution.Create(d, weights, bias, OneDnnConvolutionAlgorithm.Direct))
        {
            oneDnn.Run(input, theirs);
        }

        var (expected, bound, magnitude) = ConvReference.Compute(d, input, weights, bias);
        AssertWithin(theirs, expected, i => bound[i], $"onednn-direct {d}");
        foreach (ConvolutionAlgorithm algorithm in Convolutions.ApplicableAlgorithms(d))
        {
            var ours = new float[d.OutputLength];
            using (var kernel = Convolutions.Create(d, weights, bias, algorithm, KernelIsas.Best))
            {
                kernel.Run(input, ours);
            }

            // Both are within their bound of the reference, so within the sum of each other.
            double[]? winograd = ConvolutionTester.IsWinograd(algorithm) ? WinogradErrorBound.Compute(algorithm, d, input, weights, bias) : null;
            AssertWithin(
                ours, Array.ConvertAll(theirs, static x => (double)x),
                i => ConvolutionTester.AllowedError(algorithm, bound[i], winograd?[i] ?? 0) + bound[i],
                $"{algorithm.ToName()} vs onednn-direct {d}");
        }
    }

    [OneDnnFact]
    public void RejectsBadShapesAndArguments()
    {
        RequireOneDnn();
        var good = Conv2DDescriptor.Parse("9x7x4,3x3,8,1,1");
        float[] weights = new float[good.WeightsLength];

        // Groups that do not divide the channels: the descriptor's own validation, before oneDNN is called.
        var badGroups = good with { Groups = 3 };
        Assert.Throws<ArgumentException>(() => OneDnnConvolution.Create(badGroups, new float[badGroups.OutputChannels * 9 * 1]));
        var tooLargeKernel = good with { KernelHeight = 12, PadTop = 0, PadBottom = 0 };
        Assert.Throws<ArgumentException>(() => OneDnnConvolution.Create(tooLargeKernel, new float[tooLargeKernel.WeightsLength]));
        Assert.Throws<ArgumentException>(() => OneDnnConvolution.Create(good, new float[good.WeightsLength - 1]));
        Assert.Throws<ArgumentException>(() => OneDnnConvolution.Create(good, weights, new float[good.OutputChannels + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => OneDnnConvolution.Create(good, weights, threads: 0));

        using var convolution = OneDnnConvolution.Create(good, weights);
        Assert.Throws<ArgumentException>(() => convolution.Run(new float[good.InputLength - 1], new float[good.OutputLength]));
        Assert.Throws<ArgumentException>(() => convolution.Run(new float[good.InputLength], new float[good.OutputLength - 1]));

        // Winograd is 3x3 stride 1 only: a 1x1 stride 2 layer has no implementation, and the message says which.
        var pointwise = Conv2DDescriptor.Parse("18x17x16,1x1,16,2,0");
        var e = Assert.Throws<NotSupportedException>(() => OneDnnConvolution.Create(pointwise, new float[pointwise.WeightsLength], algorithm: OneDnnConvolutionAlgorithm.Winograd));
        Assert.Contains("winograd", e.Message);
        Assert.Contains(pointwise.ToString(), e.Message);
    }

    [OneDnnFact]
    public void RunConvolutionOnly_NeedsARunFirst_ThenRepeatsIt()
    {
        RequireOneDnn();
        var d = Conv2DDescriptor.Parse("9x7x8,3x3,8,1,1");
        var rng = new Random(3);
        float[] input = TestData.RandomFloats(rng, (int)d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        using var convolution = OneDnnConvolution.Create(d, weights);
        Assert.Throws<InvalidOperationException>(convolution.RunConvolutionOnly);
        var output = new float[d.OutputLength];
        convolution.Run(input, output);
        float[] first = (float[])output.Clone();
        convolution.RunConvolutionOnly();
        if (!convolution.UsesReorders)
        {
            Assert.Equal(first, output);
        }
    }

    [OneDnnFact]
    public void Threads_AreSetOnTheCallingThread()
    {
        RequireOneDnn();
        var d = Conv2DDescriptor.Parse("18x17x16,3x3,16,1,1");
        float[] weights = new float[d.WeightsLength];
        var input = new float[d.InputLength];
        var output = new float[d.OutputLength];
        foreach (int threads in new[] { 2, 1 })
        {
            using var convolution = OneDnnConvolution.Create(d, weights, threads: threads);
            OneDnn.SetThreads(threads == 1 ? 2 : 1);
            convolution.Run(input, output);
            Assert.Equal(threads, OneDnn.MaxThreads);
        }
    }

    /// <summary>
    /// Checks every output (and that nothing between pixels or past the output is written). oneDNN's Winograd
    /// uses its own transforms, so it gets a looser, transform-independent allowance: 1024·2⁻²⁴·Σ|w·x| on top of the direct bound.
    /// </summary>
    private static void CheckAgainstReference(Conv2DDescriptor d, OneDnnConvolutionAlgorithm algorithm, bool winograd, int seed)
    {
        var rng = new Random(seed);
        float[] input = TestData.RandomFloats(rng, (int)d.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        float[]? bias = seed % 3 == 2 ? null : TestData.RandomFloats(rng, d.OutputChannels);
        var output = new float[d.OutputLength + 3];
        Array.Fill(output, float.NaN);
        using (var convolution = OneDnnConvolution.Create(d, weights, bias, algorithm))
        {
            convolution.Run(input, output);
        }

        var (expected, bound, magnitude) = ConvReference.Compute(d, input, weights, bias);
        int stride = d.EffectiveOutputPixelStride;
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string where = $"onednn-{OneDnnConvolution.NameOf(algorithm)} {d} act {d.Activation} bias {bias is not null}";
        for (long p = 0; p < pixels; p++)
        {
            for (int o = 0; o < stride && (p * stride) + o < d.OutputLength; o++)
            {
                float got = output[(p * stride) + o];
                if (o >= d.OutputChannels)
                {
                    Assert.True(float.IsNaN(got), $"{where}: wrote {got} between pixels at pixel {p} slot {o}");
                    continue;
                }

                long e = (p * d.OutputChannels) + o;
                double allowed = bound[e] + (winograd ? 1024 * Math.Pow(2, -24) * magnitude[e] : 0);
                Assert.True(Math.Abs(got - expected[e]) <= allowed, $"{where}: pixel {p} channel {o} = {got}, reference {expected[e]}, allowed {allowed:E3}");
            }
        }

        for (long at = d.OutputLength; at < output.Length; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}");
        }
    }

    private static void AssertWithin(float[] actual, double[] expected, Func<int, double> allowed, string where)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            Assert.True(error <= allowed(i), $"{where}: output {i} = {actual[i]}, expected {expected[i]}, error {error:E3} > {allowed(i):E3}");
        }
    }
}
