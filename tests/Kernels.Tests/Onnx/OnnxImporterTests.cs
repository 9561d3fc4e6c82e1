using System.Text;
using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Xunit;

namespace Kernels.Tests.Onnx;

/// <summary>Importer behaviour on hand-built models: layout mapping, unsupported operators, malformed files.</summary>
public sealed class OnnxImporterTests
{
    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Bytes(int field, byte[] payload) =>
        [.. Varint(((ulong)field << 3) | 2), .. Varint((ulong)payload.Length), .. payload];

    private static byte[] Str(int field, string text) => Bytes(field, Encoding.UTF8.GetBytes(text));

    private static byte[] Int(int field, long value) => [.. Varint((ulong)field << 3), .. Varint((ulong)value)];

    /// <summary>A float ValueInfoProto with static dims.</summary>
    private static byte[] ValueInfo(string name, params long[] dims)
    {
        byte[] shape = dims.SelectMany(d => Bytes(1, Int(1, d))).ToArray();
        byte[] tensorType = [.. Int(1, 1), .. Bytes(2, shape)];
        return [.. Str(1, name), .. Bytes(2, Bytes(1, tensorType))];
    }

    private static byte[] Initializer(string name, long[] dims, float[] data)
    {
        var raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length);
        return [.. dims.SelectMany(d => Int(1, d)), .. Int(2, 1), .. Str(8, name), .. Bytes(9, raw)];
    }

    private static byte[] NodeProto(string name, string op, string[] inputs, string[] outputs, params byte[][] attributes) =>
        [.. inputs.SelectMany(i => Str(1, i)), .. outputs.SelectMany(o => Str(2, o)), .. Str(3, name), .. Str(4, op),
         .. attributes.SelectMany(a => Bytes(5, a))];

    private static byte[] IntAttribute(string name, long value) => [.. Str(1, name), .. Int(3, value), .. Int(20, 2)];

    private static byte[] IntsAttribute(string name, params long[] values) => [.. Str(1, name), .. values.SelectMany(v => Int(8, v)), .. Int(20, 7)];

    private static byte[] Int64Initializer(string name, params long[] values)
    {
        var raw = new byte[values.Length * 8];
        Buffer.BlockCopy(values, 0, raw, 0, raw.Length);
        return [.. Int(1, values.Length), .. Int(2, 7), .. Str(8, name), .. Bytes(9, raw)];
    }

    private static float[] Wave(int count, float scale) => Enumerable.Range(0, count).Select(i => MathF.Sin((i * scale) + 0.3f)).ToArray();

    /// <summary>Imports a model, runs it on the reference and on the optimized session, checks both against <paramref name="expected"/> (ONNX order).</summary>
    private static OnnxImportedModel RunBoth(byte[] graph, float[] x, double[] expected, double tolerance = 1e-5)
    {
        OnnxImportedModel imported = OnnxImporter.ImportModel(OnnxModel.Parse(Model(graph)));
        float[] internalX = imported.Inputs[0].ToInternal(x);
        double[] reference = imported.Outputs[0].ToOnnx(
            ReferenceExecutor.Run(imported.Graph, new Dictionary<string, float[]> { [imported.Inputs[0].Value.Name] = internalX })[imported.Outputs[0].Value.Name]);
        using var session = Kernels.Graph.Execution.InferenceSession.Create(imported.Graph, new Kernels.Graph.Execution.InferenceOptions());
        float[] optimized = imported.Outputs[0].ToOnnx(session.Run(internalX));
        Assert.Equal(expected.Length, reference.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"reference [{i}] = {reference[i]}, expected {expected[i]}");
            Assert.True(Math.Abs(optimized[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"optimized [{i}] = {optimized[i]}, expected {expected[i]}");
        }

        return imported;
    }

    private static byte[] Model(byte[] graph) =>
        [.. Int(1, 8), .. Bytes(8, Int(2, 13)), .. Bytes(7, graph)];

    [Fact]
    public void UnsupportedOperator_NamesNodeAndOperator()
    {
        byte[] graph =
        [
            .. Bytes(1, NodeProto("my_tanh", "Tanh", ["x"], ["y"])), .. Str(2, "g"),
            .. Bytes(11, ValueInfo("x", 1, 4)), .. Bytes(12, ValueInfo("y", 1, 4)),
        ];
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Import(OnnxModel.Parse(Model(graph))));
        Assert.Contains("my_tanh", e.Message);
        Assert.Contains("(Tanh)", e.Message);
    }

    [Fact]
    public void UnsupportedAttribute_RaisedAtImport()
    {
        byte[] graph =
        [
            .. Bytes(1, NodeProto("pool", "MaxPool", ["x"], ["y"], IntsAttribute("kernel_shape", 2, 2), IntsAttribute("dilations", 2, 2))), .. Str(2, "g"),
            .. Bytes(11, ValueInfo("x", 1, 2, 6, 6)), .. Bytes(12, ValueInfo("y", 1, 2, 4, 4)),
        ];
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Import(OnnxModel.Parse(Model(graph))));
        Assert.Contains("'pool' (MaxPool)", e.Message);
        Assert.Contains("dilations [2, 2]", e.Message);
    }

    [Fact]
    public void DynamicInputShape_NotSupported()
    {
        byte[] shape = Bytes(1, Str(2, "batch"));
        byte[] tensorType = [.. Int(1, 1), .. Bytes(2, [.. shape, .. Bytes(1, Int(1, 4))])];
        byte[] input = [.. Str(1, "x"), .. Bytes(2, Bytes(1, tensorType))];
        byte[] graph = [.. Bytes(1, NodeProto("r", "Relu", ["x"], ["y"])), .. Str(2, "g"), .. Bytes(11, input), .. Bytes(12, ValueInfo("y", 1, 4))];
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Import(OnnxModel.Parse(Model(graph))));
        Assert.Contains("'r' (Relu)", e.Message);
        Assert.Contains("dynamic", e.Message);
    }

    [Fact]
    public void TruncatedFile_InvalidData()
    {
        byte[] graph = [.. Bytes(1, NodeProto("r", "Relu", ["x"], ["y"])), .. Str(2, "g"), .. Bytes(11, ValueInfo("x", 1, 4))];
        byte[] model = Model(graph);
        string path = Path.Combine(Path.GetTempPath(), $"kernels-truncated-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model[..^5]);
        try
        {
            Assert.Throws<InvalidDataException>(() => OnnxImporter.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Flatten of an N×C×H×W tensor then Gemm: the IR flattens in NHWC order, so the importer must permute the Gemm
    /// weight columns; compares with the product computed in ONNX order.
    /// </summary>
    [Fact]
    public void FlattenThenGemm_PermutesWeightColumns()
    {
        const int c = 3, h = 2, w = 2, k = c * h * w, outputs = 4;
        float[] weights = Enumerable.Range(0, outputs * k).Select(i => MathF.Sin(i * 0.7f)).ToArray();
        float[] bias = [0.5f, -1f, 2f, 0.25f];
        byte[] graph =
        [
            .. Bytes(1, NodeProto("flat", "Flatten", ["x"], ["f"])),
            .. Bytes(1, NodeProto("fc", "Gemm", ["f", "W", "B"], ["y"], IntAttribute("transB", 1))),
            .. Str(2, "g"),
            .. Bytes(5, Initializer("W", [outputs, k], weights)),
            .. Bytes(5, Initializer("B", [outputs], bias)),
            .. Bytes(11, ValueInfo("x", 1, c, h, w)), .. Bytes(12, ValueInfo("y", 1, outputs)),
        ];
        OnnxImportedModel imported = OnnxImporter.ImportModel(OnnxModel.Parse(Model(graph)));
        Assert.Equal(new TensorShape(1, h, w, c), imported.Graph.Inputs[0].Shape);

        float[] x = Enumerable.Range(0, k).Select(i => (i * 0.37f) - 2f).ToArray();
        var feeds = new Dictionary<string, float[]> { [imported.Inputs[0].Value.Name] = imported.Inputs[0].ToInternal(x) };
        double[] y = imported.Outputs[0].ToOnnx(ReferenceExecutor.Run(imported.Graph, feeds)[imported.Outputs[0].Value.Name]);
        for (int o = 0; o < outputs; o++)
        {
            double expected = bias[o];
            for (int i = 0; i < k; i++)
            {
                expected += (double)weights[(o * k) + i] * x[i];
            }

            Assert.Equal(expected, y[o], 1e-5);
        }
    }

    /// <summary>
    /// The pattern of a model exported from NHWC (TensorFlow): Transpose to NCHW, Conv, Transpose back, Reshape. The
    /// importer lays the input out so both transposes and the reshape cost nothing: one executed layer.
    /// </summary>
    [Fact]
    public void NhwcExportedTransposePairFolds()
    {
        const int h = 5, w = 6, c = 3, m = 4;
        float[] weights = Wave(m * c * 9, 0.41f), bias = [0.1f, -0.2f, 0.3f, 0f];
        byte[] graph =
        [
            .. Bytes(1, NodeProto("to_nchw", "Transpose", ["x"], ["t"], IntsAttribute("perm", 0, 3, 1, 2))),
            .. Bytes(1, NodeProto("conv", "Conv", ["t", "W", "B"], ["c"], IntsAttribute("kernel_shape", 3, 3), IntsAttribute("pads", 1, 1, 1, 1))),
            .. Bytes(1, NodeProto("to_nhwc", "Transpose", ["c"], ["n"], IntsAttribute("perm", 0, 2, 3, 1))),
            .. Bytes(1, NodeProto("rows", "Reshape", ["n", "shape"], ["y"])),
            .. Str(2, "g"),
            .. Bytes(5, Initializer("W", [m, c, 3, 3], weights)),
            .. Bytes(5, Initializer("B", [m], bias)),
            .. Bytes(5, Int64Initializer("shape", 1, -1, m)),
            .. Bytes(11, ValueInfo("x", 1, h, w, c)), .. Bytes(12, ValueInfo("y", 1, h * w, m)),
        ];
        float[] x = Wave(h * w * c, 0.23f);
        var expected = new double[h * w * m];
        for (int p = 0; p < h; p++)
        for (int q = 0; q < w; q++)
        for (int o = 0; o < m; o++)
        {
            double sum = bias[o];
            for (int i = 0; i < c; i++)
            for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++)
            {
                int ih = p + kh - 1, iw = q + kw - 1;
                if (ih >= 0 && ih < h && iw >= 0 && iw < w)
                {
                    sum += (double)weights[(((o * c) + i) * 9) + (kh * 3) + kw] * x[(((ih * w) + iw) * c) + i];
                }
            }

            expected[(((p * w) + q) * m) + o] = sum;
        }

        OnnxImportedModel imported = RunBoth(graph, x, expected);
        Assert.Equal(new TensorShape(1, h, w, c), imported.Graph.Inputs[0].Shape);
        Assert.True(imported.Inputs[0].IsOnnxOrder);
        Assert.True(imported.Outputs[0].IsOnnxOrder);
        Assert.Equal(0, imported.Graph.Nodes.Count(n => n.Kind is not (OperatorKind.Conv or OperatorKind.Reshape)));
    }

    /// <summary>[2, 3, 4] × [4, 5]: one product per row of the leading axes.</summary>
    [Fact]
    public void MatMulOfARank3Activation()
    {
        float[] b = Wave(20, 0.7f), x = Wave(24, 0.19f);
        byte[] graph =
        [
            .. Bytes(1, NodeProto("mm", "MatMul", ["x", "B"], ["y"])), .. Str(2, "g"),
            .. Bytes(5, Initializer("B", [4, 5], b)),
            .. Bytes(11, ValueInfo("x", 2, 3, 4)), .. Bytes(12, ValueInfo("y", 2, 3, 5)),
        ];
        var expected = new double[30];
        for (int r = 0; r < 6; r++)
        for (int j = 0; j < 5; j++)
        {
            for (int k = 0; k < 4; k++)
            {
                expected[(r * 5) + j] += (double)x[(r * 4) + k] * b[(k * 5) + j];
            }
        }

        RunBoth(graph, x, expected);
    }

    /// <summary>
    /// Concat along H of an N×C×H×W tensor (not the IR's channel axis), with a ConstantOfShape zero block, and a
    /// PyTorch-style flatten whose shape is computed from Shape, Gather, Unsqueeze and Concat (folded at import).
    /// </summary>
    [Fact]
    public void ConcatAlongHeightAndShapeArithmeticFold()
    {
        const int c = 2, h = 3, w = 2;
        float[] x = Wave(c * h * w, 0.5f);
        byte[] graph =
        [
            .. Bytes(1, NodeProto("zeros", "ConstantOfShape", ["zshape"], ["z"])),
            .. Bytes(1, NodeProto("cat", "Concat", ["x", "z"], ["cat"], IntAttribute("axis", 2))),
            .. Bytes(1, NodeProto("shape", "Shape", ["cat"], ["s"])),
            .. Bytes(1, NodeProto("batch", "Gather", ["s", "zero"], ["n"], IntAttribute("axis", 0))),
            .. Bytes(1, NodeProto("n1", "Unsqueeze", ["n", "axes"], ["n1"])),
            .. Bytes(1, NodeProto("target", "Concat", ["n1", "minus1"], ["target"], IntAttribute("axis", 0))),
            .. Bytes(1, NodeProto("flat", "Reshape", ["cat", "target"], ["y"])),
            .. Str(2, "g"),
            .. Bytes(5, Int64Initializer("zshape", 1, c, 1, w)),
            .. Bytes(5, [.. Int(2, 7), .. Str(8, "zero"), .. Bytes(9, new byte[8])]),
            .. Bytes(5, Int64Initializer("axes", 0)),
            .. Bytes(5, Int64Initializer("minus1", -1)),
            .. Bytes(11, ValueInfo("x", 1, c, h, w)), .. Bytes(12, ValueInfo("y", 1, c * (h + 1) * w)),
        ];
        var expected = new double[c * (h + 1) * w];
        for (int ch = 0; ch < c; ch++)
        for (int r = 0; r < h; r++)
        for (int q = 0; q < w; q++)
        {
            expected[(((ch * (h + 1)) + r) * w) + q] = x[(((ch * h) + r) * w) + q];
        }

        RunBoth(graph, x, expected);
    }
}
