using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Xunit;

namespace Kernels.Tests.Layers;

/// <summary>Max, average and global average pooling against the float64 reference over the awkward-shape table.</summary>
public sealed class PoolingTests
{
    private static readonly (int T, int L, int B, int R)[] Paddings = [(0, 0, 0, 0), (1, 1, 1, 1), (0, 1, 1, 0), (1, 0, 0, 2)];

    public static IEnumerable<object[]> Isas => LayerReference.Isas;

    [Theory]
    [MemberData(nameof(Isas))]
    public void MatchesReferenceOverTheShapeTable(KernelIsa isa)
    {
        var rng = new Random(1);
        int cases = 0;
        foreach (var (h, w) in LayerReference.Maps)
        // 70 channels: the 4-accumulator blocks of every ISA (16, 32, 64 channels) plus every tail.
        foreach (int c in LayerReference.Channels.Append(70))
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
            Check(d, isa, rng, strided ? 2 : 0, null);
            cases++;
        }

        Assert.True(cases > 1000, $"only {cases} cases");
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void MultithreadedMatchesReference(KernelIsa isa)
    {
        using var workers = new WorkerGroup(3);
        var rng = new Random(2);
        foreach (var kind in new[] { PoolingKind.Max, PoolingKind.Average })
        {
            var d = Pool2DDescriptor.Create(kind, 18, 17, 37, 3, stride: 2, padding: 1, ceilMode: true, batch: 2) with { OutputPixelStride = 40 };
            Check(d, isa, rng, 1, workers);
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void GlobalAverageMatchesReference(KernelIsa isa)
    {
        var rng = new Random(3);
        foreach (var (h, w) in LayerReference.Maps.Append((7, 7)).Append((1, 1)))
        foreach (int c in LayerReference.Channels)
        {
            var d = new GlobalAveragePoolDescriptor(2, h, w, c, OutputPixelStride: c + 5);
            var x = TestData.RandomFloats(rng, (int)d.InputLength);
            var y = LayerReference.Poisoned(d.OutputLength + 3);
            GlobalAveragePooling.Run(d, x, y.AsSpan(3), isa);
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

            LayerReference.AssertStrided(expected, y, c, c + 5, 3, 1e-5, $"gap {h}x{w}x{c} {isa}");
        }
    }

    [Fact]
    public void OutputSizeFollowsCeilModeRules()
    {
        // 9 + 1 + 1 - 3 = 8: floor 8/3 + 1 = 3, ceil 3 + 1 = 4; a 5th window would start in the padding.
        var d = Pool2DDescriptor.Create(PoolingKind.Max, 9, 9, 1, 3, stride: 3, padding: 1);
        Assert.Equal(3, d.OutputHeight);
        Assert.Equal(4, (d with { CeilMode = true }).OutputHeight);

        // 6 - 2 = 4 → ceil(4/2) + 1 = 3 windows starting at 0, 2, 4; the one at 4 is real input.
        Assert.Equal(3, Pool2DDescriptor.Create(PoolingKind.Max, 6, 6, 1, 2, stride: 2, ceilMode: true).OutputHeight);

        // 5 + 2 - 2 = 5 → ceil(5/4) + 1 = 3, but the 3rd window would start at 8 - 1 = 7, in the padding: 2.
        Assert.Equal(2, Pool2DDescriptor.Create(PoolingKind.Max, 5, 5, 1, 2, stride: 4, padding: 1, ceilMode: true).OutputHeight);
    }

    private static void Check(Pool2DDescriptor d, KernelIsa isa, Random rng, int offset, WorkerGroup? workers)
    {
        var x = TestData.RandomFloats(rng, (int)d.InputLength);
        var y = LayerReference.Poisoned(d.OutputLength + offset + 2);
        Pooling2D.Run(d, x, y.AsSpan(offset), isa, workers);
        var expected = LayerReference.Pool(d, x);
        Assert.Equal(expected.Length, d.Batch * d.OutputHeight * d.OutputWidth * d.Channels);
        LayerReference.AssertStrided(expected, y, d.Channels, d.EffectiveOutputPixelStride, offset, 1e-5, $"{d} {isa}");
    }
}
