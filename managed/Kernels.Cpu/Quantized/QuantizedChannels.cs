using Kernels.Core;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// The plan-time quantization of one layer's fp32 weights and bias (convolution or fully connected): int8
/// weights symmetric per output channel (scale = max|w| / 127, round half to even, so every value is in
/// [−127, 127]), the bias as int32 at scale input.Scale·weightScale, and the per-channel Q31 multiplier and
/// right shift of input.Scale·weightScale / output.Scale (<see cref="Requantization.QuantizeMultiplier"/>).
/// A channel whose weights are all zero gets weightScale = output.Scale / (2·input.Scale): its requantization
/// scale is ½ and its bias keeps half an output step of precision. A channel whose weights are tiny next to its
/// bias (a nearly pruned channel) gets weightScale = |bias| / (input.Scale·2³⁰) when that is larger than the above,
/// so that its int32 bias cannot overflow (its weights then use fewer than 8 bits, which costs nothing next to the bias).
/// </summary>
internal sealed class QuantizedChannels
{
    private QuantizedChannels(int channels, int perChannel)
    {
        Weights = new sbyte[(long)channels * perChannel];
        WeightScales = new float[channels];
        Bias = new int[channels];
        Multipliers = new int[channels];
        Shifts = new int[channels];
    }

    /// <summary>int8 weights in the layout they were given (output channel major).</summary>
    public sbyte[] Weights { get; }

    /// <summary>Real value of one int8 step of each output channel's weights.</summary>
    public float[] WeightScales { get; }

    /// <summary>int32 bias at scale input.Scale·WeightScales[o] (zeros without a bias).</summary>
    public int[] Bias { get; }

    /// <summary>Q31 requantization multiplier per output channel.</summary>
    public int[] Multipliers { get; }

    /// <summary>Right shift per output channel.</summary>
    public int[] Shifts { get; }

    /// <summary>
    /// Checks the finite values and the scales before anything is allocated: weights and bias finite and every
    /// requantization scale below 1 (the bias always fits int32, see the class remarks).
    /// </summary>
    /// <exception cref="ArgumentException">What is wrong, naming the parameter and the channel.</exception>
    public static void Validate(ReadOnlySpan<float> weights, int channels, int perChannel, ReadOnlySpan<float> bias, QuantizationParameters input, QuantizationParameters output)
    {
        for (int o = 0; o < channels; o++)
        {
            ReadOnlySpan<float> w = weights.Slice(o * perChannel, perChannel);
            float max = MaxAbs(w, o, perChannel);
            if (!bias.IsEmpty && !float.IsFinite(bias[o]))
            {
                throw new ArgumentException($"bias[{o}] is {bias[o]}; it must be finite.", nameof(bias));
            }

            double weightScale = WeightScale(max, bias.IsEmpty ? 0 : bias[o], input, output);
            double scale = input.Scale * weightScale / output.Scale;
            if (!(scale < 1))
            {
                throw new ArgumentException(
                    $"Output channel {o}: the requantization scale input.Scale·weightScale/output.Scale = {scale:G4} is not below 1 " +
                    $"(output.Scale {output.Scale} is too small for weights up to {max}).",
                    nameof(output));
            }
        }
    }

    /// <summary>Quantizes a validated layer (see <see cref="Validate"/>).</summary>
    public static QuantizedChannels Create(ReadOnlySpan<float> weights, int channels, int perChannel, ReadOnlySpan<float> bias, QuantizationParameters input, QuantizationParameters output)
    {
        var q = new QuantizedChannels(channels, perChannel);
        for (int o = 0; o < channels; o++)
        {
            ReadOnlySpan<float> w = weights.Slice(o * perChannel, perChannel);
            float max = MaxAbs(w, o, perChannel);
            double weightScale = WeightScale(max, bias.IsEmpty ? 0 : bias[o], input, output);
            q.WeightScales[o] = (float)weightScale;
            Span<sbyte> dst = q.Weights.AsSpan(o * perChannel, perChannel);
            for (int i = 0; i < perChannel; i++)
            {
                dst[i] = (sbyte)Math.Clamp(Math.Round(w[i] / weightScale, MidpointRounding.ToEven), -127, 127);
            }

            double accumulatorScale = input.Scale * weightScale;
            q.Bias[o] = bias.IsEmpty ? 0 : (int)Math.Round(bias[o] / accumulatorScale, MidpointRounding.ToEven);
            (q.Multipliers[o], q.Shifts[o]) = Requantization.QuantizeMultiplier(accumulatorScale / output.Scale);
        }

        return q;
    }

    private static double WeightScale(float maxAbs, float bias, QuantizationParameters input, QuantizationParameters output)
    {
        double forBias = Math.Abs(bias) / (input.Scale * (double)(1 << 30));
        return Math.Max(maxAbs > 0 ? maxAbs / 127.0 : output.Scale / (2.0 * input.Scale), forBias);
    }

    private static float MaxAbs(ReadOnlySpan<float> w, int channel, int perChannel)
    {
        float max = 0;
        for (int i = 0; i < w.Length; i++)
        {
            if (!float.IsFinite(w[i]))
            {
                throw new ArgumentException($"weights[{((long)channel * perChannel) + i}] (output channel {channel}) is {w[i]}; weights must be finite.", "weights");
            }

            max = Math.Max(max, Math.Abs(w[i]));
        }

        return max;
    }
}
