using Kernels.Cpu.Layers;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Layers;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>lrn_across_channels_c4 and softmax_channels_c4 against float64 references (odd channel counts, every window size, large magnitudes, strided outputs, batch 2).</summary>
public sealed class DeviceNormalizationTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLFact]
    public void LrnMatchesTheReference()
    {
        var rng = new Random(31);
        int cases = 0;
        foreach (var (h, w) in new[] { (1, 1), (3, 5) })
        foreach (int c in LayerReference.Channels)
        foreach (int size in new[] { 1, 3, 4, 5, 7 })
        {
            bool strided = cases % 2 == 1;
            var d = new LrnDescriptor(2, h, w, c, size, Alpha: 0.5f, Beta: 0.75f, Bias: 2f, OutputPixelStride: strided ? c + 2 : 0);
            float[] x = TestData.RandomFloats(rng, (int)d.InputLength).Select(v => v * 3f).ToArray();
            using var lrn = new DeviceLocalResponseNormalization(fixture.Context, d);
            int offset = strided ? 1 : 0;
            float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength + offset + 1, (i, o) => lrn.Run(i, o, offset));
            var expected = new double[x.Length];
            for (int p = 0; p < 2 * h * w; p++)
            for (int ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (int i = ch - ((size - 1) / 2); i <= ch + (size / 2); i++)
                {
                    if (i >= 0 && i < c)
                    {
                        double v = x[(p * c) + i];
                        sum += v * v;
                    }
                }

                expected[(p * c) + ch] = x[(p * c) + ch] / Math.Pow(2.0 + (0.5 / size * sum), 0.75);
            }

            LayerReference.AssertStrided(expected, y, c, d.EffectiveOutputPixelStride, offset, 2e-5, $"{lrn.KernelName} {d}");
            cases++;
        }
    }

    [OpenCLFact]
    public void LrnWithAlexNetParametersMatchesTheCpuLayer()
    {
        var d = new LrnDescriptor(1, 5, 4, 96);
        float[] x = TestData.RandomFloats(new Random(32), (int)d.InputLength).Select(v => v * 50f).ToArray();
        var cpu = new float[d.OutputLength];
        LocalResponseNormalization.Run(d, x, cpu);
        using var lrn = new DeviceLocalResponseNormalization(fixture.Context, d);
        float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength, (i, o) => lrn.Run(i, o));
        LayerReference.AssertStrided(cpu.Select(v => (double)v).ToArray(), y, 96, 96, 0, 2e-5, "lrn AlexNet vs CPU");
    }

    [OpenCLFact]
    public void LrnRefusesToRunInPlace()
    {
        var d = new LrnDescriptor(1, 2, 2, 8);
        using var lrn = new DeviceLocalResponseNormalization(fixture.Context, d);
        using DeviceBuffer buffer = fixture.Context.CreateBuffer(d.InputLength * sizeof(float));
        var e = Assert.Throws<ArgumentException>(() => lrn.Run(buffer, buffer));
        Assert.Contains("lrn_across_channels_c4", e.Message);
        Assert.Contains("in place", e.Message);
    }

    [OpenCLFact]
    public void SoftmaxMatchesTheReferenceAndIsStable()
    {
        var rng = new Random(33);
        int cases = 0;
        foreach (int c in LayerReference.Channels.Append(1000))
        foreach (float magnitude in new[] { 1f, 200f })
        {
            bool strided = cases % 2 == 1;
            var d = new SoftmaxDescriptor(2, 3, 2, c, strided ? c + 1 : 0);

            // exp(200) overflows float: only the max subtraction keeps this finite.
            float[] x = TestData.RandomFloats(rng, (int)d.InputLength).Select(v => v * magnitude).ToArray();
            using var softmax = new DeviceSoftmax(fixture.Context, d);
            int offset = strided ? 3 : 0;
            float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength + offset + 1, (i, o) => softmax.Run(i, o, offset));
            LayerReference.AssertStrided(SoftmaxReference(x, c), y, c, d.EffectiveOutputPixelStride, offset, 1e-5, $"{softmax.KernelName} {d} x{magnitude}");
            cases++;
        }
    }

    [OpenCLFact]
    public void SoftmaxRunsInPlace()
    {
        var d = new SoftmaxDescriptor(2, 1, 1, 1000);
        float[] x = TestData.RandomFloats(new Random(34), (int)d.InputLength).Select(v => v * 30f).ToArray();
        using var softmax = new DeviceSoftmax(fixture.Context, d);
        using DeviceBuffer buffer = fixture.Context.CreateBuffer(d.InputLength * sizeof(float));
        buffer.Write<float>(x);
        softmax.Run(buffer, buffer);
        var y = new float[x.Length];
        buffer.Read<float>(y);
        LayerReference.AssertStrided(SoftmaxReference(x, 1000), y, 1000, 1000, 0, 1e-5, "softmax in place");
        Assert.Throws<ArgumentException>(() => softmax.Run(buffer, buffer, outputOffset: 1));
    }

    [OpenCLFact]
    public void TuningNeverRerunsAnInPlaceSoftmax()
    {
        // A tuning tuner runs a kernel once per candidate: in place, each run would take the softmax of the last.
        var tuner = new WorkSizeTuner(Path.Combine(fixture.Folder, "tuner-softmax.json"), TunerMode.Normal);
        using OpenCLContext context = OpenCLContext.Create(fixture.Context.Device, new ProgramCache(Path.Combine(fixture.Folder, "programs")), tuner);
        var d = new SoftmaxDescriptor(1, 4, 5, 13);
        float[] x = TestData.RandomFloats(new Random(35), (int)d.InputLength).Select(v => v * 4f).ToArray();
        using var softmax = new DeviceSoftmax(context, d);
        using DeviceBuffer buffer = context.CreateBuffer(d.InputLength * sizeof(float));
        buffer.Write<float>(x);
        softmax.Run(buffer, buffer);
        var y = new float[x.Length];
        buffer.Read<float>(y);
        LayerReference.AssertStrided(SoftmaxReference(x, 13), y, 13, 13, 0, 1e-5, "softmax in place under a tuning tuner");
        Assert.Equal(0, tuner.Measurements);

        // Out of place it is tuned, and still right.
        float[] tuned = DeviceLayerRunner.Run(context, x, d.OutputLength, (i, o) => softmax.Run(i, o));
        Assert.True(tuner.Measurements > 1, $"{tuner.Measurements} measurements");
        LayerReference.AssertStrided(SoftmaxReference(x, 13), tuned, 13, 13, 0, 1e-5, "softmax tuned");
    }

    private static double[] SoftmaxReference(float[] x, int c)
    {
        var expected = new double[x.Length];
        for (int p = 0; p < x.Length / c; p++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int ch = 0; ch < c; ch++)
            {
                max = Math.Max(max, x[(p * c) + ch]);
            }

            for (int ch = 0; ch < c; ch++)
            {
                sum += Math.Exp(x[(p * c) + ch] - max);
            }

            for (int ch = 0; ch < c; ch++)
            {
                expected[(p * c) + ch] = Math.Exp(x[(p * c) + ch] - max) / sum;
            }
        }

        return expected;
    }
}
