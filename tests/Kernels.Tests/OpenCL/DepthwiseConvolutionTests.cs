using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>conv2d_depthwise_nhwc_4x4 against the float64 reference: the depthwise table (channels 1–37, kernels 1–7, strides 1–3, dilation 2, every padding).</summary>
public sealed class DepthwiseConvolutionTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLFact]
    public void MatchesTheReferenceOverTheDepthwiseTable()
    {
        int seed = 0, ran = 0;
        foreach (Conv2DDescriptor d in ConvShapes.Depthwise())
        {
            Check(d, ++seed);
            ran++;
        }

        Assert.True(ran > 100, $"only {ran} depthwise shapes");
    }

    [OpenCLTheory]
    [InlineData(1, 0)]
    [InlineData(5, 2)]
    [InlineData(6, 3)]
    public void WritesOnlyItsChannelsOfAStridedOutput(int channels, int activation)
    {
        Conv2DDescriptor d = Conv2DDescriptor.Create(6, 9, channels, channels, 3, stride: 2, padding: 1, groups: channels, activation: (Activation)activation)
            with { Batch = 2, OutputPixelStride = channels + 3 };
        Check(d, channels);
    }

    [OpenCLFact]
    public void RefusesAConvolutionThatIsNotDepthwise()
    {
        Conv2DDescriptor d = Conv2DDescriptor.Create(5, 5, 4, 8, 3, groups: 4);
        var e = Assert.Throws<ArgumentException>(() => new DepthwiseConvolution(fixture.Context, d, new float[d.WeightsLength], []));
        Assert.Contains("multiplier 1", e.Message);
    }

    private void Check(Conv2DDescriptor d, int seed) =>
        DeviceConvolutionChecker.Check(fixture.Context, d, seed, (c, w, b) => new DepthwiseConvolution(fixture.Context, c, w, b));
}
