using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Onnx;
using Kernels.Graph.Quantization;
using Kernels.Graph.Reference;
using Kernels.Graph.Zoo;
using Xunit;

namespace Kernels.Tests.Onnx;

/// <summary>
/// Export round trips: a graph written as ONNX (float, or QDQ with a calibrated table) and read back by the importer
/// computes the same outputs, recovers the same table and holds exactly the int8-rounded weights; the written model
/// is checked for what other runtimes need (opset, initializer types, every input defined before use).
/// </summary>
public sealed class OnnxExporterTests
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

    private static Constant Vector(string name, ConstantRole role, int n, int seed, float offset = 0f, float scale = 0.2f) =>
        new(name, role, [n], Random(n, seed, scale).Select(v => v + offset).ToArray());

    /// <summary>Every operator the zoo uses and a few more, at awkward sizes: a spatial Flatten before a fully connected layer, unfolded batch norm, LRN, concat, add.</summary>
    private static NetworkGraph Mixed()
    {
        var b = new GraphBuilder("mixed");
        Value x = b.Input("data", new TensorShape(1, 9, 7, 3));
        Value c1 = b.Conv(x, 8, 3, 1, 1, new Constant("c1/w", ConstantRole.Weights, [8, 3, 3, 3], Random(216, 1, 0.4f)), Vector("c1/b", ConstantRole.Bias, 8, 2), name: "c1");
        Value bn = b.BatchNormalization(
            c1, Vector("bn/g", ConstantRole.BatchNormScale, 8, 3, 1f), Vector("bn/b", ConstantRole.BatchNormBias, 8, 4),
            Vector("bn/m", ConstantRole.BatchNormMean, 8, 5), Vector("bn/v", ConstantRole.BatchNormVariance, 8, 6, 1f), 1e-3f, "bn");
        Value r6 = b.Relu6(bn, "r6");
        Value dw = b.Conv(r6, 8, 3, 2, 1, new Constant("dw/w", ConstantRole.Weights, [8, 3, 3, 1], Random(72, 7, 0.5f)), groups: 8, name: "dw");
        Value relu = b.Relu(dw, "relu");
        Value lrn = b.Lrn(relu, 3, 1e-3f, 0.75f, 1f, "lrn");
        Value avg = b.AveragePool(relu, 3, 1, 1, countIncludePad: true, name: "avg");
        Value cat = b.Concat([lrn, avg], "cat");
        Value pw = b.Conv(cat, 16, 1, 1, 0, new Constant("pw/w", ConstantRole.Weights, [16, 1, 1, 16], Random(256, 8, 0.3f)), name: "pw");
        Value sum = b.Add(pw, b.Conv(cat, 16, 1, 1, 0, new Constant("sc/w", ConstantRole.Weights, [16, 1, 1, 16], Random(256, 9, 0.3f)), name: "sc"), "sum");
        Value pool = b.MaxPool(sum, 2, 2, ceilMode: true, name: "pool");
        Value flat = b.Flatten(pool, "flat");
        Value drop = b.Dropout(flat, 0.5f, "drop");
        Value fc = b.FullyConnected(drop, 10, new Constant("fc/w", ConstantRole.Weights, [10, flat.Shape.C], Random(10L * flat.Shape.C, 10, 0.2f)), Vector("fc/b", ConstantRole.Bias, 10, 11), "fc");
        return b.Build(b.Softmax(fc, "prob"));
    }

    private static double RelativeL2(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double num = 0, den = 0;
        for (int i = 0; i < a.Count; i++)
        {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }

        return Math.Sqrt(num / den);
    }

    private static double Cosine(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Count; i++)
        {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }

        return ab / Math.Sqrt(aa * bb);
    }

    private static double[] RunOptimized(NetworkGraph graph, float[] input)
    {
        using var session = InferenceSession.Create(graph, new InferenceOptions());
        return session.Run(input).Select(v => (double)v).ToArray();
    }

    /// <summary>The structure other runtimes rely on; returns the parsed model.</summary>
    private static OnnxModel CheckStructure(byte[] bytes, bool quantized)
    {
        OnnxModel model = OnnxModel.Parse(bytes);
        Assert.Equal(OnnxExporter.Opset, model.OpsetVersion());
        Assert.Equal(OnnxExporter.IrVersion, model.IrVersion);
        var initializers = model.Graph.Initializers.ToDictionary(t => t.Name);
        Assert.Equal(initializers.Count, model.Graph.Initializers.Count);
        var defined = new HashSet<string>(model.Graph.Inputs.Select(i => i.Name).Concat(initializers.Keys));
        Assert.All(model.Graph.Inputs, i => Assert.Equal(OnnxDataType.Float, i.ElementType));
        var producers = new Dictionary<string, OnnxNode>();
        foreach (OnnxNode n in model.Graph.Nodes)
        {
            Assert.All(n.Inputs.Where(i => i.Length > 0), i => Assert.True(defined.Contains(i), $"node '{n.Name}' ({n.OpType}) reads '{i}' before it is defined"));
            foreach (string o in n.Outputs)
            {
                Assert.True(defined.Add(o), $"'{o}' is defined twice");
                producers[o] = n;
            }

            if (n.OpType is "Conv" or "Gemm")
            {
                // Weights: float initializers, or (QDQ) int8 per output channel behind DequantizeLinear along axis 0.
                string w = n.Inputs[1];
                if (!quantized)
                {
                    Assert.Equal(OnnxDataType.Float, initializers[w].DataType);
                    continue;
                }

                OnnxNode dq = producers[w];
                Assert.Equal("DequantizeLinear", dq.OpType);
                Assert.Equal(0, dq.FindAttribute("axis")!.Int);
                Assert.Equal(OnnxDataType.Int8, initializers[dq.Inputs[0]].DataType);
                Assert.Equal(OnnxDataType.Float, initializers[dq.Inputs[1]].DataType);
                Assert.Equal(initializers[dq.Inputs[0]].Dims[0], initializers[dq.Inputs[1]].ElementCount);
                Assert.Equal(OnnxDataType.Int8, initializers[dq.Inputs[2]].DataType);
                Assert.True(n.Inputs.Count < 3 || initializers[n.Inputs[2]].DataType == OnnxDataType.Float, "biases stay float");
            }

            if (n.OpType == "QuantizeLinear")
            {
                Assert.Equal(OnnxDataType.Float, initializers[n.Inputs[1]].DataType);
                Assert.Equal(OnnxDataType.UInt8, initializers[n.Inputs[2]].DataType);
                Assert.Equal(1, initializers[n.Inputs[1]].ElementCount);
            }
        }

        Assert.All(model.Graph.Outputs, o => Assert.True(defined.Contains(o.Name), $"output '{o.Name}' is not produced"));
        Assert.Equal(quantized, model.Graph.Nodes.Any(n => n.OpType == "QuantizeLinear"));
        return model;
    }

    /// <summary>What the exporter stores for weights [OC, ...]: int8 per output channel with scale max|w|/127, dequantized.</summary>
    private static float[] Int8Rounded(Constant c)
    {
        float[] w = c.Data.ToArray();
        int oc = c.Dimensions[0], per = w.Length / oc;
        var result = new float[w.Length];
        for (int o = 0; o < oc; o++)
        {
            float max = 0f;
            for (int i = 0; i < per; i++)
            {
                max = Math.Max(max, Math.Abs(w[(o * per) + i]));
            }

            float scale = max > 0 ? max / 127f : 1f;
            for (int i = 0; i < per; i++)
            {
                result[(o * per) + i] = Math.Clamp(MathF.Round(w[(o * per) + i] / scale), -127f, 127f) * scale;
            }
        }

        return result;
    }

    private static void FloatRoundTrip(NetworkGraph graph, bool reference)
    {
        byte[] bytes = OnnxExporter.ToBytes(graph, table: null);
        CheckStructure(bytes, quantized: false);
        OnnxImportedModel imported = OnnxImporter.ImportModel(OnnxModel.Parse(bytes));
        Assert.Null(imported.Quantization);
        Assert.Equal(graph.ParameterCount, imported.Graph.ParameterCount);

        float[] x = Random(graph.Inputs[0].Shape.ElementCount, 42);
        float[] onnxX = ToNchw(x, graph.Inputs[0].Shape);
        float[] internalX = imported.Inputs[0].ToInternal(onnxX);
        double[] expected = reference ? ReferenceExecutor.Run(graph, x) : RunOptimized(graph, x);
        double[] actual = reference ? ReferenceExecutor.Run(imported.Graph, internalX) : RunOptimized(imported.Graph, internalX);

        // The importer holds the NCHW output as the IR's NHWC again, so the buffers compare directly.
        Assert.Equal(graph.Outputs[0].Shape.ElementCount, actual.Length);
        double error = RelativeL2(actual, expected);
        Assert.True(error <= 1e-5, $"{graph.Name}: relative L2 {error:G3}");
    }

    private static void QdqRoundTrip(NetworkGraph graph, bool reference)
    {
        float[] x = Random(graph.Inputs[0].Shape.ElementCount, 42);
        QuantizationTable table = Calibrator.Calibrate(graph, [[x], [Random(x.Length, 43)]]);
        byte[] bytes = OnnxExporter.ToBytes(graph, table);
        CheckStructure(bytes, quantized: true);
        OnnxImportedModel imported = OnnxImporter.ImportModel(OnnxModel.Parse(bytes));

        // The table comes back exactly: same keys (IR value names), same scales and zero points.
        Assert.NotNull(imported.Quantization);
        Assert.Equal(
            table.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal),
            imported.Quantization!.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal));

        // Weights come back as exactly the int8-rounded values.
        foreach (Node n in graph.Nodes.Where(n => n.Kind is OperatorKind.Conv or OperatorKind.FullyConnected))
        {
            Node back = imported.Graph.GetNode(n.Name);
            Assert.True(Int8Rounded(n.Constants[0]).AsSpan().SequenceEqual(back.Constants[0].Data.Span), $"{graph.Name}: weights of '{n.Name}'");
            if (n.Constants.Count > 1)
            {
                Assert.True(n.Constants[1].Data.Span.SequenceEqual(back.Constants[1].Data.Span), $"{graph.Name}: bias of '{n.Name}'");
            }
        }

        // The float graph with int8-rounded weights stays close to the original.
        float[] internalX = imported.Inputs[0].ToInternal(ToNchw(x, graph.Inputs[0].Shape));
        double[] expected = reference ? ReferenceExecutor.Run(graph, x) : RunOptimized(graph, x);
        double[] actual = reference ? ReferenceExecutor.Run(imported.Graph, internalX) : RunOptimized(imported.Graph, internalX);
        double cosine = Cosine(actual, expected);
        Assert.True(cosine >= 0.99, $"{graph.Name}: cosine {cosine:F5}");
    }

    private static float[] ToNchw(float[] nhwc, TensorShape s)
    {
        var nchw = new float[nhwc.Length];
        for (int b = 0; b < s.N; b++)
        {
            for (int h = 0; h < s.H; h++)
            {
                for (int w = 0; w < s.W; w++)
                {
                    for (int c = 0; c < s.C; c++)
                    {
                        nchw[(((((b * s.C) + c) * s.H) + h) * s.W) + w] = nhwc[(((((b * s.H) + h) * s.W) + w) * s.C) + c];
                    }
                }
            }
        }

        return nchw;
    }

    [Fact]
    public void MixedOperatorsRoundTripInFloat() => FloatRoundTrip(Mixed(), reference: true);

    [Fact]
    public void MixedOperatorsRoundTripAsQdq() => QdqRoundTrip(Mixed(), reference: true);

    [Theory]
    [InlineData("squeezenet")]
    [InlineData("mobilenet")]
    public void ZooNetworksRoundTripInFloatOnTheReference(string name) => FloatRoundTrip(ModelZoo.Create(name), reference: true);

    [Theory]
    [InlineData("squeezenet")]
    [InlineData("mobilenet")]
    public void ZooNetworksRoundTripAsQdqOnTheReference(string name) => QdqRoundTrip(ModelZoo.Create(name), reference: true);

    [Theory]
    [InlineData("googlenet")]
    [InlineData("mobilenetv2")]
    [InlineData("resnet50")]
    public void LargerZooNetworksRoundTripOnTheOptimizedSession(string name)
    {
        NetworkGraph graph = ModelZoo.Create(name);
        FloatRoundTrip(graph, reference: false);
        QdqRoundTrip(graph, reference: false);
    }

    /// <summary>
    /// A second runtime: ONNX Runtime (tools/fetch-onnxruntime.sh) runs the exported float model to the same outputs
    /// and the QDQ model (which it executes with its own int8 operators) close to them.
    /// </summary>
    [OnnxRuntimeTheory]
    [InlineData("squeezenet")]
    [InlineData("mobilenet")]
    [InlineData("alexnet")]
    public void OnnxRuntimeRunsTheExportedModels(string name)
    {
        NetworkGraph graph = ModelZoo.Create(name);
        float[] x = Random(graph.Inputs[0].Shape.ElementCount, 42);
        double[] expected = RunOptimized(graph, x);
        QuantizationTable table = Calibrator.Calibrate(graph, [[x], [Random(x.Length, 43)]]);
        string dir = Directory.CreateTempSubdirectory("kernels-ort-").FullName;
        try
        {
            TensorShape s = graph.Inputs[0].Shape;
            string input = Path.Combine(dir, "input.f32");
            File.WriteAllBytes(input, System.Runtime.InteropServices.MemoryMarshal.AsBytes(ToNchw(x, s).AsSpan()).ToArray());
            foreach (bool quantized in new[] { false, true })
            {
                string model = Path.Combine(dir, quantized ? "qdq.onnx" : "float.onnx"), output = Path.Combine(dir, "output.f32");
                OnnxExporter.Export(graph, quantized ? table : null, model);
                OnnxRuntime.Run(model, input, [s.N, s.C, s.H, s.W], output);
                double[] actual = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray().Select(v => (double)v).ToArray();
                Assert.Equal(expected.Length, actual.Length);
                if (quantized)
                {
                    double cosine = Cosine(actual, expected);
                    Assert.True(cosine >= 0.99, $"{name} QDQ in ONNX Runtime: cosine {cosine:F5}");
                }
                else
                {
                    double error = RelativeL2(actual, expected);
                    Assert.True(error <= 1e-5, $"{name} in ONNX Runtime: relative L2 {error:G3}");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExportWritesAFileTheImporterReads()
    {
        NetworkGraph graph = Mixed();
        string path = Path.Combine(Path.GetTempPath(), $"kernels-export-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxExporter.Export(graph, null, path);
            OnnxImportedModel imported = OnnxImporter.LoadModel(path);
            Assert.Equal(graph.Outputs[0].Shape, imported.Graph.Outputs[0].Shape);
            Assert.Equal([1, 3, 9, 7], imported.Inputs[0].OnnxDims);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AnOperatorWithoutAnOnnxFormIsRejectedNamingTheNode()
    {
        var b = new GraphBuilder("q");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 3));
        Value y = b.Requantize(
            x, new Constant("m", ConstantRole.Scale, [3], [0.5f, 0.5f, 0.5f]), new Constant("z", ConstantRole.ZeroPoint, [3], [0f, 0f, 0f]), QuantizeAttributes.UInt8, "requant");
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.ToBytes(b.Build(y), null));
        Assert.Contains("'requant'", e.Message, StringComparison.Ordinal);
    }
}
