using Kernels.Core;
using Kernels.Cpu.Convolution;
using Kernels.Graph.Passes;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.Passes;

public sealed class BatchNormFoldingTests
{
    [Fact]
    public void FoldedConvolutionMatchesConvolutionThenBatchNorm()
    {
        var d = Conv2DDescriptor.Create(9, 7, 5, 6, 3, padding: 1);
        var rng = new Random(11);
        var input = TestData.RandomFloats(rng, (int)d.InputLength);
        var weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        var bias = TestData.RandomFloats(rng, 6);
        var gamma = TestData.RandomFloats(rng, 6);
        var beta = TestData.RandomFloats(rng, 6);
        var mean = TestData.RandomFloats(rng, 6);
        var variance = TestData.RandomFloats(rng, 6).Select(static v => Math.Abs(v) + 0.1f).ToArray();
        const float eps = 1e-5f;

        var (conv, _, magnitude) = ConvReference.Compute(d, input, weights, bias);
        var folded = (float[])weights.Clone();
        var foldedBias = (float[])bias.Clone();
        BatchNormFolding.Fold(folded, foldedBias, gamma, beta, mean, variance, eps);
        using var kernel = Convolutions.Create(d, folded, foldedBias, ConvolutionAlgorithm.Im2Col);
        var output = new float[d.OutputLength];
        kernel.Run(input, output);

        for (int i = 0; i < output.Length; i++)
        {
            int o = i % 6;
            double scale = gamma[o] / Math.Sqrt(variance[o] + (double)eps);
            double expected = ((conv[i] - mean[o]) * scale) + beta[o];
            double allowed = 1e-6 * ((magnitude[i] * Math.Abs(scale)) + Math.Abs(mean[o] * scale) + Math.Abs(beta[o]) + 1);
            Assert.True(Math.Abs(output[i] - expected) <= allowed, $"output {i}: {output[i]} vs {expected}");
        }
    }

    [Fact]
    public void RejectsMismatchedLengthsAndBadVariance()
    {
        var w = new float[12];
        var b = new float[3];
        var ok = new float[3];
        var ones = new[] { 1f, 1f, 1f };
        Assert.Equal("weights", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(new float[13], b, ok, ok, ok, ones, 1e-5f)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, b, new float[2], ok, ok, ones, 1e-5f)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, b, ok, ok, ok, [1f, -1f, 1f], 1e-5f)).ParamName);
        Assert.Equal("epsilon", Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(w, b, ok, ok, ok, ones, float.NaN)).ParamName);
    }
}
