using Kernels.Graph.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.Onnx;

/// <summary>Truncated, damaged and hostile bytes: always an InvalidDataException naming field and offset.</summary>
public sealed class OnnxMalformedInputTests(ITestOutputHelper output)
{
    /// <summary>A length-delimited field: tag (field, wire type 2), length, payload.</summary>
    private static byte[] Field(int number, params byte[] payload) =>
        [.. Varint(((ulong)number << 3) | 2), .. Varint((ulong)payload.Length), .. payload];

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

    private static InvalidDataException ModelError(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => OnnxModel.Parse(bytes));

    [Fact]
    public void GraphLongerThanFile_NamesGraphAndOffset()
    {
        var e = ModelError([0x08, 0x07, 0x3A, 0x0A, 0x0A, 0x00]);
        Assert.Contains("ModelProto.graph", e.Message);
        Assert.Contains("byte 2", e.Message);
    }

    [Fact]
    public void TruncatedVarint_NamesIrVersion()
    {
        var e = ModelError([0x08, 0xFF]);
        Assert.Contains("ModelProto.ir_version", e.Message);
        Assert.Contains("byte 0", e.Message);
    }

    [Fact]
    public void GraphWithVarintWireType_IsRejected()
    {
        var e = ModelError([0x38, 0x01]);
        Assert.Contains("ModelProto.graph", e.Message);
        Assert.Contains("wire type", e.Message);
    }

    [Fact]
    public void NegativeLength_IsRejected()
    {
        var e = ModelError([0x3A, .. Varint(ulong.MaxValue)]);
        Assert.Contains("ModelProto.graph", e.Message);
    }

    [Fact]
    public void InvalidWireType_IsRejected()
    {
        var e = ModelError([0x0F, 0x00]);
        Assert.Contains("invalid wire type 7", e.Message);
    }

    [Fact]
    public void EmptyInput_HasNoGraph()
    {
        var e = ModelError([]);
        Assert.Contains("no graph", e.Message);
    }

    [Fact]
    public void InvalidUtf8InNestedOpType_NamesNodeFieldAtAbsoluteOffset()
    {
        // model.graph (byte 0) → graph.node (byte 2) → node.op_type (byte 4) = FF FE.
        byte[] model = Field(7, Field(1, Field(4, 0xFF, 0xFE)));
        var e = ModelError(model);
        Assert.Contains("NodeProto.op_type", e.Message);
        Assert.Contains("byte 4", e.Message);
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void NodeWithoutOpType_IsRejected()
    {
        var e = ModelError(Field(7, Field(1, Field(3, (byte)'n'))));
        Assert.Contains("no op_type", e.Message);
    }

    [Fact]
    public void RawDataShorterThanDims_IsRejected()
    {
        // dims = [2], data_type = FLOAT, raw_data = 4 bytes (one float, two needed).
        byte[] tensor = [0x08, 0x02, 0x10, 0x01, .. Field(9, 0, 0, 0x80, 0x3F)];
        var e = Assert.Throws<InvalidDataException>(() => OnnxTensor.Parse(tensor));
        Assert.Contains("raw_data has 4 bytes", e.Message);
        Assert.Contains("byte 0", e.Message);
    }

    [Fact]
    public void PackedFloatsNotMultipleOfFour_IsRejected()
    {
        byte[] tensor = [0x08, 0x01, 0x10, 0x01, .. Field(4, 0, 0, 0x80, 0x3F, 0)];
        var e = Assert.Throws<InvalidDataException>(() => OnnxTensor.Parse(tensor));
        Assert.Contains("TensorProto.float_data", e.Message);
        Assert.Contains("multiple of 4", e.Message);
    }

    [Fact]
    public void NegativeDimension_IsRejected()
    {
        byte[] tensor = [0x08, .. Varint(unchecked((ulong)-3L)), 0x10, 0x01];
        var e = Assert.Throws<InvalidDataException>(() => OnnxTensor.Parse(tensor));
        Assert.Contains("negative dimension -3", e.Message);
    }

    [Fact]
    public void HugeDims_AreRejectedBeforeAllocating()
    {
        byte[] tensor = [0x08, .. Varint(1L << 40), 0x08, .. Varint(1L << 40), 0x10, 0x01];
        var e = Assert.Throws<InvalidDataException>(() => OnnxTensor.Parse(tensor));
        Assert.Contains("exceed", e.Message);
    }

    [Fact]
    public void UnknownDataType_IsRejected()
    {
        var e = Assert.Throws<InvalidDataException>(() => OnnxTensor.Parse([0x10, 0x63]));
        Assert.Contains("unknown data_type 99", e.Message);
    }

    [Fact]
    public void ExternalData_IsNotSupported_NamingTheTensor()
    {
        // dims = [1], FLOAT, external_data {key: "location"}, data_location = EXTERNAL, name = "w".
        byte[] tensor = [0x08, 0x01, 0x10, 0x01, .. Field(13, Field(1, "location"u8.ToArray())), 0x70, 0x01, .. Field(8, (byte)'w')];
        var e = Assert.Throws<NotSupportedException>(() => OnnxTensor.Parse(tensor));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("external", e.Message);
    }

    [Fact]
    public void DeeplyNestedGroupsInUnknownField_AreRejectedWithoutStackOverflow()
    {
        // 100 000 start-group tags of field 15: a parser that recursed without a limit would overflow the stack.
        byte[] bytes = Enumerable.Repeat((byte)0x7B, 100_000).ToArray();
        var e = ModelError(bytes);
        Assert.Contains("ModelProto", e.Message);
    }

    [Fact]
    public void UnknownFieldsAreSkipped()
    {
        // Unknown fields of every wire type around a minimal graph with one node.
        byte[] model = [0x08, 0x08, 0xF8, 0x01, 0x05, 0x85, 0x02, 1, 2, 3, 4, 0x81, 0x02, 1, 2, 3, 4, 5, 6, 7, 8,
            .. Field(99, 1, 2, 3), .. Field(7, Field(1, [.. Field(4, "Relu"u8.ToArray()), .. Field(50, 0)]))];
        var parsed = OnnxModel.Parse(model);
        Assert.Equal(8, parsed.IrVersion);
        Assert.Equal("Relu", Assert.Single(parsed.Graph.Nodes).OpType);
    }

    [OnnxTestDataFact]
    public void TruncatedAndBitFlippedModels_OnlyEverFailWithInvalidData()
    {
        string[] names = ["test_conv_with_strides_padding", "test_Conv2d_depthwise", "test_constant"];
        var models = OnnxTestData.AllTests().Where(c => names.Contains(c.Name)).Select(c => File.ReadAllBytes(c.ModelPath)).ToList();
        Assert.Equal(names.Length, models.Count);
        var tensorFile = File.ReadAllBytes(OnnxTestData.NodeTest("test_relu").DataSets[0].Inputs[0]);

        int parsed = 0, rejected = 0, unsupported = 0;
        void Attempt(Action parse)
        {
            try
            {
                parse();
                parsed++;
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (NotSupportedException e) when (e.Message.Contains("external") || e.Message.Contains("segment") || e.Message.Contains("sparse"))
            {
                // A flipped byte can turn a field into data_location = EXTERNAL: a legal but unsupported tensor.
                unsupported++;
            }
        }

        var rng = new Random(4);
        foreach (byte[] model in models)
        {
            for (int length = 0; length < model.Length; length++)
            {
                int cut = length;
                Attempt(() => OnnxModel.Parse(model.AsSpan(0, cut)));
            }

            for (int trial = 0; trial < 3000; trial++)
            {
                byte[] damaged = (byte[])model.Clone();
                int flips = rng.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    int at = rng.Next(damaged.Length);
                    damaged[at] = trial % 2 == 0 ? (byte)(damaged[at] ^ (1 << rng.Next(8))) : (byte)rng.Next(256);
                }

                Attempt(() => OnnxModel.Parse(damaged));
            }
        }

        for (int length = 0; length < tensorFile.Length; length++)
        {
            int cut = length;
            Attempt(() => OnnxTensor.Parse(tensorFile.AsSpan(0, cut)));
        }

        for (int trial = 0; trial < 3000; trial++)
        {
            byte[] damaged = (byte[])tensorFile.Clone();
            damaged[rng.Next(damaged.Length)] ^= (byte)(1 << rng.Next(8));
            Attempt(() => OnnxTensor.Parse(damaged));
        }

        output.WriteLine($"{parsed} parsed, {rejected} InvalidDataException, {unsupported} NotSupportedException (external data)");
        Assert.True(rejected > 1000);
    }
}
