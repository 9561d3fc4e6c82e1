using Kernels.Cpu.Layers;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Layers;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>copy_channels_nhwc_c4: a concat by offsets assembled from dense inputs, and a slice copied back out.</summary>
public sealed class ChannelSliceCopyTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLTheory]
    [InlineData(1, new[] { 1, 3 })]
    [InlineData(7, new[] { 4, 13, 5 })]
    [InlineData(30, new[] { 37, 8, 1, 16 })]
    public void AssemblesAConcatFromDenseInputs(int pixels, int[] channels)
    {
        var concat = new ChannelConcat(pixels, channels);
        OpenCLContext context = fixture.Context;
        var rng = new Random(pixels);
        using var copy = new ChannelSliceCopy(context);
        using DeviceBuffer output = context.CreateBuffer((concat.OutputLength + 1) * sizeof(float));
        output.Write<float>(LayerReference.Poisoned(concat.OutputLength + 1));
        var inputs = new float[concat.Count][];
        for (int i = 0; i < concat.Count; i++)
        {
            inputs[i] = TestData.RandomFloats(rng, pixels * concat.Channels(i));
            using DeviceBuffer input = context.CreateBuffer(inputs[i].Length * sizeof(float));
            input.Write<float>(inputs[i]);
            copy.Run(input, output, pixels, concat.Channels(i), destinationStride: concat.PixelStride, destinationOffset: concat.Offset(i));
        }

        var got = new float[concat.OutputLength + 1];
        output.Read<float>(got);
        for (int p = 0; p < pixels; p++)
        {
            for (int i = 0; i < concat.Count; i++)
            {
                for (int c = 0; c < concat.Channels(i); c++)
                {
                    Assert.Equal(inputs[i][(p * concat.Channels(i)) + c], got[(p * concat.PixelStride) + concat.Offset(i) + c]);
                }
            }
        }

        Assert.True(float.IsNaN(got[concat.OutputLength]), "wrote past the concat output");
    }

    [OpenCLTheory]
    [InlineData(5, 3, 11, 2)]
    [InlineData(9, 13, 20, 7)]
    public void CopiesASliceOutToADenseTensor(int pixels, int channels, int stride, int offset)
    {
        float[] wide = TestData.RandomFloats(new Random(channels), (pixels * stride) + offset);
        using var copy = new ChannelSliceCopy(fixture.Context);
        long length = ((long)pixels * channels) + 1;
        float[] got = DeviceLayerRunner.Run(fixture.Context, wide, length, (i, o) => copy.Run(i, o, pixels, channels, sourceStride: stride, sourceOffset: offset));
        var expected = new double[pixels * channels];
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                expected[(p * channels) + c] = wide[offset + (p * stride) + c];
            }
        }

        LayerReference.AssertStrided(expected, got, channels, channels, 0, 0, "slice to dense");
    }

    [OpenCLFact]
    public void ChecksItsArguments()
    {
        using var copy = new ChannelSliceCopy(fixture.Context);
        using DeviceBuffer a = fixture.Context.CreateBuffer(64 * sizeof(float));
        using DeviceBuffer b = fixture.Context.CreateBuffer(64 * sizeof(float));
        var e = Assert.Throws<ArgumentException>(() => copy.Run(a, b, 8, 8, destinationOffset: 1));
        Assert.Contains("copy_channels_nhwc_c4", e.Message);
        Assert.Contains(fixture.Context.Device.Name, e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => copy.Run(a, b, 4, 8, sourceStride: 7));
        Assert.Throws<ArgumentException>(() => copy.Run(a, a, 4, 4));
    }
}
