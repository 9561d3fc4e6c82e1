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
            double cosine = QuantizationTuner.Cosine(expected, actual);
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

/// <summary><c>kernels quantize</c> writes a QDQ model whose imported table drives the 8-bit executor to the float network's answers.</summary>
public sealed class QdqRoundTripTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kernels-qdq-" + Guid.NewGuid().ToString("N"));

    public QdqRoundTripTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QuantizeCommandOutputRunsInt8AfterImport()
    {
        string path = Path.Combine(_dir, "squeezenet.qdq.onnx");
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = Kernels.Cli.Program.Run(["quantize", "squeezenet", "--out", path, "--samples", "2"], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());

        Kernels.Graph.Onnx.OnnxImportedModel model = Kernels.Graph.Onnx.OnnxImporter.LoadModel(path);
        Assert.NotNull(model.Quantization);
        using var int8 = InferenceSession.Create(model.Graph, new InferenceOptions { Quantization = model.Quantization });
        using var fp32 = InferenceSession.FromZoo("squeezenet");
        Assert.True(int8.QuantizedLayers > 20, $"{int8.QuantizedLayers} layers 8-bit");
        var rng = new Random(9);
        float[] x = Enumerable.Range(0, (int)fp32.InputShape.ElementCount).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] expected = fp32.Run(x), actual = int8.Run(model.Inputs[0].ToInternal(model.Inputs[0].IsOnnxOrder ? x : ToNchw(x, fp32.InputShape)));
        actual = model.Outputs[0].ToOnnx(actual);
        double cosine = QuantizationTuner.Cosine(expected, actual);
        Assert.True(cosine >= 0.99, $"cosine {cosine:F5}");
        Assert.Equal(2, Kernels.Cli.Program.Run(["quantize", "squeezenet", "--out", path, "--method", "median"], stdout, stderr));
    }

    private static float[] ToNchw(float[] nhwc, Kernels.Core.TensorShape s)
    {
        var r = new float[nhwc.Length];
        for (int h = 0; h < s.H; h++)
        for (int w = 0; w < s.W; w++)
        for (int c = 0; c < s.C; c++)
        {
            r[(((c * s.H) + h) * s.W) + w] = nhwc[(((h * s.W) + w) * s.C) + c];
        }

        return r;
    }
}

/// <summary>A concat of an activation and a constant zero tensor (channel padding, as TensorFlow exports it) keeps the activation's range.</summary>
public sealed class ConcatWithZerosTests
{
    /// <summary>
    /// A value that is both a concat input and read by a layer of the other precision: its conversion reads it
    /// densely, so it must not become a strided slice of the concat (BlazeFace's channel-padding skips with the
    /// next depthwise layer 8-bit and the rest float gave cosine 0.06 before this was fixed).
    /// </summary>
    [Fact]
    public void ConvertedConcatInputIsNotASlice()
    {
        var b = new GraphBuilder("skip-pad");
        Value x = b.Input("x", new Kernels.Core.TensorShape(1, 6, 6, 8));
        var rng = new Random(4);
        Constant Weights(string name, int oc, int ic) =>
            new(name, ConstantRole.Weights, [oc, 1, 1, ic], Enumerable.Range(0, oc * ic).Select(_ => (float)(rng.NextDouble() - 0.3)).ToArray());
        Value relu = b.Relu(b.Conv(x, 8, 1, 1, 0, Weights("w0", 8, 8), name: "c0"), "relu");
        Value zeros = b.ConstantTensor(new Constant("zeros", ConstantRole.Tensor, [1, 6, 6, 4], new float[144]), new Kernels.Core.TensorShape(1, 6, 6, 4), "zeros");
        Value padded = b.Concat([relu, zeros], "pad");
        Value branch = b.Conv(relu, 12, 1, 1, 0, Weights("w1", 12, 8), name: "branch");
        Value y = b.Add(padded, branch, "sum");
        NetworkGraph graph = b.Build(y);
        float[] Input(int seed)
        {
            var r = new Random(seed);
            return Enumerable.Range(0, 288).Select(_ => (float)r.NextDouble()).ToArray();
        }

        QuantizationTable table = Calibrator.Calibrate(graph, [[Input(1)], [Input(2)]]);
        using var fp32 = InferenceSession.Create(graph, new InferenceOptions());
        float[] a = fp32.Run(Input(3));

        // Only the branch 8-bit (relu is quantized for it), then only the concat side 8-bit (relu dequantized for the branch).
        foreach (string[] floats in new[] { new[] { "c0", "pad", "zeros", "sum" }, new[] { "branch", "sum" } })
        {
            using var mixed = InferenceSession.Create(graph, new InferenceOptions { Quantization = table, FloatLayers = floats.ToHashSet() });
            Assert.True(mixed.QuantizedLayers > 0);
            double cosine = QuantizationTuner.Cosine(a, mixed.Run(Input(3)));
            Assert.True(cosine >= 0.999, $"float layers {string.Join(",", floats)}: cosine {cosine:F5}");
        }
    }

    [Fact]
    public void ZeroConstantDoesNotWidenTheSharedRange()
    {
        var b = new GraphBuilder("pad-channels");
        Value x = b.Input("x", new Kernels.Core.TensorShape(1, 8, 8, 4));
        var rng = new Random(2);
        Value relu = b.Relu(b.Conv(x, 4, 1, 1, 0, new Constant("w0", ConstantRole.Weights, [4, 1, 1, 4], Enumerable.Range(0, 16).Select(_ => (float)(rng.NextDouble() * 0.2)).ToArray()), name: "c0"), "relu");
        Value zeros = b.ConstantTensor(new Constant("zeros", ConstantRole.Tensor, [1, 8, 8, 2], new float[128]), new Kernels.Core.TensorShape(1, 8, 8, 2), "zeros");
        Value concat = b.Concat([relu, zeros], "concat");
        Value y = b.Conv(concat, 3, 1, 1, 0, new Constant("w1", ConstantRole.Weights, [3, 1, 1, 6], Enumerable.Range(0, 18).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()), name: "head");
        NetworkGraph graph = b.Build(y);
        float[] Input(int seed)
        {
            var r = new Random(seed);
            return Enumerable.Range(0, 256).Select(_ => (float)r.NextDouble()).ToArray();
        }

        QuantizationTable table = Calibrator.Calibrate(graph, [[Input(1)], [Input(2)]]);
        Assert.Equal((0f, 0f), table.Ranges["zeros"]);
        using var int8 = InferenceSession.Create(graph, new InferenceOptions { Quantization = table });
        using var fp32 = InferenceSession.Create(graph, new InferenceOptions());
        Assert.True(int8.QuantizedLayers >= 3, $"{int8.QuantizedLayers} layers 8-bit");
        double cosine = QuantizationTuner.Cosine(fp32.Run(Input(3)), int8.Run(Input(3)));

        // With the zeros' placeholder scale of 1 joined in, the relu's [0, ~0.4] range would be one or two steps.
        Assert.True(cosine >= 0.999, $"cosine {cosine:F5}");
    }
}
