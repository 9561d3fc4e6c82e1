namespace Kernels.Graph.Passes;

/// <summary>
/// Folds an inference-mode batch normalization y = γ·(x − μ)/√(σ² + ε) + β that follows a convolution into
/// the convolution's weights and bias: w'[o] = w[o]·s[o], b'[o] = (b[o] − μ[o])·s[o] + β[o] with
/// s[o] = γ[o]/√(σ²[o] + ε). Computed in float64 and rounded once, so the folded layer differs from the
/// unfolded pair by one float32 rounding per weight.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds in place.</summary>
    /// <param name="weights">Convolution weights, output channel outermost (OHWI): OutputChannels blocks of equal length; scaled in place.</param>
    /// <param name="bias">The convolution's bias (OutputChannels values, zeros when it had none); replaced in place.</param>
    /// <param name="gamma">Scale γ.</param>
    /// <param name="beta">Shift β.</param>
    /// <param name="mean">Running mean μ.</param>
    /// <param name="variance">Running variance σ².</param>
    /// <param name="epsilon">ε (ONNX default 1e-5).</param>
    /// <exception cref="ArgumentException">Lengths do not match the output channels, ε is negative, or a variance + ε is not positive.</exception>
    public static void Fold(
        Span<float> weights, Span<float> bias,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        float epsilon)
    {
        int oc = bias.Length;
        if (oc == 0 || weights.Length % oc != 0)
        {
            throw new ArgumentException($"weights has {weights.Length} floats, not a multiple of the {oc} output channels given by bias.", nameof(weights));
        }

        Same(gamma.Length, oc, nameof(gamma));
        Same(beta.Length, oc, nameof(beta));
        Same(mean.Length, oc, nameof(mean));
        Same(variance.Length, oc, nameof(variance));
        if (!(epsilon >= 0))
        {
            throw new ArgumentException($"epsilon must be a non-negative number; it is {epsilon}.", nameof(epsilon));
        }

        for (int o = 0; o < oc; o++)
        {
            if (!(variance[o] + (double)epsilon > 0))
            {
                throw new ArgumentException($"variance[{o}] + epsilon = {variance[o] + (double)epsilon} is not positive.", nameof(variance));
            }
        }

        int perChannel = weights.Length / oc;
        for (int o = 0; o < oc; o++)
        {
            double scale = gamma[o] / Math.Sqrt(variance[o] + (double)epsilon);
            var w = weights.Slice(o * perChannel, perChannel);
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)(w[i] * scale);
            }

            bias[o] = (float)(((bias[o] - (double)mean[o]) * scale) + beta[o]);
        }
    }

    private static void Same(int length, int oc, string name)
    {
        if (length != oc)
        {
            throw new ArgumentException($"{name} has {length} values; the convolution has {oc} output channels.", name);
        }
    }
}
