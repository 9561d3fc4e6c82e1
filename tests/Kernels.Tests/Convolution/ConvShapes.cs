using Kernels.Core;

namespace Kernels.Tests.Convolution;

/// <summary>
/// The ncnn-style table of awkward layer shapes: 9x7 and 18x17 maps; 1, 3, 4, 8, 13, 16 channels;
/// kernels 1–7; strides 1–3; dilations 1–2; symmetric, asymmetric, zero and full padding; plus
/// groups, depthwise layers, batch 2, a strided output (a channel slice of a concat) and every activation.
/// Each algorithm's tests run the shapes it applies to.
/// </summary>
internal static class ConvShapes
{
    private static readonly int[] Channels = [1, 3, 4, 8, 13, 16];
    private static readonly (int H, int W)[] Maps = [(9, 7), (18, 17)];

    private static readonly FusedActivation[] Activations =
        [Activation.None, Activation.Relu, Activation.Relu6, new FusedActivation(Activation.LeakyRelu, 0.1f)];

    /// <summary>Every shape of the table (valid descriptors only).</summary>
    public static IEnumerable<Conv2DDescriptor> All() => Geometry().Concat(ChannelPairs()).Concat(Grouped()).Concat(Depthwise());

    /// <summary>Kernel 1–7 × stride 1–3 × dilation 1–2 × four paddings on both maps; channels and extras rotate.</summary>
    public static IEnumerable<Conv2DDescriptor> Geometry()
    {
        int variant = 0;
        foreach (var (h, w) in Maps)
        {
            for (int k = 1; k <= 7; k++)
            {
                for (int s = 1; s <= 3; s++)
                {
                    for (int dil = 1; dil <= 2; dil++)
                    {
                        int extent = ((k - 1) * dil) + 1;
                        var paddings = new (int T, int L, int B, int R)[]
                        {
                            (0, 0, 0, 0),
                            (extent / 2, extent / 2, extent / 2, extent / 2),
                            (Math.Min(1, extent - 1), 0, 0, Math.Min(2, extent - 1)),
                            (extent - 1, extent - 1, extent - 1, extent - 1),
                        };
                        foreach (var p in paddings.Distinct())
                        {
                            var d = Make(h, w, Channels[variant % 6], Channels[(variant * 5 + 1) % 6], k, k, s, dil, p, 1, variant);
                            variant++;
                            if (Fits(d))
                            {
                                yield return d;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Every input × output channel pair at 3x3 pad 1 and 1x1 (strides 1 and 2).</summary>
    public static IEnumerable<Conv2DDescriptor> ChannelPairs()
    {
        int variant = 0;
        foreach (int ic in Channels)
        {
            foreach (int oc in Channels)
            {
                yield return Make(9, 7, ic, oc, 3, 3, 1, 1, (1, 1, 1, 1), 1, variant++);
                yield return Make(18, 17, ic, oc, 1, 1, 1 + (variant % 2), 1, (0, 0, 0, 0), 1, variant++);
                yield return Make(18, 17, ic, oc, 3, 3, 1, 1, (1, 1, 1, 1), 1, variant++);
            }
        }
    }

    /// <summary>Grouped convolutions (groups 2 and 4), rectangular kernels included.</summary>
    public static IEnumerable<Conv2DDescriptor> Grouped()
    {
        int variant = 0;
        foreach (int g in new[] { 2, 4 })
        {
            foreach (int ic in new[] { 4, 8, 16 })
            {
                foreach (int oc in new[] { 4, 8, 16 })
                {
                    yield return Make(9, 7, ic, oc, 3, 3, 1 + (variant % 2), 1, (1, 1, 1, 1), g, variant++);
                    yield return Make(18, 17, ic, oc, 1 + (variant % 3), 3, 1, 1, (0, 1, 0, 1), g, variant++);
                }
            }
        }
    }

    /// <summary>Depthwise (groups = channels): kernels 3 and 5 (and 1, 7), strides 1–3, every padding, dilation 2 too.</summary>
    public static IEnumerable<Conv2DDescriptor> Depthwise()
    {
        int variant = 0;
        foreach (var (h, w) in Maps)
        {
            foreach (int c in Channels.Append(32).Append(37))
            {
                foreach (int k in new[] { 1, 3, 5, 7 })
                {
                    for (int s = 1; s <= 3; s++)
                    {
                        int extent = k;
                        var paddings = new (int T, int L, int B, int R)[]
                        {
                            (0, 0, 0, 0),
                            (k / 2, k / 2, k / 2, k / 2),
                            (0, 0, Math.Min(1, k - 1), Math.Min(1, k - 1)),
                            (Math.Min(2, k - 1), 1 % k, 0, Math.Min(2, k - 1)),
                        };
                        foreach (var p in paddings.Distinct())
                        {
                            int dil = k == 3 && variant % 5 == 4 ? 2 : 1;
                            var d = Make(h, w, c, c, k, k, s, dil, p, c, variant++);
                            if (Fits(d))
                            {
                                yield return d;
                            }
                        }
                    }
                }
            }
        }
    }

    private static bool Fits(Conv2DDescriptor d)
    {
        try
        {
            d.Validate();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static Conv2DDescriptor Make(int h, int w, int ic, int oc, int kh, int kw, int stride, int dilation, (int T, int L, int B, int R) pad, int groups, int variant)
    {
        bool strided = variant % 7 == 3;
        return new Conv2DDescriptor
        {
            Batch = variant % 11 == 5 ? 2 : 1,
            InputHeight = h,
            InputWidth = w,
            InputChannels = ic,
            OutputChannels = oc,
            KernelHeight = kh,
            KernelWidth = kw,
            StrideHeight = stride,
            StrideWidth = stride,
            DilationHeight = dilation,
            DilationWidth = dilation,
            PadTop = pad.T,
            PadLeft = pad.L,
            PadBottom = pad.B,
            PadRight = pad.R,
            Groups = groups,
            Activation = Activations[variant % Activations.Length],
            OutputPixelStride = strided ? oc + 5 : 0,
        };
    }
}
