using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Xunit;

namespace Kernels.Tests.Onnx;

/// <summary>QDQ import on hand-built models: folding, the recovered table, dequantized weights, and bad parameters.</summary>
public sealed class OnnxQdqImportTests
{
    private static readonly float[] WeightScales = [0.02f, 0.005f, 0.0625f];

    private static readonly sbyte[] QuantizedWeights = [-127, 3, 64, -1, 0, 127];

    private static OnnxProtoMessage FloatScalar(string name, float value) => OnnxProto.FloatTensor(name, [], [value]);

    private static OnnxProtoMessage Node(string op, string[] inputs, string output, params OnnxProtoMessage[] attributes) =>
        OnnxProto.Node(output, op, inputs, [output], attributes);

    private static OnnxModel Model(IEnumerable<OnnxProtoMessage> nodes, IEnumerable<OnnxProtoMessage> initializers, string output, long[] outputDims, OnnxDataType outputType = OnnxDataType.Float) =>
        OnnxModel.Parse(OnnxProto.Model(
            OnnxProto.Graph("qdq", nodes, initializers, [OnnxProto.ValueInfo("x", OnnxDataType.Float, [1, 2, 4, 4])], [OnnxProto.ValueInfo(output, outputType, outputDims)]),
            7, 13, "test"));

    /// <summary>
    /// x → Q/DQ (uint8) → Conv (int8 weights per channel behind DequantizeLinear) → Relu → Q/DQ (int8) → GlobalAveragePool,
    /// with optional changes to the second pair's dequantize side and to the weights' scales.
    /// </summary>
    private static OnnxModel QdqModel(float reluDequantScale = 0.1f, int reluDequantZeroPoint = -10, float[]? weightScales = null, float inputScale = 0.05f)
    {
        OnnxProtoMessage[] initializers =
        [
            FloatScalar("x_scale", inputScale),
            OnnxProto.UInt8Tensor("x_zp", [], [128]),
            OnnxProto.Int8Tensor("w_q", [3, 2, 1, 1], QuantizedWeights),
            OnnxProto.FloatTensor("w_scale", [(weightScales ?? WeightScales).Length], weightScales ?? WeightScales),
            OnnxProto.Int8Tensor("w_zp", [(weightScales ?? WeightScales).Length], new sbyte[(weightScales ?? WeightScales).Length]),
            OnnxProto.FloatTensor("bias", [3], [0.5f, -0.25f, 0.125f]),
            FloatScalar("r_scale", 0.1f),
            OnnxProto.Int8Tensor("r_zp", [], [-10]),
            FloatScalar("r_scale_dq", reluDequantScale),
            OnnxProto.Int8Tensor("r_zp_dq", [], [(sbyte)reluDequantZeroPoint]),
        ];
        OnnxProtoMessage[] nodes =
        [
            Node("QuantizeLinear", ["x", "x_scale", "x_zp"], "x_q"),
            Node("DequantizeLinear", ["x_q", "x_scale", "x_zp"], "x_dq"),
            Node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], "w", OnnxProto.IntAttribute("axis", 0)),
            Node("Conv", ["x_dq", "w", "bias"], "conv"),
            Node("Relu", ["conv"], "relu"),
            Node("QuantizeLinear", ["relu", "r_scale", "r_zp"], "relu_q"),
            Node("DequantizeLinear", ["relu_q", "r_scale_dq", "r_zp_dq"], "relu_dq"),
            Node("GlobalAveragePool", ["relu_dq"], "y"),
        ];
        return Model(nodes, initializers, "y", [1, 3, 1, 1]);
    }

    private static float[] Input() => Enumerable.Range(0, 32).Select(i => MathF.Sin(i * 0.7f) * 3f).ToArray();

    [Fact]
    public void QdqPairsFoldIntoTheFloatGraphAndTheirParametersIntoTheTable()
    {
        OnnxImportedModel imported = OnnxImporter.ImportModel(QdqModel());

        Assert.Equal([OperatorKind.Conv, OperatorKind.Relu, OperatorKind.GlobalAveragePool], imported.Graph.Nodes.Select(n => n.Kind));
        Assert.NotNull(imported.Quantization);
        var table = imported.Quantization!.Parameters;
        Assert.Equal(2, table.Count);
        Assert.Equal(new QuantizationParameters(0.05f, 128, DataType.UInt8), table["x"]);

        // int8 zero point -10 is uint8 118 at the same scale.
        Assert.Equal(new QuantizationParameters(0.1f, 118, DataType.UInt8), table["relu"]);

        // Every key is a value the planner sees: a graph input or a node's output.
        var values = imported.Graph.Inputs.Concat(imported.Graph.Nodes.Select(n => n.Output)).Select(v => v.Name).ToHashSet();
        Assert.All(table.Keys, k => Assert.Contains(k, values));
    }

    [Fact]
    public void DequantizedWeightsAreExactlyTheIntegersTimesTheirChannelScale()
    {
        OnnxImportedModel imported = OnnxImporter.ImportModel(QdqModel());
        float[] w = imported.Graph.GetNode("conv").Constants[0].Data.ToArray();

        // 1x1 kernels: OHWI and OIHW orders agree.
        float[] expected = QuantizedWeights.Select((q, i) => q * WeightScales[i / 2]).ToArray();
        Assert.Equal(expected, w);
    }

    [Fact]
    public void TheFoldedModelComputesWhatTheFloatModelWithDequantizedWeightsComputes()
    {
        OnnxImportedModel qdq = OnnxImporter.ImportModel(QdqModel());
        float[] weights = QuantizedWeights.Select((q, i) => q * WeightScales[i / 2]).ToArray();
        OnnxModel floatModel = Model(
            [Node("Conv", ["x", "w", "bias"], "conv"), Node("Relu", ["conv"], "relu"), Node("GlobalAveragePool", ["relu"], "y")],
            [OnnxProto.FloatTensor("w", [3, 2, 1, 1], weights), OnnxProto.FloatTensor("bias", [3], [0.5f, -0.25f, 0.125f])],
            "y",
            [1, 3, 1, 1]);
        OnnxImportedModel plain = OnnxImporter.ImportModel(floatModel);
        Assert.Null(plain.Quantization);

        float[] x = Input();
        double[] a = ReferenceExecutor.Run(qdq.Graph, qdq.Inputs[0].ToInternal(x));
        double[] b = ReferenceExecutor.Run(plain.Graph, plain.Inputs[0].ToInternal(x));
        Assert.Equal(b, a);
    }

    [Fact]
    public void FloatWeightsBehindAQdqPairAreQuantizedAtImport()
    {
        float[] weights = [0.31f, -0.07f, 0.5f, 0.012f, -0.9f, 0.25f];
        float[] scales = [0.01f, 0.004f, 0.008f];
        OnnxModel model = Model(
            [
                Node("QuantizeLinear", ["w_float", "w_scale", "w_zp"], "w_q", OnnxProto.IntAttribute("axis", 0)),
                Node("DequantizeLinear", ["w_q", "w_scale", "w_zp"], "w", OnnxProto.IntAttribute("axis", 0)),
                Node("Conv", ["x", "w"], "y"),
            ],
            [OnnxProto.FloatTensor("w_float", [3, 2, 1, 1], weights), OnnxProto.FloatTensor("w_scale", [3], scales), OnnxProto.Int8Tensor("w_zp", [3], [0, 0, 0])],
            "y",
            [1, 3, 4, 4]);
        OnnxImportedModel imported = OnnxImporter.ImportModel(model);
        Assert.Null(imported.Quantization);

        // round_half_even(w / s) saturated to int8, times s: -0.9 / 0.008 = -112.5 rounds to -112.
        float[] expected = weights.Select((w, i) => Math.Clamp(MathF.Round(w / scales[i / 2]), -128f, 127f) * scales[i / 2]).ToArray();
        Assert.Equal(-112f * 0.008f, expected[4]);
        Assert.Equal(expected, imported.Graph.GetNode("y").Constants[0].Data.ToArray());
    }

    [Fact]
    public void AnInt32BiasBehindDequantizeLinearBecomesItsExactFloatValues()
    {
        float[] biasScales = [0.001f, 0.0025f, 0.0004f];
        int[] bias = [1000, -77, 123456];
        OnnxModel model = Model(
            [
                Node("DequantizeLinear", ["w_q", "w_scale"], "w", OnnxProto.IntAttribute("axis", 0)),
                Node("DequantizeLinear", ["b_q", "b_scale"], "b", OnnxProto.IntAttribute("axis", 0)),
                Node("Conv", ["x", "w", "b"], "y"),
            ],
            [
                OnnxProto.Int8Tensor("w_q", [3, 2, 1, 1], QuantizedWeights), OnnxProto.FloatTensor("w_scale", [3], WeightScales),
                OnnxProto.Tensor("b_q", OnnxDataType.Int32, [3], bias.SelectMany(BitConverter.GetBytes).ToArray()), OnnxProto.FloatTensor("b_scale", [3], biasScales),
            ],
            "y",
            [1, 3, 4, 4]);
        Node conv = OnnxImporter.ImportModel(model).Graph.GetNode("y");
        Assert.Equal(bias.Select((q, i) => q * biasScales[i]).ToArray(), conv.Constants[1].Data.ToArray());
        Assert.Equal(QuantizedWeights.Select((q, i) => q * WeightScales[i / 2]).ToArray(), conv.Constants[0].Data.ToArray());
    }

    [Fact]
    public void APairWithDifferentParametersIsRejectedNamingTheTensor()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(QdqModel(reluDequantScale: 0.2f)));
        Assert.Contains("'relu'", e.Message, StringComparison.Ordinal);
        Assert.Contains("same parameters", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(QdqModel(reluDequantZeroPoint: -9)));
        Assert.Contains("'relu'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(-0.5f)]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void AScaleThatIsNotFiniteAndPositiveIsRejectedNamingTheTensor(float scale)
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(QdqModel(inputScale: scale)));
        Assert.Contains("tensor 'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("finite and positive", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(QdqModel(weightScales: [0.02f, scale, 0.0625f])));
        Assert.Contains("tensor 'w_q'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PerAxisScalesThatDoNotFitTheAxisAreRejectedNamingTheTensor()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(QdqModel(weightScales: [0.02f, 0.005f])));
        Assert.Contains("tensor 'w_q'", e.Message, StringComparison.Ordinal);
        Assert.Contains("axis 0 of length 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AZeroPointOutsideItsTypeIsRejectedNamingTheTensor()
    {
        // A uint8 zero point written as int32_data 300: well-formed protobuf, impossible value.
        OnnxProtoMessage badZeroPoint = new OnnxProtoMessage().Int(2, (long)OnnxDataType.UInt8).String(8, "x_zp").Int(5, 300);
        OnnxModel model = Model(
            [Node("QuantizeLinear", ["x", "x_scale", "x_zp"], "x_q"), Node("DequantizeLinear", ["x_q", "x_scale", "x_zp"], "y")],
            [FloatScalar("x_scale", 0.5f), badZeroPoint],
            "y",
            [1, 2, 4, 4]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(model));
        Assert.Contains("tensor 'x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("zero point 300", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OneValueQuantizedTwiceWithDifferentParametersIsRejected()
    {
        OnnxModel model = Model(
            [
                Node("QuantizeLinear", ["x", "s1", "z"], "q1"), Node("DequantizeLinear", ["q1", "s1", "z"], "d1"),
                Node("QuantizeLinear", ["x", "s2", "z"], "q2"), Node("DequantizeLinear", ["q2", "s2", "z"], "d2"),
                Node("Add", ["d1", "d2"], "y"),
            ],
            [FloatScalar("s1", 0.5f), FloatScalar("s2", 0.25f), OnnxProto.UInt8Tensor("z", [], [128])],
            "y",
            [1, 2, 4, 4]);
        var e = Assert.Throws<InvalidDataException>(() => OnnxImporter.ImportModel(model));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AStandaloneQuantizeLinearRoundsHalfToEvenAndSaturatesOnBothExecutors()
    {
        OnnxModel model = Model(
            [Node("QuantizeLinear", ["x", "s", "z"], "y")],
            [FloatScalar("s", 0.5f), OnnxProto.UInt8Tensor("z", [], [10])],
            "y",
            [1, 2, 4, 4],
            OnnxDataType.UInt8);
        OnnxImportedModel imported = OnnxImporter.ImportModel(model);
        Assert.Null(imported.Quantization);
        Assert.Equal(OperatorKind.QuantizeLinear, Assert.Single(imported.Graph.Nodes).Kind);

        // x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5 (ties), 300, -100 (saturate), 0.6; plus the zero point 10.
        float[] x = new float[32];
        float[] ties = [0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 150f, -50f, 0.3f];
        ties.CopyTo(x, 0);
        double[] expected = new double[32];
        Array.Fill(expected, 10);
        new double[] { 10, 12, 12, 10, 8, 255, 0, 11 }.CopyTo(expected, 0);

        float[] internalX = imported.Inputs[0].ToInternal(x);
        double[] reference = imported.Outputs[0].ToOnnx(ReferenceExecutor.Run(imported.Graph, internalX));
        using var session = InferenceSession.Create(imported.Graph, new InferenceOptions());
        float[] optimized = imported.Outputs[0].ToOnnx(session.Run(internalX));
        Assert.Equal(expected, reference);
        Assert.Equal(expected, optimized.Select(v => (double)v));
    }
}
