using Kernels.Core;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class TensorShapeTests
{
    [Theory]
    [InlineData(-1, 1, 1, 1, "N")]
    [InlineData(1, -1, 1, 1, "H")]
    [InlineData(1, 1, -5, 1, "W")]
    [InlineData(1, 1, 1, int.MinValue, "C")]
    public void Constructor_RejectsNegativeDimension_NamingIt(int n, int h, int w, int c, string dimension)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new TensorShape(n, h, w, c));
        Assert.Equal(dimension, e.ParamName);
    }

    [Fact]
    public void With_RejectsNegativeDimension()
    {
        var shape = new TensorShape(1, 2, 3, 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => shape with { W = -1 });
        Assert.Equal("W", e.ParamName);
        Assert.Equal(new TensorShape(1, 2, 7, 4), shape with { W = 7 });
    }

    [Fact]
    public void Properties_KeepConstructorValues()
    {
        var shape = new TensorShape(2, 3, 5, 7);
        Assert.Equal((2, 3, 5, 7), (shape.N, shape.H, shape.W, shape.C));
        var (n, h, w, c) = shape;
        Assert.Equal((2, 3, 5, 7), (n, h, w, c));
    }

    [Theory]
    [InlineData(1, 224, 224, 3, 150_528L)]
    [InlineData(0, 224, 224, 3, 0L)]
    [InlineData(2, 3, 5, 7, 210L)]
    [InlineData(1000, 1000, 1000, 1000, 1_000_000_000_000L)]
    public void ElementCount_IsProductWithoutIntOverflow(int n, int h, int w, int c, long expected) =>
        Assert.Equal(expected, new TensorShape(n, h, w, c).ElementCount);

    [Fact]
    public void Default_IsEmpty() => Assert.Equal(0, default(TensorShape).ElementCount);

    [Fact]
    public void ToString_IsNxHxWxC() => Assert.Equal("1x224x224x3", new TensorShape(1, 224, 224, 3).ToString());

    [Theory]
    [InlineData("1x224x224x3", 1, 224, 224, 3)]
    [InlineData(" 8x7x9x13 ", 8, 7, 9, 13)]
    [InlineData("0x0x0x0", 0, 0, 0, 0)]
    [InlineData("1X2X3X4", 1, 2, 3, 4)]
    public void Parse_ReadsValidShapes(string text, int n, int h, int w, int c) =>
        Assert.Equal(new TensorShape(n, h, w, c), TensorShape.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("1x2x3")]
    [InlineData("1x2x3x4x5")]
    [InlineData("1x2x3x")]
    [InlineData("x1x2x3")]
    [InlineData("1x-2x3x4")]
    [InlineData("1x+2x3x4")]
    [InlineData("axbxcxd")]
    [InlineData("1,2,3,4")]
    [InlineData("1x2x3x99999999999")]
    public void Parse_RejectsMalformed(string text)
    {
        Assert.Throws<FormatException>(() => TensorShape.Parse(text));
        Assert.False(TensorShape.TryParse(text, out _));
    }

    [Fact]
    public void Parse_RejectsNull() => Assert.Throws<ArgumentNullException>(() => TensorShape.Parse(null!));

    [Fact]
    public void ParseOfToString_RoundTrips()
    {
        var shape = new TensorShape(3, 17, 1, 1024);
        Assert.Equal(shape, TensorShape.Parse(shape.ToString()));
    }
}
