using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>conv2d_direct_nhwc_4x4 against the float64 reference over the awkward-shape table.</summary>
public sealed class DirectConvolutionTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    public static TheoryData<string> Tables() => new() { "geometry", "channels", "grouped", "depthwise" };

    [OpenCLTheory]
    [MemberData(nameof(Tables))]
    public void MatchesTheReferenceOverTheShapeTable(string table)
    {
        IEnumerable<Conv2DDescriptor> shapes = table switch
        {
            "geometry" => ConvShapes.Geometry(),
            "channels" => ConvShapes.ChannelPairs(),
            "grouped" => ConvShapes.Grouped(),
            _ => ConvShapes.Depthwise(),
        };
        int seed = 0, ran = 0;
        foreach (Conv2DDescriptor d in shapes)
        {
            Check(d, ++seed);
            ran++;
        }

        Assert.True(ran > 5, $"{table}: only {ran} shapes");
    }

    [OpenCLFact]
    public void WritesOnlyItsChannelSliceOfAStridedOutput()
    {
        Conv2DDescriptor d = Conv2DDescriptor.Create(9, 7, 5, 6, 3, padding: 1, activation: Activation.Relu) with { OutputPixelStride = 11, Batch = 2 };
        Check(d, 77);
    }

    [OpenCLFact]
    public void RejectsBuffersThatAreTooSmall()
    {
        Conv2DDescriptor d = Conv2DDescriptor.Create(8, 8, 4, 4, 3, padding: 1);
        var weights = new float[d.WeightsLength];
        using var conv = new DirectConvolution(fixture.Context, d, weights, []);
        using DeviceBuffer input = fixture.Context.CreateBuffer(d.InputLength * sizeof(float));
        using DeviceBuffer small = fixture.Context.CreateBuffer(16);
        var e = Assert.Throws<ArgumentException>(() => conv.Run(input, small));
        Assert.Contains("conv2d_direct_nhwc_4x4", e.Message);
        Assert.Throws<ArgumentException>(() => new DirectConvolution(fixture.Context, d, new float[3], []));
    }

    private void Check(Conv2DDescriptor d, int seed) =>
        DeviceConvolutionChecker.Check(fixture.Context, d, seed, (c, w, b) => new DirectConvolution(fixture.Context, c, w, b));
}
