using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Xunit;

namespace Kernels.Tests.Onnx;

/// <summary>
/// The integer operators on random data at realistic sizes, against ONNX Runtime's own QLinearConv and
/// QLinearMatMul (integers must match exactly) when ONNX Runtime for node is installed.
/// </summary>
public sealed class OnnxIntegerOperatorTests
{
    private static OnnxProtoMessage Node(string op, string[] inputs, string output, params OnnxProtoMessage[] attributes) =>
        OnnxProto.Node(output, op, inputs, [output], attributes);

    private static int[] Integers(int count, int seed, int min, int max)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(min, max + 1)).ToArray();
    }

    /// <summary>uint8 x [1, 8, 9, 7] → QLinearConv (3x3, pads 1, stride <paramref name="stride"/>, int8 weights per channel, int32 bias) → uint8 y.</summary>
    private static (byte[] Model, long[] InputDims, long[] OutputDims) QLinearConvModel(int stride)
    {
        const int c = 8, m = 16;
        int oh = ((9 + 2 - 3) / stride) + 1, ow = ((7 + 2 - 3) / stride) + 1;
        float[] wScale = Enumerable.Range(0, m).Select(i => 0.002f + (0.0007f * i)).ToArray();
        OnnxProtoMessage[] initializers =
        [
            OnnxProto.FloatTensor("x_scale", [], [0.0123f]),
            OnnxProto.UInt8Tensor("x_zp", [], [131]),
            OnnxProto.Int8Tensor("w", [m, c, 3, 3], Integers(m * c * 9, 1, -127, 127).Select(v => (sbyte)v).ToArray()),
            OnnxProto.FloatTensor("w_scale", [m], wScale),
            OnnxProto.Int8Tensor("w_zp", [m], new sbyte[m]),
            OnnxProto.FloatTensor("y_scale", [], [0.0371f]),
            OnnxProto.UInt8Tensor("y_zp", [], [117]),
            OnnxProto.Tensor("bias", OnnxDataType.Int32, [m], Integers(m, 2, -3000, 3000).SelectMany(BitConverter.GetBytes).ToArray()),
        ];
        OnnxProtoMessage conv = Node(
            "QLinearConv", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "bias"], "y",
            OnnxProto.IntsAttribute("pads", 1, 1, 1, 1), OnnxProto.IntsAttribute("strides", stride, stride), OnnxProto.IntsAttribute("kernel_shape", 3, 3));
        long[] inDims = [1, c, 9, 7], outDims = [1, m, oh, ow];
        return (OnnxProto.Model(
            OnnxProto.Graph("qconv", [conv], initializers, [OnnxProto.ValueInfo("x", OnnxDataType.UInt8, inDims)], [OnnxProto.ValueInfo("y", OnnxDataType.UInt8, outDims)]),
            7, 13, "test"), inDims, outDims);
    }

    /// <summary>uint8 a [5, 40] → QLinearMatMul with uint8 b [40, 12] (per-tensor) → uint8 y [5, 12].</summary>
    private static (byte[] Model, long[] InputDims, long[] OutputDims) QLinearMatMulModel()
    {
        OnnxProtoMessage[] initializers =
        [
            OnnxProto.FloatTensor("a_scale", [], [0.021f]),
            OnnxProto.UInt8Tensor("a_zp", [], [100]),
            OnnxProto.UInt8Tensor("b", [40, 12], Integers(480, 3, 0, 255).Select(v => (byte)v).ToArray()),
            OnnxProto.FloatTensor("b_scale", [], [0.0093f]),
            OnnxProto.UInt8Tensor("b_zp", [], [128]),
            OnnxProto.FloatTensor("y_scale", [], [0.29f]),
            OnnxProto.UInt8Tensor("y_zp", [], [125]),
        ];
        OnnxProtoMessage mm = Node("QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"], "y");
        long[] inDims = [5, 40], outDims = [5, 12];
        return (OnnxProto.Model(
            OnnxProto.Graph("qmm", [mm], initializers, [OnnxProto.ValueInfo("a", OnnxDataType.UInt8, inDims)], [OnnxProto.ValueInfo("y", OnnxDataType.UInt8, outDims)]),
            7, 13, "test"), inDims, outDims);
    }

    /// <summary>The imported model on the reference and the optimized session, outputs in ONNX order.</summary>
    private static (double[] Reference, float[] Optimized) RunBoth(byte[] model, float[] x)
    {
        OnnxImportedModel imported = OnnxImporter.ImportModel(OnnxModel.Parse(model));
        float[] internalX = imported.Inputs[0].ToInternal(x);
        double[] reference = imported.Outputs[0].ToOnnx(ReferenceExecutor.Run(imported.Graph, internalX));
        using var session = InferenceSession.Create(imported.Graph, new InferenceOptions());
        return (reference, imported.Outputs[0].ToOnnx(session.Run(internalX)));
    }

    public static TheoryData<string> Models => new() { "qlinearconv-stride1", "qlinearconv-stride2", "qlinearmatmul" };

    [OnnxRuntimeTheory]
    [MemberData(nameof(Models))]
    public void IntegersMatchOnnxRuntimeExactly(string which)
    {
        (byte[] model, long[] inDims, long[] outDims) = which switch
        {
            "qlinearconv-stride1" => QLinearConvModel(1),
            "qlinearconv-stride2" => QLinearConvModel(2),
            _ => QLinearMatMulModel(),
        };
        float[] x = Integers((int)inDims.Aggregate(1L, (a, b) => a * b), 7, 0, 255).Select(v => (float)v).ToArray();
        string dir = Directory.CreateTempSubdirectory("kernels-ort-int-").FullName;
        try
        {
            string modelPath = Path.Combine(dir, "model.onnx"), input = Path.Combine(dir, "x.f32"), output = Path.Combine(dir, "y.f32");
            File.WriteAllBytes(modelPath, model);
            File.WriteAllBytes(input, System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            OnnxRuntime.Run(modelPath, input, inDims, output, "uint8");
            float[] expected = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
            Assert.Equal(outDims.Aggregate(1L, (a, b) => a * b), expected.Length);

            (double[] reference, float[] optimized) = RunBoth(model, x);
            Assert.Equal(expected.Select(v => (double)v), reference);
            Assert.Equal(expected, optimized);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
