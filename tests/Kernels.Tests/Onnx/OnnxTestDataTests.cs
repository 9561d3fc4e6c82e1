using Google.Protobuf;
using Kernels.Graph.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.Onnx;

/// <summary>The reader against the ONNX backend test data of libonnx-testdata.</summary>
public sealed class OnnxTestDataTests(ITestOutputHelper output)
{
    [OnnxTestDataFact]
    public void EveryModelAndTensorFileParses()
    {
        var cases = OnnxTestData.AllTests();
        Assert.NotEmpty(OnnxTestData.NodeTests());
        int models = 0, tensors = 0, nonTensorValues = 0;
        var shapeMismatches = new List<string>();
        foreach (var testCase in cases)
        {
            var model = OnnxModel.Load(testCase.ModelPath);
            Assert.NotEmpty(model.Graph.Nodes);
            models++;

            // Node-test graphs may also list initializers as inputs; the .pb files feed the others, in order.
            var initializers = model.Graph.Initializers.Select(t => t.Name).ToHashSet();
            var fed = model.Graph.Inputs.Where(v => !initializers.Contains(v.Name)).ToList();
            foreach (var set in testCase.DataSets)
            {
                Assert.True(set.Inputs.Count <= fed.Count, $"{testCase.Name}: {set.Inputs.Count} inputs, graph declares {fed.Count}");
                Assert.Equal(model.Graph.Outputs.Count, set.Outputs.Count);
                var files = set.Inputs.Zip(fed).Concat(set.Outputs.Zip(model.Graph.Outputs));
                foreach (var (file, declared) in files)
                {
                    // Sequence and optional values are stored as SequenceProto/OptionalProto, not TensorProto.
                    if (declared.Kind != OnnxValueKind.Tensor)
                    {
                        nonTensorValues++;
                        continue;
                    }

                    var tensor = OnnxTensor.Load(file);
                    tensors++;
                    // NumPy has no bfloat16, so the generator saved those tensors as their uint16 bit patterns.
                    bool bfloat16AsBits = declared.ElementType == OnnxDataType.BFloat16 && tensor.DataType == OnnxDataType.UInt16;
                    Assert.True(declared.ElementType == tensor.DataType || bfloat16AsBits, $"{file}: {tensor.DataType}, declared {declared.ElementType}");
                    if (declared.Shape is { } shape && shape.All(d => d.Value.HasValue))
                    {
                        if (!shape.Select(d => d.Value!.Value).SequenceEqual(tensor.Dims))
                        {
                            shapeMismatches.Add($"{testCase.Name}/{Path.GetFileName(file)}: dims [{string.Join(", ", tensor.Dims)}], declared [{string.Join(", ", shape)}]");
                        }
                    }
                }
            }
        }

        output.WriteLine($"{cases.Count} test cases: {models} model.onnx and {tensors} tensor .pb files parsed; {nonTensorValues} sequence/optional .pb files left to their own formats");
        output.WriteLine(string.Join(Environment.NewLine, shapeMismatches));
        // ONNX 1.12's CastLike BFLOAT16 tests declare the "like" input as [3, 4] but save a 1-element tensor; nothing else may differ.
        Assert.All(shapeMismatches, m => Assert.StartsWith("test_castlike_", m));
        Assert.True(shapeMismatches.Count <= 4, $"{shapeMismatches.Count} shape mismatches");
        Assert.True(models > 1000, $"only {models} models");
        Assert.True(tensors > 2500, $"only {tensors} tensors");
    }

    [OnnxTestDataFact]
    public void Relu_IsOneReluNode_WithFloatInputAndOutput()
    {
        var testCase = OnnxTestData.NodeTest("test_relu");
        var model = OnnxModel.Load(testCase.ModelPath);
        var node = Assert.Single(model.Graph.Nodes);
        Assert.Equal("Relu", node.OpType);
        Assert.Equal(["x"], node.Inputs);
        Assert.Equal(["y"], node.Outputs);
        Assert.True(model.IrVersion >= 3);
        Assert.NotNull(model.OpsetVersion());

        var input = OnnxTensor.Load(testCase.DataSets[0].Inputs[0]);
        var expected = OnnxTensor.Load(testCase.DataSets[0].Outputs[0]);
        Assert.Equal([3L, 4, 5], input.Dims);
        Assert.Equal(OnnxDataType.Float, input.DataType);
        float[] x = input.ToFloatArray();
        float[] y = expected.ToFloatArray();
        Assert.Equal(60, x.Length);
        Assert.Equal(x.Select(v => Math.Max(v, 0f)), y);
        Assert.Contains(x, v => v < 0);
    }

    [OnnxTestDataFact]
    public void ConvWithStridesPadding_AttributesAndShapes()
    {
        var testCase = OnnxTestData.NodeTest("test_conv_with_strides_padding");
        var model = OnnxModel.Load(testCase.ModelPath);
        var conv = Assert.Single(model.Graph.Nodes);
        Assert.Equal("Conv", conv.OpType);
        Assert.Equal("", conv.Domain);
        Assert.Equal(OnnxAttributeType.Ints, conv.FindAttribute("strides")!.Type);
        Assert.Equal([2L, 2], conv.FindAttribute("strides")!.Ints);
        Assert.Equal([1L, 1, 1, 1], conv.FindAttribute("pads")!.Ints);
        Assert.Equal([3L, 3], conv.FindAttribute("kernel_shape")!.Ints);
        Assert.Null(conv.FindAttribute("dilations"));

        var x = model.Graph.Inputs[0];
        Assert.Equal(OnnxValueKind.Tensor, x.Kind);
        Assert.Equal(OnnxDataType.Float, x.ElementType);
        Assert.Equal([1L, 1, 7, 5], x.Shape!.Select(d => d.Value!.Value));
        Assert.Equal([1L, 1, 4, 3], model.Graph.Outputs[0].Shape!.Select(d => d.Value!.Value));

        var w = OnnxTensor.Load(testCase.DataSets[0].Inputs[1]);
        Assert.Equal([1L, 1, 3, 3], w.Dims);
        Assert.All(w.ToFloatArray(), v => Assert.Equal(1f, v));
        var y = OnnxTensor.Load(testCase.DataSets[0].Outputs[0]);
        Assert.Equal([1L, 1, 4, 3], y.Dims);

        // Input x is 0..34 row-major; with an all-ones 3x3 kernel, y[0,0] sums x[0..1, 0..1] = 0+1+5+6.
        Assert.Equal(12f, y.ToFloatArray()[0]);
    }

    [OnnxTestDataFact]
    public void RawData_RoundTripsThroughFloatData()
    {
        var input = OnnxTensor.Load(OnnxTestData.NodeTest("test_relu").DataSets[0].Inputs[0]);
        Assert.True(input.HasRawData);
        Assert.Equal(input.ElementCount * sizeof(float), input.RawData.Length);
        float[] fromRaw = input.ToFloatArray();

        // The same tensor written the other way ONNX allows: packed float_data.
        using var buffer = new MemoryStream();
        var writer = new CodedOutputStream(buffer);
        foreach (long d in input.Dims)
        {
            writer.WriteTag(1, WireFormat.WireType.Varint);
            writer.WriteInt64(d);
        }

        writer.WriteTag(2, WireFormat.WireType.Varint);
        writer.WriteInt32((int)OnnxDataType.Float);
        writer.WriteTag(4, WireFormat.WireType.LengthDelimited);
        writer.WriteLength(fromRaw.Length * sizeof(float));
        foreach (float v in fromRaw)
        {
            writer.WriteFloat(v);
        }

        writer.WriteTag(8, WireFormat.WireType.LengthDelimited);
        writer.WriteString(input.Name);
        writer.Flush();

        var typed = OnnxTensor.Parse(buffer.ToArray());
        Assert.False(typed.HasRawData);
        Assert.Equal(input.Name, typed.Name);
        Assert.Equal(input.Dims, typed.Dims);
        Assert.Equal(fromRaw, typed.ToFloatArray());
    }

    [OnnxTestDataFact]
    public void PytorchConvModel_HasFloatInitializers()
    {
        var model = OnnxModel.Load(OnnxTestData.AllTests().First(c => c.Name == "test_Conv2d_depthwise").ModelPath);
        Assert.NotEmpty(model.Graph.Initializers);
        var weight = model.Graph.Initializers.First(t => t.Dims.Count == 4);
        Assert.Equal(OnnxDataType.Float, weight.DataType);
        Assert.Equal(weight.ElementCount, weight.ToFloatArray().Length);
        Assert.Contains(model.Graph.Nodes, n => n.OpType == "Conv" && n.Inputs.Contains(weight.Name));
    }
}
