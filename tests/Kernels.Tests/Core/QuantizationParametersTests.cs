using Kernels.Core;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class QuantizationParametersTests
{
    [Theory]
    [InlineData(-1f, 3f, DataType.UInt8)]
    [InlineData(0f, 6f, DataType.UInt8)]
    [InlineData(-6f, -0.5f, DataType.UInt8)]
    [InlineData(-2.5f, 2.5f, DataType.Int8)]
    [InlineData(0.25f, 9f, DataType.Int8)]
    public void FromRangeCoversTheRangeWithZeroExact(float min, float max, DataType type)
    {
        var q = QuantizationParameters.FromRange(min, max, type);
        q.Validate("t");
        Assert.Equal(0f, q.Dequantize(q.Quantize(0f)));
        Assert.True(q.RealMin <= Math.Min(min, 0f) + q.Scale, $"{q.RealMin} vs {min}");
        Assert.True(q.RealMax >= Math.Max(max, 0f) - q.Scale, $"{q.RealMax} vs {max}");
        for (float x = min; x <= max; x += (max - min) / 37)
        {
            Assert.True(Math.Abs(q.Dequantize(q.Quantize(x)) - x) <= (q.Scale / 2) + 1e-6f, $"x = {x}");
        }
    }

    [Fact]
    public void QuantizeRoundsTiesToEvenAndSaturates()
    {
        var q = new QuantizationParameters(0.5f, 10);
        Assert.Equal(10, q.Quantize(0.25f));   // 0.5 → 0
        Assert.Equal(12, q.Quantize(0.75f));   // 1.5 → 2
        Assert.Equal(10, q.Quantize(-0.25f));  // -0.5 → -0
        Assert.Equal(8, q.Quantize(-1.25f));   // -2.5 → -2
        Assert.Equal(255, q.Quantize(1000f));
        Assert.Equal(0, q.Quantize(-1000f));
        var s = new QuantizationParameters(0.1f, -3, DataType.Int8);
        Assert.Equal(127, s.Quantize(100f));
        Assert.Equal(-128, s.Quantize(-100f));
        Assert.Equal(-3, s.Quantize(float.NaN));
    }

    [Fact]
    public void ValidateNamesTheTensorAndTheField()
    {
        var e = Assert.Throws<ArgumentException>(() => new QuantizationParameters(0f, 0).Validate("conv1"));
        Assert.Equal("Scale", e.ParamName);
        Assert.Contains("'conv1'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => new QuantizationParameters(1f, 300).Validate("x"));
        Assert.Equal("ZeroPoint", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => new QuantizationParameters(1f, 0, DataType.Int32).Validate("x"));
        Assert.Equal("DataType", e.ParamName);
        Assert.Throws<ArgumentException>(() => QuantizationParameters.FromRange(2f, 1f));
        Assert.Throws<ArgumentException>(() => QuantizationParameters.FromRange(float.NaN, 1f));
    }
}
