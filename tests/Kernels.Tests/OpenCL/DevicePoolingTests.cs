using Kernels.Cpu.Layers;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Layers;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>max_pool2d / avg_pool2d / global_avg_pool against the float64 reference over the CPU pooling tests' awkward shapes.</summary>
public sealed class DevicePoolingTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    private static readonly (int T, int L, int B, int R)[] Paddings = [(0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 1, 0), (1, 0, 0, 2)];

    [OpenCLFact]
    public void MatchesTheReferenceOverTheShapeTable()
    {
        var rng = new Random(11);
        int cases = 0;
        foreach (var (h, w) in LayerReference.Maps)
        foreach (int c in new[] { 1, 3, 4, 13, 37 })
        foreach (int k in new[] { 2, 3, 7 })
        foreach (int s in new[] { 1, 2, 3 })
        foreach (var pad in Paddings)
        foreach (bool ceil in new[] { false, true })
        foreach (var kind in new[] { PoolingKind.Max, PoolingKind.Average })
        foreach (bool includePad in kind == PoolingKind.Average ? new[] { false, true } : new[] { false })
        {
            if (pad.T >= k || pad.L >= k || pad.B >= k || pad.R >= k)
            {
                continue;
            }

            // Alternate dense and strided outputs (a channel slice at offset 2 of pixels C + 3 wide).
            bool strided = (cases & 1) == 1;
            var d = new Pool2DDescriptor
            {
                Kind = kind,
                Batch = c == 13 ? 2 : 1,
                InputHeight = h,
                InputWidth = w,
                Channels = c,
                KernelHeight = k,
                KernelWidth = k == 7 ? 5 : k,
                StrideHeight = s,
                StrideWidth = s == 3 ? 2 : s,
                PadTop = pad.T,
                PadLeft = pad.L,
                PadBottom = pad.B,
                PadRight = pad.R,
                CeilMode = ceil,
                CountIncludePad = includePad,
                OutputPixelStride = strided ? c + 3 : 0,
            };
            Check(d, rng, strided ? 2 : 0);
            cases++;
        }

        Assert.True(cases > 500, $"only {cases} cases");
    }

    [OpenCLTheory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(1, true)]
    public void WindowsRunPastThePaddingInCeilMode(int kind, bool includePad)
    {
        // 1x1 input with a 3x3 window, pad 1 and ceil mode; and a 6x5 input whose last ceil-mode windows run past the padding.
        Check(Pool2DDescriptor.Create((PoolingKind)kind, 1, 1, 5, 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: includePad, batch: 2), new Random(12), 0);
        Check(Pool2DDescriptor.Create((PoolingKind)kind, 6, 5, 6, 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: includePad, batch: 2), new Random(13), 1);
    }

    [OpenCLFact]
    public void GlobalAverageMatchesTheReference()
    {
        var rng = new Random(14);
        foreach (var (h, w) in LayerReference.Maps.Append((7, 7)).Append((1, 1)))
        foreach (int c in LayerReference.Channels)
        {
            var d = new GlobalAveragePoolDescriptor(2, h, w, c, OutputPixelStride: c + 5);
            float[] x = TestData.RandomFloats(rng, (int)d.InputLength);
            using var pool = new DeviceGlobalAveragePooling(fixture.Context, d);
            float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength + 4, (i, o) => pool.Run(i, o, outputOffset: 3));
            var expected = new double[2 * c];
            for (int n = 0; n < 2; n++)
            for (int ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (int p = 0; p < h * w; p++)
                {
                    sum += x[(((n * h * w) + p) * c) + ch];
                }

                expected[(n * c) + ch] = sum / (h * w);
            }

            LayerReference.AssertStrided(expected, y, c, c + 5, 3, 1e-5, $"{pool.KernelName} {d}");
        }
    }

    [OpenCLFact]
    public void RefusesASmallBufferNamingKernelAndDevice()
    {
        var d = Pool2DDescriptor.Create(PoolingKind.Max, 5, 5, 3, 2);
        using var pool = new DevicePooling2D(fixture.Context, d);
        using DeviceBuffer input = fixture.Context.CreateBuffer(d.InputLength * sizeof(float));
        using DeviceBuffer output = fixture.Context.CreateBuffer(d.OutputLength * sizeof(float));
        var e = Assert.Throws<ArgumentException>(() => pool.Run(input, output, outputOffset: 1));
        Assert.Contains("max_pool2d_nhwc_c4", e.Message);
        Assert.Contains(fixture.Context.Device.Name, e.Message);
        Assert.Throws<ArgumentException>(() => pool.Run(input, input));
        Assert.Throws<ArgumentException>(() => new DevicePooling2D(fixture.Context, d with { PadTop = 2 }));
    }

    private void Check(Pool2DDescriptor d, Random rng, int offset)
    {
        float[] x = TestData.RandomFloats(rng, (int)d.InputLength);
        using var pool = new DevicePooling2D(fixture.Context, d);
        float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength + offset + 2, (i, o) => pool.Run(i, o, offset));
        double[] expected = LayerReference.Pool(d, x);
        LayerReference.AssertStrided(expected, y, d.Channels, d.EffectiveOutputPixelStride, offset, 1e-5, $"{pool.KernelName} {d}");
    }
}
