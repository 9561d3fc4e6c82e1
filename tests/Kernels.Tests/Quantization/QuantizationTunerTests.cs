using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Quantization;
using Kernels.Graph.Zoo;
using Xunit;

namespace Kernels.Tests.Quantization;

public sealed class QuantizationTunerTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kernels-tune-" + Guid.NewGuid().ToString("N"));

    public QuantizationTunerTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Image(long count, int seed)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)rng.NextDouble();
        }

        return values;
    }

    [Fact]
    public void PlanMeetsTheBudgetItReportsAndRoundTripsThroughItsFile()
    {
        NetworkGraph graph = ModelZoo.Create("squeezenet");
        long size = graph.Inputs[0].Shape.ElementCount;
        QuantizationTable table = Calibrator.Calibrate(graph, [[Image(size, 1)], [Image(size, 2)]]);
        var validation = new[] { Image(size, 3), Image(size, 4) };

        // A generous budget keeps everything 8-bit; the reported error is the one measured with that plan.
        QuantizationPlan loose = QuantizationTuner.Tune(graph, table, validation, 0.5, timingRuns: 3);
        Assert.Empty(loose.FloatLayers);
        Assert.All(loose.Layers, l => Assert.True(l.Int8));
        Assert.True(loose.Error <= 0.5);

        // A budget below what all-8-bit gives must send layers back to float, and the result must be within it.
        double tight = loose.Error / 4;
        QuantizationPlan strict = QuantizationTuner.Tune(graph, table, validation, tight, timingRuns: 3);
        Assert.NotEmpty(strict.FloatLayers);
        Assert.True(strict.Error <= tight, $"error {strict.Error} over budget {tight}");
        using (var session = InferenceSession.Create(graph, new InferenceOptions { Quantization = table, FloatLayers = strict.FloatLayers }))
        using (var reference = InferenceSession.Create(graph, new InferenceOptions()))
        {
            double measured = validation.Average(x =>
            {
                float[] a = session.Run(x), b = reference.Run(x);
                double dot = 0, na = 0, nb = 0;
                for (int i = 0; i < a.Length; i++)
                {
                    dot += (double)a[i] * b[i];
                    na += (double)a[i] * a[i];
                    nb += (double)b[i] * b[i];
                }

                return 1 - (dot / Math.Sqrt(na * nb));
            });
            Assert.Equal(strict.Error, measured, 1e-9);
        }

        string path = Path.Combine(_dir, "plan.json");
        strict.Save(path);
        (QuantizationTable loadedTable, IReadOnlySet<string> floats) = QuantizationPlan.Load(path);
        Assert.Equal(strict.FloatLayers.Order(), floats.Order());
        Assert.Equal(table.Parameters.Count, loadedTable.Parameters.Count);
        foreach ((string name, QuantizationParameters q) in table.Parameters)
        {
            Assert.Equal(q, loadedTable.Parameters[name]);
        }
    }

    [Fact]
    public void MultiOutputErrorIsTheWorstOutputs()
    {
        var b = new GraphBuilder("two-heads");
        Value x = b.Input("x", new TensorShape(1, 12, 12, 8));
        var rng = new Random(4);
        Constant W(string name, int o, int k, int i) => new(name, ConstantRole.Weights, [o, k, k, i], Enumerable.Range(0, o * k * k * i).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());
        Value trunk = b.Relu(b.Conv(x, 16, 3, 1, 1, W("w0", 16, 3, 8), name: "trunk"), "trunk_relu");
        Value head1 = b.Conv(trunk, 4, 1, 1, 0, W("w1", 4, 1, 16), name: "head1");
        Value head2 = b.Conv(b.Relu(b.Conv(trunk, 16, 3, 1, 1, W("w2", 16, 3, 16), name: "mid"), "mid_relu"), 6, 1, 1, 0, W("w3", 6, 1, 16), name: "head2");
        NetworkGraph graph = b.Build(head1, head2);
        long size = x.Shape.ElementCount;
        QuantizationTable table = Calibrator.Calibrate(graph, [[Image(size, 1)], [Image(size, 2)]]);
        float[][] validation = [Image(size, 3), Image(size, 4)];
        QuantizationPlan plan = QuantizationTuner.Tune(graph, table, validation, 0.5, timingRuns: 3);

        using var session = InferenceSession.Create(graph, new InferenceOptions { Quantization = table, FloatLayers = plan.FloatLayers });
        using var reference = InferenceSession.Create(graph, new InferenceOptions());
        double expected = validation.Average(v =>
        {
            float[][] a = [new float[4 * 144], new float[6 * 144]], r = [new float[4 * 144], new float[6 * 144]];
            session.Run([v], a.Select(o => (Memory<float>)o).ToArray());
            reference.Run([v], r.Select(o => (Memory<float>)o).ToArray());
            return Enumerable.Range(0, 2).Max(k => 1 - QuantizationTuner.Cosine(a[k], r[k]));
        });
        Assert.Equal(expected, plan.Error, 1e-9);
        Assert.True(plan.Error <= 0.5);
    }


    [Fact]
    public void BadBudgetAndBadPlanFilesAreRejected()
    {
        NetworkGraph graph = ModelZoo.Create("squeezenet");
        QuantizationTable table = new(new Dictionary<string, QuantizationParameters>(), CalibrationMethod.MinMax, 0);
        float[] x = new float[graph.Inputs[0].Shape.ElementCount];
        Assert.Contains("(0, 1)", Assert.Throws<ArgumentException>(() => QuantizationTuner.Tune(graph, table, [x], 1.0)).Message, StringComparison.Ordinal);
        Assert.Contains("validation input 0", Assert.Throws<ArgumentException>(() => QuantizationTuner.Tune(graph, table, [new float[3]], 0.1)).Message, StringComparison.OrdinalIgnoreCase);
        string path = Path.Combine(_dir, "bad.json");
        File.WriteAllText(path, "{\"version\": 1, \"floatLayers\": []}");
        Assert.Throws<InvalidDataException>(() => QuantizationPlan.Load(path));
        File.WriteAllText(path, "{\"version\": 1, \"floatLayers\": [], \"calibrationMethod\": \"MinMax\", \"calibrationSamples\": 1, \"tensors\": {\"x\": {\"scale\": -1, \"zeroPoint\": 0}}}");
        Assert.Contains("'x'", Assert.Throws<InvalidDataException>(() => QuantizationPlan.Load(path)).Message, StringComparison.Ordinal);
    }
}
