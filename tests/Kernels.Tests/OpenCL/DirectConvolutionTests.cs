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

    private void Check(Conv2DDescriptor d, int seed)
    {
        OpenCLContext context = fixture.Context;
        var rng = new Random(seed);
        float[] input = TestData.RandomFloats(rng, checked((int)d.InputLength));
        float[] weights = TestData.RandomFloats(rng, checked((int)d.WeightsLength));
        float[]? bias = seed % 3 == 2 ? null : TestData.RandomFloats(rng, d.OutputChannels);
        int outputLength = checked((int)d.OutputLength + 3);

        using var conv = new DirectConvolution(context, d, weights, bias);
        using DeviceBuffer dIn = context.CreateBuffer(input.Length * sizeof(float));
        using DeviceBuffer dOut = context.CreateBuffer(outputLength * sizeof(float));
        dIn.Write<float>(input);
        dOut.Write<float>(Enumerable.Repeat(float.NaN, outputLength).ToArray());
        conv.Run(dIn, dOut);
        var output = new float[outputLength];
        dOut.Read<float>(output);

        var (expected, bound, _) = ConvReference.Compute(d, input, weights, bias);
        int stride = d.EffectiveOutputPixelStride;
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string where = $"OpenCL direct {d} act {d.Activation} bias {bias is not null}";
        for (long p = 0; p < pixels; p++)
        {
            for (int o = 0; o < stride && (p * stride) + o < outputLength; o++)
            {
                float got = output[(p * stride) + o];
                if (o >= d.OutputChannels)
                {
                    Assert.True(float.IsNaN(got), $"{where}: wrote {got} between pixels at pixel {p} slot {o}");
                    continue;
                }

                long e = (p * d.OutputChannels) + o;
                double err = Math.Abs(got - expected[e]);
                Assert.True(err <= bound[e], $"{where}: pixel {p} channel {o} = {got}, reference {expected[e]}, error {err:E3} > {bound[e]:E3}");
            }
        }

        for (long at = d.OutputLength; at < outputLength; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}");
        }
    }
}
