using Kernels.Core;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Xunit;

namespace Kernels.Tests.Quantized;

/// <summary>
/// Plain scalar integer definitions of the quantized layers, written from their definitions (TFLite's
/// per-channel quantization and single-rounding requantization, ONNX pooling geometry), and the checks the
/// layer tests share. The one rounding every rescale uses, round(x·M·2^−t) with ties toward +∞, is computed
/// here in 128 bits as ⌊(2·x·M + 2^t) / 2^(t+1)⌋.
/// </summary>
internal static class QuantizedLayerReference
{
    public const byte Poison = 0xA5;

    /// <summary>The ISA arguments every layer runs under: the default choice and each variant this machine executes.</summary>
    public static IEnumerable<KernelIsa?> Isas => new KernelIsa?[] { null }.Concat(KernelIsas.Executable.Select(static i => (KernelIsa?)i));

    public static long Rescale(long x, long multiplier, int shift)
    {
        Int128 twice = (Int128)x * multiplier * 2;
        Int128 numerator = twice + (Int128.One << shift);
        Int128 denominator = Int128.One << (shift + 1);
        Int128 q = numerator / denominator;
        if (numerator < 0 && q * denominator != numerator)
        {
            q -= 1;
        }

        return (long)q;
    }

    /// <summary>The clamp [lo, hi] of a fused activation on an output quantized by q.</summary>
    public static (int Lo, int Hi) Clamp(Activation activation, QuantizationParameters q) => activation switch
    {
        Activation.None => (0, 255),
        Activation.Relu => (q.ZeroPoint, 255),
        Activation.Relu6 => (q.ZeroPoint, (int)Math.Min(255, q.ZeroPoint + Math.Round(6 / (double)q.Scale, MidpointRounding.ToEven))),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>A layer's weights quantized per output channel (scale max|w|/127, ties to even), bias at scale si·ws, requantization multipliers.</summary>
    public sealed record Layer(sbyte[] Weights, double[] WeightScales, int[] Bias, int[] Multipliers, int[] Shifts)
    {
        public float[] DequantizedWeights(int perChannel) =>
            Weights.Select((w, i) => (float)(w * WeightScales[i / perChannel])).ToArray();

        public float[] DequantizedBias(QuantizationParameters input) =>
            Bias.Select((b, o) => (float)(b * (input.Scale * WeightScales[o]))).ToArray();
    }

    public static Layer QuantizeLayer(float[] weights, int channels, float[]? bias, QuantizationParameters input, QuantizationParameters output)
    {
        int per = weights.Length / channels;
        var wq = new sbyte[weights.Length];
        var ws = new double[channels];
        var bq = new int[channels];
        var m = new int[channels];
        var s = new int[channels];
        for (int o = 0; o < channels; o++)
        {
            double max = 0;
            for (int i = 0; i < per; i++)
            {
                max = Math.Max(max, Math.Abs((double)weights[(o * per) + i]));
            }

            // At least |bias| / (si·2^30), so that the int32 bias cannot overflow (nearly pruned channels).
            double forBias = bias is null ? 0 : Math.Abs((double)bias[o]) / input.Scale / 1073741824.0;
            ws[o] = Math.Max(max > 0 ? (float)max / 127.0 : output.Scale / (2.0 * input.Scale), forBias);
            for (int i = 0; i < per; i++)
            {
                wq[(o * per) + i] = (sbyte)Math.Round(weights[(o * per) + i] / ws[o], MidpointRounding.ToEven);
            }

            bq[o] = bias is null ? 0 : (int)Math.Round(bias[o] / (input.Scale * ws[o]), MidpointRounding.ToEven);
            (m[o], s[o]) = Requantization.QuantizeMultiplier(input.Scale * ws[o] / output.Scale);
        }

        return new Layer(wq, ws, bq, m, s);
    }

    /// <summary>The integer convolution (groups, dilation, padding as real 0), output poisoned outside the written channels.</summary>
    public static byte[] Convolution(Conv2DDescriptor d, byte[] x, QuantizationParameters qi, Layer layer, QuantizationParameters qo)
    {
        var y = Poisoned(d.OutputLength);
        var (lo, hi) = Clamp(d.Activation.Kind, qo);
        int icg = d.GroupInputChannels, ocg = d.GroupOutputChannels;
        for (int n = 0; n < d.Batch; n++)
        {
            for (int oy = 0; oy < d.OutputHeight; oy++)
            {
                for (int ox = 0; ox < d.OutputWidth; ox++)
                {
                    long pixel = (((long)n * d.OutputHeight) + oy) * d.OutputWidth + ox;
                    for (int o = 0; o < d.OutputChannels; o++)
                    {
                        int g = o / ocg;
                        long acc = layer.Bias[o];
                        for (int ky = 0; ky < d.KernelHeight; ky++)
                        {
                            for (int kx = 0; kx < d.KernelWidth; kx++)
                            {
                                int iy = (oy * d.StrideHeight) - d.PadTop + (ky * d.DilationHeight);
                                int ix = (ox * d.StrideWidth) - d.PadLeft + (kx * d.DilationWidth);
                                if (iy < 0 || iy >= d.InputHeight || ix < 0 || ix >= d.InputWidth)
                                {
                                    continue;
                                }

                                for (int i = 0; i < icg; i++)
                                {
                                    int xv = x[((((long)n * d.InputHeight) + iy) * d.InputWidth + ix) * d.InputChannels + (g * icg) + i];
                                    int wv = layer.Weights[((((long)o * d.KernelHeight) + ky) * d.KernelWidth + kx) * icg + i];
                                    acc += (long)(xv - qi.ZeroPoint) * wv;
                                }
                            }
                        }

                        y[(pixel * d.EffectiveOutputPixelStride) + o] = Store(acc, layer.Multipliers[o], layer.Shifts[o], qo.ZeroPoint, lo, hi);
                    }
                }
            }
        }

        return y;
    }

    public static byte Store(long acc, int multiplier, int shift, int zeroPoint, int lo, int hi) =>
        (byte)Math.Clamp(zeroPoint + Rescale(acc, multiplier, 31 + shift), lo, hi);

    public static byte[] Poisoned(long length)
    {
        var y = new byte[length];
        Array.Fill(y, Poison);
        return y;
    }

    public static byte[] RandomBytes(Random rng, long count, int lo = 0, int hi = 256)
    {
        var x = new byte[count];
        for (long i = 0; i < count; i++)
        {
            x[i] = (byte)rng.Next(lo, hi);
        }

        return x;
    }

    public static float[] Dequantize(byte[] x, QuantizationParameters q) => x.Select(v => q.Dequantize(v)).ToArray();

    /// <summary>Output parameters that cover an fp32 result's range (so most outputs fall inside the clamp).</summary>
    public static QuantizationParameters RangeOf(IEnumerable<float> values)
    {
        var list = values.ToArray();
        return QuantizationParameters.FromRange(list.Min(), list.Max());
    }

    /// <summary>
    /// Asserts the layer's bytes equal the integer reference everywhere, poison included (bytes between slices
    /// untouched), and, on the written channels, that the result is within one step of the fp32 layer's output
    /// quantized (see the tests for why one step bounds it).
    /// </summary>
    public static void AssertLayer(string what, byte[] actual, byte[] reference, float[]? fp32, QuantizationParameters qo, long pixels, int channels, int stride)
    {
        Assert.Equal(reference.Length, actual.Length);
        long inside = 0;
        for (long p = 0; p < pixels; p++)
        {
            for (int c = 0; c < stride && (p * stride) + c < actual.Length; c++)
            {
                long i = (p * stride) + c;
                if (actual[i] != reference[i])
                {
                    Assert.Fail($"{what}: pixel {p} channel {c}: {actual[i]}, integer reference {reference[i]}{(c >= channels ? " (outside the slice: must stay untouched)" : string.Empty)}.");
                }

                if (c < channels && fp32 is not null)
                {
                    int expected = qo.Quantize(fp32[i]);
                    if (Math.Abs(actual[i] - expected) > 1)
                    {
                        Assert.Fail($"{what}: pixel {p} channel {c}: {actual[i]} is more than one step from the fp32 layer's {fp32[i]} (quantized {expected}).");
                    }

                    inside += actual[i] is > 0 and < 255 ? 1 : 0;
                }
            }
        }

        if (fp32 is not null)
        {
            Assert.True(inside * 4 > pixels * channels, $"{what}: only {inside} of {pixels * channels} outputs are inside (0, 255): the test would check saturation, not rounding.");
        }
    }
}
