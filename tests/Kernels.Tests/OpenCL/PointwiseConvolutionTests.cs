using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>conv2d_1x1_nhwc_4x4 against the float64 reference: the 1x1 shapes of the table and pixel counts around the blocking.</summary>
public sealed class PointwiseConvolutionTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLFact]
    public void MatchesTheReferenceOnEveryApplicableShapeOfTheTable()
    {
        int seed = 0, ran = 0;
        foreach (Conv2DDescriptor d in ConvShapes.All())
        {
            seed++;
            if (PointwiseConvolution.WhyNotApplicable(d) is null)
            {
                Check(d, seed);
                ran++;
            }
        }

        Assert.True(ran >= 30, $"only {ran} 1x1 shapes");
    }

    [OpenCLTheory]
    [InlineData(1, 1, 1, 1, 1, 1)]
    [InlineData(1, 3, 5, 4, 1, 1)]
    [InlineData(2, 7, 7, 13, 1, 2)]
    [InlineData(1, 5, 3, 17, 2, 3)]
    [InlineData(3, 2, 9, 32, 3, 3)]
    public void MatchesTheReferenceAroundThePixelAndChannelBlocks(int batch, int height, int width, int channels, int stride, int activation)
    {
        Conv2DDescriptor d = Conv2DDescriptor.Create(height, width, channels, channels + 3, 1, stride, activation: (Activation)activation) with { Batch = batch };
        Check(d, batch * 100 + channels);
        Check(d with { OutputPixelStride = d.OutputChannels + 2 }, batch * 100 + channels + 1);
    }

    [OpenCLFact]
    public void RefusesWhatIsNotAPlain1x1()
    {
        Assert.Contains("not 1x1", Assert.Throws<ArgumentException>(() => new PointwiseConvolution(fixture.Context, Conv2DDescriptor.Create(5, 5, 2, 2, 3), new float[36], [])).Message);
        Assert.Contains("padding", Assert.Throws<ArgumentException>(() => new PointwiseConvolution(fixture.Context, Conv2DDescriptor.Create(5, 5, 2, 2, 1, padding: 1), new float[4], [])).Message);
        Assert.Contains("groups", Assert.Throws<ArgumentException>(() => new PointwiseConvolution(fixture.Context, Conv2DDescriptor.Create(5, 5, 4, 4, 1, groups: 2), new float[8], [])).Message);
    }

    private void Check(Conv2DDescriptor d, int seed) =>
        DeviceConvolutionChecker.Check(fixture.Context, d, seed, (c, w, b) => new PointwiseConvolution(fixture.Context, c, w, b));
}
