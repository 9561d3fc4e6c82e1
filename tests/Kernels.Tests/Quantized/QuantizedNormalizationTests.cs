using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// The uint8 LRN against the fp32 <see cref="LocalResponseNormalization"/> run on the dequantized input, its output
/// quantized: within one output step everywhere (the two differ only by float rounding before the final rounding),
/// and exactly equal on most values; bytes between output slices untouched; in place; 1 and 2 threads.
/// </summary>
public sealed class QuantizedNormalizationTests
{
    public static TheoryData<int, int, int, float, int> Cases() => new()
    {
        // channels (vector multiples, tails, fewer than a vector), window size, beta (0.75: the root path), output stride
        { 64, 5, 5, 0.75f, 0 },
        { 192, 5, 5, 0.75f, 200 },
        { 37, 3, 5, 0.75f, 0 },
        { 7, 2, 3, 0.75f, 9 },
        { 45, 4, 7, 0.6f, 0 },
        { 130, 3, 1, 0.75f, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void MatchesFp32WithinOneStep(int channels, int side, int size, float beta, int stride)
    {
        var d = new LrnDescriptor(2, side, side + 1, channels, size, Alpha: 2e-3f, Beta: beta, Bias: 1.5f, OutputPixelStride: stride);
        var rng = new Random(channels * 31 + size);
        var qi = new QuantizationParameters(0.25f, 100);
        byte[] x = RandomBytes(rng, d.InputLength);
        float[] reference = new float[d.OutputLength];
        LocalResponseNormalization.Run(d, Dequantize(x, qi), reference);
        long pixels = (long)d.Batch * d.Height * d.Width;
        int pixelStride = d.EffectiveOutputPixelStride;
        var written = new List<float>();
        for (long p = 0; p < pixels; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                written.Add(reference[(p * pixelStride) + c]);
            }
        }

        var qo = RangeOf(written);
        using var two = new WorkerGroup(2);
        foreach (var workers in new[] { null, two })
        {
            byte[] y = Poisoned(d.OutputLength);
            QuantizedNormalization.Lrn(d, x, y, qi, qo, workers);
            int exact = 0;
            for (long p = 0; p < pixels; p++)
            {
                for (int c = 0; c < pixelStride && (p * pixelStride) + c < y.Length; c++)
                {
                    long i = (p * pixelStride) + c;
                    if (c >= channels)
                    {
                        Assert.True(y[i] == Poison, $"{d}: byte {i} (channel {c}, outside the slice) was written");
                        continue;
                    }

                    int want = qo.Quantize(reference[i]);
                    Assert.True(Math.Abs(y[i] - want) <= 1, $"{d} ({workers?.ThreadCount ?? 1} threads): pixel {p} channel {c} is {y[i]}, fp32 quantized {want}");
                    exact += y[i] == want ? 1 : 0;
                }
            }

            Assert.True(exact >= pixels * channels * 95 / 100, $"{d}: only {exact} of {pixels * channels} values equal the fp32 result quantized");
        }

        if (stride == 0)
        {
            // In place: every pixel is read whole before it is written.
            byte[] expected = new byte[d.OutputLength];
            QuantizedNormalization.Lrn(d, x, expected, qi, qo);
            byte[] inPlace = (byte[])x.Clone();
            QuantizedNormalization.Lrn(d, inPlace, inPlace, qi, qo);
            Assert.Equal(expected, inPlace);
        }
    }

    [Fact]
    public unsafe void RejectsBadInput()
    {
        var d = new LrnDescriptor(1, 3, 3, 8);
        var q = new QuantizationParameters(0.1f, 10);
        var x = new byte[d.InputLength];
        var y = new byte[d.OutputLength];
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => QuantizedNormalization.Lrn(d, x.AsSpan(1), y, q, q)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => QuantizedNormalization.Lrn(d, x, y.AsSpan(1), q, q)).ParamName);
        Assert.Equal("Bias", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedNormalization.Lrn(d with { Bias = 0 }, x, y, q, q)).ParamName);
        Assert.Contains("uint8", Assert.Throws<ArgumentException>(() => QuantizedNormalization.Lrn(d, x, y, q with { DataType = DataType.Int8, ZeroPoint = 0 }, q)).Message);
        Assert.Contains("'output'", Assert.Throws<ArgumentException>(() => QuantizedNormalization.Lrn(d, x, y, q, q with { Scale = -1 })).Message);
        Assert.Throws<ArgumentNullException>(() => QuantizedNormalization.Lrn(d, null, (byte*)1, q, q));
    }
}
