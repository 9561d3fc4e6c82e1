using Kernels.Core;
using Kernels.Cpu.Convolution;
using Kernels.OpenCL.Operators;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// The three winograd_f2x3 kernels against the float64 direct reference, every output within
/// <see cref="WinogradErrorBound"/> (the component-wise F(2x2, 3x3) bound the CPU Winograd tests use), over every
/// shape of the awkward-shape table Winograd applies to, batch 2 with asymmetric padding and a strided output, and a
/// 64-channel layer.
/// </summary>
public sealed class WinogradF2x3ConvolutionTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLFact]
    public void MatchesTheReferenceOverTheTable()
    {
        int seed = 100, ran = 0;
        foreach (Conv2DDescriptor d in ConvShapes.All().Where(d => WinogradF2x3Convolution.WhyNotApplicable(d) is null))
        {
            Check(d, ++seed);
            ran++;
        }

        Assert.True(ran > 40, $"only {ran} shapes");
    }

    [OpenCLTheory]
    [InlineData(5, 0)]
    [InlineData(13, 2)]
    [InlineData(21, 3)]
    public void BatchAsymmetricPaddingAndStridedOutput(int channels, int activation)
    {
        var d = new Conv2DDescriptor
        {
            Batch = 2,
            InputHeight = 11,
            InputWidth = 14,
            InputChannels = channels,
            OutputChannels = channels + 2,
            KernelHeight = 3,
            KernelWidth = 3,
            PadTop = 2,
            PadLeft = 0,
            PadBottom = 1,
            PadRight = 2,
            Activation = new FusedActivation((Activation)activation, 0.1f),
            OutputPixelStride = channels + 5,
        };
        Check(d, channels);
    }

    [OpenCLFact]
    public void SixtyFourChannelLayerIsWithinTheBound()
    {
        Check(Conv2DDescriptor.Create(14, 13, 64, 64, 3, padding: 1, activation: Activation.Relu), 7);
    }

    [OpenCLFact]
    public void RefusesWhatItCannotRun()
    {
        Conv2DDescriptor strided = Conv2DDescriptor.Create(9, 9, 4, 4, 3, stride: 2, padding: 1);
        var e = Assert.Throws<ArgumentException>(() => new WinogradF2x3Convolution(fixture.Context, strided, new float[strided.WeightsLength], []));
        Assert.Contains("stride", e.Message);
        Assert.NotNull(WinogradF2x3Convolution.WhyNotApplicable(Conv2DDescriptor.Create(9, 9, 4, 4, 5, padding: 2)));
        Assert.NotNull(WinogradF2x3Convolution.WhyNotApplicable(Conv2DDescriptor.Create(9, 9, 4, 4, 3, padding: 1, groups: 2)));
    }

    private void Check(Conv2DDescriptor d, int seed) => DeviceConvolutionChecker.Check(
        fixture.Context,
        d,
        seed,
        (c, w, b) => new WinogradF2x3Convolution(fixture.Context, c, w, b),
        (c, x, w, b) => WinogradErrorBound.Compute(ConvolutionAlgorithm.WinogradF2, c, x, w, b));
}
