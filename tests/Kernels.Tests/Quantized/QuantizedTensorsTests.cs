using Kernels.Core;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// The conversions at the edges of the int8 path against <see cref="QuantizationParameters"/> element by element
/// (ties, NaN, infinities, saturation counted), the table requantization against its formula, the channel-slice copy.
/// Lengths not a multiple of the vector width exercise the scalar tails; with DOTNET_EnableHWIntrinsic=0 the scalar path runs.
/// </summary>
public sealed class QuantizedTensorsTests
{
    [Theory]
    [InlineData(0.5f, 0, 103)]
    [InlineData(0.02f, 128, 64)]
    [InlineData(0.1f, 255, 7)]
    [InlineData(0.003f, 40, 237)]
    public unsafe void QuantizeIsQuantizationParametersQuantizeAndCountsSaturation(float scale, int zeroPoint, int count)
    {
        var q = new QuantizationParameters(scale, zeroPoint);
        var rng = new Random(count);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            x[i] = (i % 9) switch
            {
                0 => (float)((rng.Next(-600, 600) + 0.5) * scale), // an exact tie
                1 => float.NaN,
                2 => i % 2 == 0 ? float.PositiveInfinity : float.NegativeInfinity,
                3 => 1e30f * (i % 2 == 0 ? 1 : -1),
                _ => (float)((rng.NextDouble() - 0.5) * 400 * scale),
            };
        }

        var y = new byte[count];
        long saturated;
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            saturated = QuantizedTensors.Quantize(px, py, count, q);
        }

        long expectedSaturated = 0;
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(q.Quantize(x[i]), y[i]);
            double r = Math.Round(x[i] / (double)scale, MidpointRounding.ToEven) + zeroPoint;
            expectedSaturated += r is < 0 or > 255 ? 1 : 0;
        }

        Assert.True(expectedSaturated > 0);
        Assert.Equal(expectedSaturated, saturated);
    }

    [Fact]
    public unsafe void DequantizeIsQuantizationParametersDequantize()
    {
        var q = new QuantizationParameters(0.037f, 131);
        byte[] x = Enumerable.Range(0, 256).Select(static v => (byte)v).Concat(new byte[] { 1, 2, 3 }).ToArray();
        var y = new float[x.Length];
        fixed (byte* px = x)
        fixed (float* py = y)
        {
            QuantizedTensors.Dequantize(px, py, x.Length, q);
        }

        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(q.Dequantize(x[i]), y[i]);
        }
    }

    [Theory]
    [InlineData(0.02f, 128, 0.05f, 100)]
    [InlineData(0.05f, 100, 0.02f, 128)]
    [InlineData(0.02f, 128, 0.02f, 128)]
    public unsafe void RequantizeMatchesItsFormulaAndCountsSaturation(float sf, int zf, float st, int zt)
    {
        var from = new QuantizationParameters(sf, zf);
        var to = new QuantizationParameters(st, zt);
        byte[] x = Enumerable.Range(0, 300).Select(static v => (byte)(v * 7)).ToArray();
        var y = new byte[x.Length];
        long saturated;
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            saturated = QuantizedTensors.Requantize(px, from, py, to, x.Length);
        }

        long expected = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double r = Math.Round((x[i] - zf) * (sf / (double)st), MidpointRounding.ToEven) + zt;
            expected += r is < 0 or > 255 ? 1 : 0;
            Assert.Equal((byte)Math.Clamp(r, 0, 255), y[i]);
        }

        Assert.Equal(expected, saturated);
        if (sf > st)
        {
            Assert.True(saturated > 0, "the widening case must saturate somewhere");
        }

        // In place.
        var z = (byte[])x.Clone();
        fixed (byte* pz = z)
        {
            QuantizedTensors.Requantize(pz, from, pz, to, z.Length);
        }

        Assert.Equal(y, z);
    }

    [Fact]
    public unsafe void CopyChannelsWritesOnlyTheSliceAndCountSaturatedCounts()
    {
        byte[] x = Enumerable.Range(0, 5 * 7).Select(static v => (byte)(v + 1)).ToArray();
        byte[] y = Poisoned((4 * 12) + 7);
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            byte* a = px, b = py;
            QuantizedTensors.CopyChannels(a, 7, 5, b, 12);
            Assert.Throws<ArgumentException>(() => QuantizedTensors.CopyChannels(a, 7, 5, b, 6));
        }

        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(i % 12 < 7 ? x[((i / 12) * 7) + (i % 12)] : Poison, y[i]);
        }

        byte[] s = Enumerable.Range(0, 1000).Select(static v => (byte)(v % 256)).ToArray();
        fixed (byte* ps = s)
        {
            Assert.Equal(s.Count(static v => v is 0 or 255), QuantizedTensors.CountSaturated(ps, s.Length));
        }
    }

    [Fact]
    public unsafe void RejectsBadInputAndAllocatesNothing()
    {
        var q = new QuantizationParameters(0.02f, 128);
        var f = new float[100];
        var b = new byte[100];
        fixed (float* pf = f)
        fixed (byte* pb = b)
        {
            float* x = pf;
            byte* y = pb;
            Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedTensors.Quantize(x, y, -1, q));
            Assert.Throws<ArgumentNullException>(() => QuantizedTensors.Quantize(null, y, 1, q));
            Assert.Throws<ArgumentException>(() => QuantizedTensors.Dequantize(y, x, 1, q with { Scale = float.NaN }));
            Assert.Throws<ArgumentException>(() => QuantizedTensors.Requantize(y, q, y, q with { DataType = DataType.Int8, ZeroPoint = 0 }, 1));
        }

        var to = new QuantizationParameters(0.03f, 100);
        SteadyState.AssertAllocatesNothing(
            () =>
            {
                fixed (float* pf = f)
                fixed (byte* pb = b)
                {
                    QuantizedTensors.Quantize(pf, pb, 100, q);
                    QuantizedTensors.Dequantize(pb, pf, 100, q);
                    QuantizedTensors.Requantize(pb, q, pb, to, 100);
                    QuantizedTensors.CopyChannels(pb, 10, 5, pb + 50, 10);
                }
            },
            "quantized tensor conversions");
    }
}
