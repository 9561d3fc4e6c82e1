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
            .. Bytes(1, NodeProto("cat", "Concat", ["x", "x"], ["y"], IntAttribute("axis", 2))), .. Str(2, "g"),
            .. Bytes(11, ValueInfo("x", 1, 2, 3, 3)), .. Bytes(12, ValueInfo("y", 1, 2, 6, 3)),
        ];
        var e = Assert.Throws<NotSupportedException>(() => OnnxImporter.Import(OnnxModel.Parse(Model(graph))));
        Assert.Contains("'cat' (Concat)", e.Message);
        Assert.Contains("axis 2", e.Message);
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
}
