using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Quantization;
using Kernels.Graph.Reference;
using Xunit;

namespace Kernels.Tests.Quantization;

public sealed class CalibratorTests
{
    private static float[] Random(long count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    private static (NetworkGraph Graph, Value Input) SmallNetwork()
    {
        var b = new GraphBuilder("calib");
        Value x = b.Input("x", new TensorShape(1, 8, 8, 3));
        Value conv = b.Conv(x, 8, 3, 1, 1, new Constant("w", ConstantRole.Weights, [8, 3, 3, 3], Random(216, 1, 0.5f)), name: "conv");
        Value relu = b.Relu(conv, "relu");
        Value pool = b.MaxPool(relu, 2, 2, name: "pool");
        Value fc = b.FullyConnected(b.Flatten(pool, "flat"), 5, new Constant("fw", ConstantRole.Weights, [5, 128], Random(640, 2, 0.2f)), name: "fc");
        return (b.Build(b.Softmax(fc, "prob")), x);
    }

    [Fact]
    public void MinMaxCoversExactlyWhatTheReferenceProducesPerPlannedValue()
    {
        (NetworkGraph graph, Value x) = SmallNetwork();
        var samples = Enumerable.Range(0, 3).Select(s => new[] { Random(x.Shape.ElementCount, 10 + s) }).ToArray();
        QuantizationTable table = Calibrator.Calibrate(graph, samples);

        // Conv+ReLU run as one step, so "conv" is not observed but "relu" (its output) is.
        Assert.False(table.TryGet("conv", out _));
        foreach (string name in new[] { "x", "relu", "pool", "fc", "prob" })
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity;
            foreach (float[][] sample in samples)
            {
                double[] values = ReferenceExecutor.RunAll(graph, new Dictionary<string, float[]> { ["x"] = sample[0] })[name];
                min = Math.Min(min, values.Min());
                max = Math.Max(max, values.Max());
            }

            Assert.True(table.TryGet(name, out QuantizationParameters q), name);
            QuantizationParameters expected = QuantizationParameters.FromRange((float)min, (float)max);
            Assert.Equal(expected.ZeroPoint, q.ZeroPoint);
            Assert.Equal(expected.Scale, q.Scale, 1e-4 * expected.Scale);
        }
    }

    [Fact]
    public void PercentileAndMseClipOutliersThatMinMaxKeeps()
    {
        // 10 000 values in [0, 1] and one at 100.
        var counts = new long[2048];
        double min = 0, max = 100;
        var rng = new Random(3);
        for (int i = 0; i < 10_000; i++)
        {
            counts[(int)(rng.NextDouble() * 2048 / 100)]++;
        }

        counts[^1]++;
        (double plo, double phi) = Calibrator.PercentileRange(counts, min, max, 99.9);
        Assert.Equal(0, plo);
        Assert.InRange(phi, 0.9, 1.2);
        (double mlo, double mhi) = Calibrator.MseRange(counts, min, max);
        Assert.Equal(0, mlo);
        Assert.InRange(mhi, 1, 99);
        Assert.Equal((min, max), Calibrator.PercentileRange(counts, min, max, 100));
    }

    [Fact]
    public void BadSamplesAreRejectedNamingTheInput()
    {
        (NetworkGraph graph, _) = SmallNetwork();
        var e = Assert.Throws<ArgumentException>(() => Calibrator.Calibrate(graph, [[new float[5]]]));
        Assert.Contains("input 'x': 5 values", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => Calibrator.Calibrate(graph, []));
        Assert.Throws<ArgumentException>(() => Calibrator.Calibrate(graph, [[new float[192]]], CalibrationMethod.Percentile, percentile: 40));
    }
}
