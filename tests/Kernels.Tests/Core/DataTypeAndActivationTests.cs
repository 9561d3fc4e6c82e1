using Kernels.Core;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class DataTypeAndActivationTests
{
    [Theory]
    [InlineData(DataType.Float32, 4)]
    [InlineData(DataType.Float16, 2)]
    [InlineData(DataType.Int8, 1)]
    [InlineData(DataType.UInt8, 1)]
    [InlineData(DataType.Int32, 4)]
    public void SizeInBytes_MatchesClrType(DataType type, int expected) => Assert.Equal(expected, type.SizeInBytes());

    [Fact]
    public void SizeInBytes_AgreesWithSizeof()
    {
        Assert.Equal(sizeof(float), DataType.Float32.SizeInBytes());
        Assert.Equal(System.Runtime.CompilerServices.Unsafe.SizeOf<Half>(), DataType.Float16.SizeInBytes());
        Assert.Equal(sizeof(sbyte), DataType.Int8.SizeInBytes());
        Assert.Equal(sizeof(byte), DataType.UInt8.SizeInBytes());
        Assert.Equal(sizeof(int), DataType.Int32.SizeInBytes());
    }

    [Fact]
    public void SizeInBytes_RejectsUndefined() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ((DataType)99).SizeInBytes());

    [Fact]
    public void ClampBounds_MatchDefinitions()
    {
        Assert.Equal((float.NegativeInfinity, float.PositiveInfinity), Activation.None.ClampBounds());
        Assert.Equal((0f, float.PositiveInfinity), Activation.Relu.ClampBounds());
        Assert.Equal((0f, 6f), Activation.Relu6.ClampBounds());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Activation)42).ClampBounds());
        Assert.Throws<ArgumentOutOfRangeException>(() => Activation.LeakyRelu.ClampBounds());
    }

    [Fact]
    public void FusedActivation_ApplyMatchesDefinitions()
    {
        foreach (float x in new[] { -1e30f, -7f, -0.5f, -0f, 0f, 0.25f, 5.99f, 6f, 6.5f, 1e30f })
        {
            Assert.Equal(x, FusedActivation.None.Apply(x));
            Assert.Equal(x > 0 ? x : 0f, ((FusedActivation)Activation.Relu).Apply(x));
            Assert.Equal(x < 0 ? 0f : x > 6 ? 6f : x, ((FusedActivation)Activation.Relu6).Apply(x));
            Assert.Equal(x < 0 ? x * 0.1f : x, new FusedActivation(Activation.LeakyRelu, 0.1f).Apply(x));
        }

        Assert.Equal(0.01f, ((FusedActivation)Activation.LeakyRelu).LeakySlope);
        Assert.Equal("LeakyRelu(0.2)", new FusedActivation(Activation.LeakyRelu, 0.2f).ToString());
        Assert.Throws<ArgumentException>(() => new FusedActivation(Activation.LeakyRelu, float.PositiveInfinity).Validate("a"));
        Assert.Throws<ArgumentException>(() => new FusedActivation((Activation)9).Validate("a"));
    }

    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Relu)]
    [InlineData(Activation.Relu6)]
    public void ClampBounds_AsClamp_EqualsActivationFunction(Activation activation)
    {
        var (min, max) = activation.ClampBounds();
        foreach (float x in new[] { -1e30f, -7f, -0.5f, 0f, 0.25f, 5.99f, 6f, 6.5f, 1e30f })
        {
            float expected = activation switch
            {
                Activation.Relu => x > 0 ? x : 0,
                Activation.Relu6 => x < 0 ? 0 : x > 6 ? 6 : x,
                _ => x,
            };
            Assert.Equal(expected, Math.Clamp(x, min, max));
        }
    }
}
