using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Quantization;
using Kernels.Graph.Zoo;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.Quantization;

/// <summary>
/// Whole zoo networks on the 8-bit path against the same network in float32: the logits (the classifier's input to
/// softmax, so a flat softmax cannot hide errors) on seeded inputs other than the calibration ones, cosine ≥ 0.99.
/// </summary>
public sealed class QuantizedSessionTests(ITestOutputHelper output)
{
    public static TheoryData<string> ZooNames => [.. ModelZoo.Names];

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

    /// <summary>The zoo network with its final softmax removed: the logits are the output.</summary>
    private static NetworkGraph Logits(string name)
    {
        NetworkGraph g = ModelZoo.Create(name);
        Node softmax = g.Nodes.Single(n => n.Kind == OperatorKind.Softmax);
        return new NetworkGraph(g.Name, g.Inputs, [softmax.Inputs[0]], g.Nodes.Where(n => !ReferenceEquals(n, softmax)).ToList());
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void Int8NetworkAgreesWithFloat(string name)
    {
        NetworkGraph graph = Logits(name);
        long size = graph.Inputs[0].Shape.ElementCount;
        var calibration = Enumerable.Range(0, 4).Select(s => new[] { Image(size, 100 + s) }).ToArray();
        QuantizationTable table = Calibrator.Calibrate(graph, calibration);
        using var fp32 = InferenceSession.Create(graph, new InferenceOptions());
        using var int8 = InferenceSession.Create(graph, new InferenceOptions { Quantization = table, Profile = true });
        Assert.True(int8.QuantizedLayers > 0, "no layer runs 8-bit");
        int convolutions = int8.Layers.Count(l => l.Operator.StartsWith("Conv", StringComparison.Ordinal));
        var floatConvolutions = int8.Layers.Where(l => l.Operator.StartsWith("Conv", StringComparison.Ordinal) && !l.Algorithm.StartsWith("q", StringComparison.Ordinal)).Select(l => $"{l.Name} ({l.Algorithm})").ToList();
        Assert.True(floatConvolutions.Count == 0, "convolutions stayed float: " + string.Join(", ", floatConvolutions));
        for (int s = 0; s < 2; s++)
        {
            float[] x = Image(size, 200 + s);
            float[] expected = fp32.Run(x), actual = int8.Run(x);
            double cosine = Cosine(expected, actual);
            output.WriteLine($"{name}: image {s}, cosine {cosine:F5}, {int8.QuantizedLayers} of {int8.LayerCount} steps 8-bit, {convolutions} convolutions");
            Assert.True(cosine >= 0.99, $"{name}: cosine {cosine:F5} between int8 and fp32 logits");
        }

        var conversions = int8.Profile.Where(l => l.IsConversion).ToList();
        Assert.Contains(conversions, l => l.Operator == "Quantize");
        Assert.Contains(conversions, l => l.Operator == "Dequantize");
        output.WriteLine($"{name}: conversions {string.Join(", ", conversions.Select(c => c.Name))}");
    }

    [Fact]
    public void FloatLayersStayFloat()
    {
        NetworkGraph graph = Logits("squeezenet");
        var calibration = new[] { new[] { Image(graph.Inputs[0].Shape.ElementCount, 7) } };
        QuantizationTable table = Calibrator.Calibrate(graph, calibration);
        using var all = InferenceSession.Create(graph, new InferenceOptions { Quantization = table });
        string first = all.Layers.First(l => l.Algorithm.StartsWith("q8-conv", StringComparison.Ordinal) || l.Operator.StartsWith("Conv", StringComparison.Ordinal)).Name;
        using var some = InferenceSession.Create(graph, new InferenceOptions { Quantization = table, FloatLayers = new HashSet<string> { first } });
        Assert.Equal(all.QuantizedLayers - 1, some.QuantizedLayers);
        Assert.DoesNotContain(some.Layers, l => l.Name == first && l.Algorithm.StartsWith("q", StringComparison.Ordinal));
    }
}
