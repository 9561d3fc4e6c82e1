using Kernels.Core;

namespace Kernels.Tests.Convolution;

/// <summary>
/// The float64 direct convolution every algorithm is checked against (NHWC input, OHWI weights),
/// with the error bound a float32 dot product of the same terms may reach.
/// </summary>
internal static class ConvReference
{
    /// <summary>
    /// Expected outputs (dense: Batch·OH·OW·OC) and, per output, the bound (K + 2)·2⁻²⁴·(Σ|w·x| + |bias|)
    /// for a float32 sum of the K = KH·KW·IC/G products in any order (with fused or separate multiply-adds).
    /// The activation is applied to the expected value; it does not widen the bound (every activation is 1-Lipschitz for |slope| ≤ 1).
    /// </summary>
    public static (double[] Expected, double[] Bound, double[] Magnitude) Compute(Conv2DDescriptor d, float[] input, float[] weights, float[]? bias)
    {
        int oh = d.OutputHeight, ow = d.OutputWidth, oc = d.OutputChannels;
        int icg = d.GroupInputChannels, ocg = d.GroupOutputChannels;
        var expected = new double[(long)d.Batch * oh * ow * oc];
        var bound = new double[expected.Length];
        var magnitude = new double[expected.Length];
        double unit = Math.Pow(2, -24);
        int k = d.ReductionLength;
        for (int n = 0; n < d.Batch; n++)
        {
            for (int y = 0; y < oh; y++)
            {
                for (int x = 0; x < ow; x++)
                {
                    for (int o = 0; o < oc; o++)
                    {
                        int g = o / ocg;
                        double sum = bias is null ? 0 : bias[o];
                        double mag = bias is null ? 0 : Math.Abs(bias[o]);
                        for (int ky = 0; ky < d.KernelHeight; ky++)
                        {
                            int iy = (y * d.StrideHeight) - d.PadTop + (ky * d.DilationHeight);
                            if (iy < 0 || iy >= d.InputHeight)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < d.KernelWidth; kx++)
                            {
                                int ix = (x * d.StrideWidth) - d.PadLeft + (kx * d.DilationWidth);
                                if (ix < 0 || ix >= d.InputWidth)
                                {
                                    continue;
                                }

                                long inBase = ((((long)n * d.InputHeight) + iy) * d.InputWidth + ix) * d.InputChannels + ((long)g * icg);
                                long wBase = (((long)o * d.KernelHeight + ky) * d.KernelWidth + kx) * icg;
                                for (int c = 0; c < icg; c++)
                                {
                                    double p = (double)input[inBase + c] * weights[wBase + c];
                                    sum += p;
                                    mag += Math.Abs(p);
                                }
                            }
                        }

                        long idx = ((((long)n * oh) + y) * ow + x) * oc + o;
                        expected[idx] = Activate(sum, d.Activation);
                        bound[idx] = (k + 2) * unit * mag;
                        magnitude[idx] = mag;
                    }
                }
            }
        }

        return (expected, bound, magnitude);
    }

    /// <summary>The activation in float64, written independently of <see cref="FusedActivation.Apply"/>.</summary>
    public static double Activate(double v, FusedActivation a) => a.Kind switch
    {
        Activation.None => v,
        Activation.Relu => v < 0 ? 0 : v,
        Activation.Relu6 => v < 0 ? 0 : v > 6 ? 6 : v,
        Activation.LeakyRelu => v < 0 ? v * a.LeakySlope : v,
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };
}
