using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Xunit;

namespace Kernels.Tests.Layers;

/// <summary>Straightforward float64 definitions of the layers, written from the operator specs, and the checks the layer tests share.</summary>
internal static class LayerReference
{
    public static IEnumerable<object[]> Isas => KernelIsas.Executable.Select(static i => new object[] { i });

    public static readonly int[] Channels = [1, 3, 4, 8, 13, 16, 37];

    public static readonly (int H, int W)[] Maps = [(9, 7), (18, 17)];

    public static float[] Poisoned(long length)
    {
        var values = new float[length];
        Array.Fill(values, float.NaN);
        return values;
    }

    /// <summary>Output size as ONNX/PyTorch define it (ceil mode drops a window that starts in the trailing padding).</summary>
    public static int PoolOutputSize(int input, int kernel, int stride, int before, int after, bool ceil)
    {
        double span = input + before + after - kernel;
        int size = (int)(ceil ? Math.Ceiling(span / stride) : Math.Floor(span / stride)) + 1;
        if (ceil && (size - 1) * stride >= input + before)
        {
            size--;
        }

        return size;
    }

    public static double[] Pool(Pool2DDescriptor d, float[] x)
    {
        int oh = PoolOutputSize(d.InputHeight, d.KernelHeight, d.StrideHeight, d.PadTop, d.PadBottom, d.CeilMode);
        int ow = PoolOutputSize(d.InputWidth, d.KernelWidth, d.StrideWidth, d.PadLeft, d.PadRight, d.CeilMode);
        int c = d.Channels;
        var y = new double[d.Batch * oh * ow * c];
        for (int n = 0; n < d.Batch; n++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            int valid = 0, padded = 0;
            for (int ky = 0; ky < d.KernelHeight; ky++)
            for (int kx = 0; kx < d.KernelWidth; kx++)
            {
                int iy = (oy * d.StrideHeight) - d.PadTop + ky;
                int ix = (ox * d.StrideWidth) - d.PadLeft + kx;
                bool inPadded = iy >= -d.PadTop && iy < d.InputHeight + d.PadBottom && ix >= -d.PadLeft && ix < d.InputWidth + d.PadRight;
                if (inPadded)
                {
                    padded++;
                }

                if (iy >= 0 && iy < d.InputHeight && ix >= 0 && ix < d.InputWidth)
                {
                    double v = x[(((n * d.InputHeight) + iy) * d.InputWidth + ix) * c + ch];
                    max = Math.Max(max, v);
                    sum += v;
                    valid++;
                }
            }

            Assert.True(valid > 0, "a window without real input");
            y[(((n * oh) + oy) * ow + ox) * c + ch] = d.Kind == PoolingKind.Max ? max : sum / (d.CountIncludePad ? padded : valid);
        }

        return y;
    }

    /// <summary>
    /// Checks a strided output: pixel p's channels at offset + p·stride against <paramref name="expected"/> (dense),
    /// every other element still NaN (the gaps of a strided output and the buffer outside the slice).
    /// </summary>
    public static void AssertStrided(double[] expected, float[] actual, int channels, int stride, int offset, double tolerance, string context)
    {
        int pixels = expected.Length / channels;
        var written = new bool[actual.Length];
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                int i = offset + (p * stride) + c;
                written[i] = true;
                double e = expected[(p * channels) + c];
                double err = Math.Abs(actual[i] - e);
                if (!(err <= tolerance * Math.Max(1.0, Math.Abs(e))))
                {
                    Assert.Fail($"{context}: pixel {p} channel {c}: got {actual[i]}, expected {e}");
                }
            }
        }

        for (int i = 0; i < actual.Length; i++)
        {
            if (!written[i] && !float.IsNaN(actual[i]))
            {
                Assert.Fail($"{context}: element {i} outside the output was written ({actual[i]})");
            }
        }
    }
}
