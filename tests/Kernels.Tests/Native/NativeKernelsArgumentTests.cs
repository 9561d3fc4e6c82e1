using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

/// <summary>Bad inputs to the checked wrappers are rejected before any native call.</summary>
public class NativeKernelsArgumentTests
{
    private static void Im2Col(float[] input, int channels = 2, int ps = 2, int k = 3, int stride = 1, int dil = 1,
                               int pad = 1, int outH = 4, int outW = 4, float[]? output = null, int ld = 18, int inH = 4, int inW = 4)
        => NativeKernels.Im2ColNhwc(input, inH, inW, channels, ps, k, k, stride, stride, pad, pad, dil, dil,
                                    outH, outW, output ?? new float[16 * 18], ld);

    [Theory]
    [InlineData("channels")]
    [InlineData("inPixelStride")]
    [InlineData("kernelH")]
    [InlineData("strideH")]
    [InlineData("dilationH")]
    [InlineData("ldOutput")]
    [InlineData("input")]
    [InlineData("output")]
    [InlineData("outH")]
    [InlineData("padTop")]
    public void Im2Col_rejects_bad_arguments_naming_the_parameter(string param)
    {
        var input = new float[32];
        Action act = param switch
        {
            "channels" => () => Im2Col(input, channels: 0),
            "inPixelStride" => () => Im2Col(input, ps: 1),
            "kernelH" => () => Im2Col(input, k: 0),
            "strideH" => () => Im2Col(input, stride: 0),
            "dilationH" => () => Im2Col(input, dil: 0),
            "ldOutput" => () => Im2Col(input, ld: 17),
            "input" => () => Im2Col(new float[31]),
            "output" => () => Im2Col(input, output: new float[15 * 18 + 17]),
            "outH" => () => Im2Col(input, outH: -1),
            "padTop" => () => Im2Col(input, pad: -1),
            _ => throw new InvalidOperationException(),
        };
        var e = Assert.ThrowsAny<ArgumentException>(act);
        Assert.Equal(param, e.ParamName);
    }

    [Fact]
    public void Im2Col_accepts_exact_buffer_sizes()
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        // last row needs only K floats, not ld
        var output = new float[15 * 20 + 18];
        Im2Col(new float[32], output: output, ld: 20);
        // channel slice: the last pixel needs only `channels` floats past its start
        NativeKernels.Im2ColNhwc(new float[15 * 5 + 2], 4, 4, 2, 5, 3, 3, 1, 1, 1, 1, 1, 1, 4, 4, new float[16 * 18], 18);
    }

    [Fact]
    public void Pack_rejects_bad_arguments_naming_the_parameter()
    {
        var buf = new float[1000];
        Assert.Equal("mr", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(0, 4, 4, buf, 4, buf)).ParamName);
        Assert.Equal("m", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(8, -1, 4, buf, 4, buf)).ParamName);
        Assert.Equal("k", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(8, 4, -1, buf, 4, buf)).ParamName);
        Assert.Equal("lda", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(8, 4, 5, buf, 4, buf)).ParamName);
        Assert.Equal("a", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(8, 4, 5, new float[3 * 6 + 4], 6, buf)).ParamName);
        Assert.Equal("packed", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackA(8, 9, 5, buf, 5, new float[16 * 5 - 1])).ParamName);

        Assert.Equal("nr", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackB(0, 4, 4, buf, 4, buf)).ParamName);
        Assert.Equal("n", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackB(12, 4, -2, buf, 4, buf)).ParamName);
        Assert.Equal("ldb", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackB(12, 4, 5, buf, 4, buf)).ParamName);
        Assert.Equal("b", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackB(12, 4, 5, new float[3 * 7 + 4], 7, buf)).ParamName);
        Assert.Equal("packed", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.PackB(12, 5, 13, buf, 13, new float[24 * 5 - 1])).ParamName);
    }

    [Fact]
    public void Pack_accepts_exact_buffer_sizes()
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        NativeKernels.PackA(8, 9, 5, new float[8 * 7 + 5], 7, new float[16 * 5]);
        NativeKernels.PackB(12, 5, 13, new float[4 * 15 + 13], 15, new float[24 * 5]);
        NativeKernels.PackA(8, 0, 5, [], 5, []); // empty is a no-op
    }

    [Fact]
    public void Dot_rejects_mismatched_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() => NativeKernels.DotS8(new sbyte[3], new sbyte[4]));
        Assert.Equal("b", e.ParamName);
    }

    [Fact]
    public void ConvOutputSize_is_floor_division_and_zero_when_kernel_does_not_fit()
    {
        Assert.Equal(7, NativeKernels.ConvOutputSize(7, 3, 1, 1, 1, 1));
        Assert.Equal(4, NativeKernels.ConvOutputSize(7, 3, 2, 1, 1, 1));
        Assert.Equal(3, NativeKernels.ConvOutputSize(7, 3, 1, 0, 0, 2));
        Assert.Equal(0, NativeKernels.ConvOutputSize(2, 3, 1, 0, 0, 1));
        Assert.Equal("stride", Assert.ThrowsAny<ArgumentException>(() => NativeKernels.ConvOutputSize(7, 3, 0, 0, 0, 1)).ParamName);
    }
}
