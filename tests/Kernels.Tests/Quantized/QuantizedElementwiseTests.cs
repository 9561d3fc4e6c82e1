using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// int8 element-wise add against its integer definition written out here (exact per-input products with 22-bit
/// multipliers, one output rounding; bit-exact, poison between slices untouched) and against the fp32 add of the
/// dequantized inputs within one output step (the multipliers' rounding costs about 2^−21 relative; the last
/// rounding ½ step; the fp32 result quantized ½ step). With AVX2 off the scalar path runs.
/// </summary>
public sealed class QuantizedElementwiseTests
{
    [Theory]
    [InlineData(1, 7, 5, 13, 0, Activation.None, 0.03f, 120, 0.05f, 90)]
    [InlineData(2, 3, 3, 64, 0, Activation.Relu, 0.02f, 128, 0.02f, 128)]
    [InlineData(1, 4, 5, 19, 24, Activation.Relu6, 0.04f, 10, 0.01f, 200)]
    [InlineData(1, 1, 1, 3, 0, Activation.None, 0.1f, 0, 0.001f, 255)]
    [InlineData(1, 41, 41, 32, 0, Activation.None, 0.02f, 100, 0.03f, 140)]
    public unsafe void AddMatchesIntegerReferenceAndFp32(int batch, int h, int w, int c, int stride, Activation activation, float sa, int za, float sb, int zb)
    {
        var d = new ElementwiseAddDescriptor(batch, h, w, c, activation, stride);
        var qa = new QuantizationParameters(sa, za);
        var qb = new QuantizationParameters(sb, zb);
        var rng = new Random(h * 31 + c);
        byte[] a = RandomBytes(rng, d.InputLength), b = RandomBytes(rng, d.InputLength);
        var fp32 = new float[d.OutputLength];
        Elementwise.Add(d, Dequantize(a, qa), Dequantize(b, qb), fp32);
        var qy = RangeOf(fp32.Where((_, i) => i % d.EffectiveOutputPixelStride < c));
        byte[] reference = Reference(d, a, qa, b, qb, qy);
        using var two = new WorkerGroup(2);
        foreach (var workers in new[] { null, two })
        {
            byte[] y = Poisoned(d.OutputLength);
            fixed (byte* pa = a)
            fixed (byte* pb = b)
            fixed (byte* py = y)
            {
                QuantizedElementwise.Add(d, pa, qa, pb, qb, py, qy, workers);
            }

            AssertLayer($"add {d} on {workers?.ThreadCount ?? 1} threads", y, reference, fp32, qy, (long)batch * h * w, c, d.EffectiveOutputPixelStride);
        }
    }

    [Fact]
    public unsafe void RejectsBadInputAndAllocatesNothing()
    {
        var d = new ElementwiseAddDescriptor(1, 8, 8, 16);
        var q = new QuantizationParameters(0.02f, 128);
        var a = new byte[d.InputLength];
        var y = new byte[d.OutputLength];
        fixed (byte* pa = a)
        fixed (byte* py = y)
        {
            byte* x = pa, o = py;
            Assert.ThrowsAny<ArgumentException>(() => QuantizedElementwise.Add(d with { Channels = 0 }, x, q, x, q, o, q));
            Assert.Throws<ArgumentNullException>(() => QuantizedElementwise.Add(d, x, q, null, q, o, q));
            Assert.Equal("qb", Assert.Throws<ArgumentException>(() => QuantizedElementwise.Add(d, x, q, x, q with { DataType = DataType.Int8, ZeroPoint = 0 }, o, q)).ParamName);
            Assert.Equal("qy", Assert.Throws<ArgumentException>(() => QuantizedElementwise.Add(d, x, q, x, q, o, new QuantizationParameters(1e-30f, 0))).ParamName);
            Assert.Contains("LeakyRelu", Assert.Throws<NotSupportedException>(() => QuantizedElementwise.Add(d with { Activation = Activation.LeakyRelu }, x, q, x, q, o, q)).Message);
        }

        using var workers = new WorkerGroup(2);
        var strided = d with { OutputPixelStride = 16 };
        SteadyState.AssertAllocatesNothing(() => Run(d, a, y, q, null), "int8 add");
        SteadyState.AssertAllocatesNothing(() => Run(strided, a, y, q, workers), "int8 add on 2 threads");
    }

    private static unsafe void Run(ElementwiseAddDescriptor d, byte[] a, byte[] y, QuantizationParameters q, WorkerGroup? workers)
    {
        fixed (byte* pa = a)
        fixed (byte* py = y)
        {
            QuantizedElementwise.Add(d, pa, q, pa, q, py, q, workers);
        }
    }

    private static byte[] Reference(ElementwiseAddDescriptor d, byte[] a, QuantizationParameters qa, byte[] b, QuantizationParameters qb, QuantizationParameters qy)
    {
        var y = Poisoned(d.OutputLength);
        var (lo, hi) = Clamp(d.Activation.Kind, qy);
        double twiceMax = 2.0 * Math.Max(qa.Scale, qb.Scale);
        long ma = (long)Math.Round(qa.Scale / twiceMax * (1 << 22), MidpointRounding.AwayFromZero);
        long mb = (long)Math.Round(qb.Scale / twiceMax * (1 << 22), MidpointRounding.AwayFromZero);
        var (my, ty) = QuantizedPoolingTests.Fixed(twiceMax / ((1 << 22) * (double)qy.Scale));
        long pixels = (long)d.Batch * d.Height * d.Width;
        for (long p = 0; p < pixels; p++)
        {
            for (int c = 0; c < d.Channels; c++)
            {
                long i = (p * d.Channels) + c;
                long sum = ((a[i] - qa.ZeroPoint) * ma) + ((b[i] - qb.ZeroPoint) * mb);
                y[(p * d.EffectiveOutputPixelStride) + c] = (byte)Math.Clamp(qy.ZeroPoint + Rescale(sum, my, ty), lo, hi);
            }
        }

        return y;
    }
}
