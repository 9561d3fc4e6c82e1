using System.Buffers.Binary;
using Google.Protobuf;

namespace Kernels.Graph.Onnx;

/// <summary>
/// One protobuf message being written, field by field with Google.Protobuf's <see cref="CodedOutputStream"/>: the
/// writing side of <see cref="OnnxWireReader"/>. Field numbers are onnx.proto's; no generated classes are involved.
/// </summary>
internal sealed class OnnxProtoMessage
{
    private readonly MemoryStream _stream = new();
    private readonly CodedOutputStream _output;

    public OnnxProtoMessage() => _output = new CodedOutputStream(_stream, leaveOpen: true);

    public OnnxProtoMessage Int(int field, long value)
    {
        _output.WriteTag(field, WireFormat.WireType.Varint);
        _output.WriteInt64(value);
        return this;
    }

    public OnnxProtoMessage Float(int field, float value)
    {
        _output.WriteTag(field, WireFormat.WireType.Fixed32);
        _output.WriteFloat(value);
        return this;
    }

    public OnnxProtoMessage String(int field, string value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteString(value);
        return this;
    }

    public OnnxProtoMessage Bytes(int field, ReadOnlyMemory<byte> value)
    {
        _output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
        return this;
    }

    public OnnxProtoMessage Message(int field, OnnxProtoMessage message) => Bytes(field, message.ToArray());

    public byte[] ToArray()
    {
        _output.Flush();
        return _stream.ToArray();
    }
}

/// <summary>The ONNX messages the exporter writes (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto).</summary>
internal static class OnnxProto
{
    /// <summary>A ModelProto of one graph importing one default-domain opset.</summary>
    public static byte[] Model(OnnxProtoMessage graph, long irVersion, long opset, string producer) =>
        new OnnxProtoMessage()
            .Int(1, irVersion)
            .String(2, producer)
            .Message(7, graph)
            .Message(8, new OnnxProtoMessage().String(1, "").Int(2, opset))
            .ToArray();

    public static OnnxProtoMessage Graph(
        string name, IEnumerable<OnnxProtoMessage> nodes, IEnumerable<OnnxProtoMessage> initializers,
        IEnumerable<OnnxProtoMessage> inputs, IEnumerable<OnnxProtoMessage> outputs)
    {
        var g = new OnnxProtoMessage();
        foreach (OnnxProtoMessage n in nodes)
        {
            g.Message(1, n);
        }

        g.String(2, name);
        foreach (OnnxProtoMessage t in initializers)
        {
            g.Message(5, t);
        }

        foreach (OnnxProtoMessage i in inputs)
        {
            g.Message(11, i);
        }

        foreach (OnnxProtoMessage o in outputs)
        {
            g.Message(12, o);
        }

        return g;
    }

    public static OnnxProtoMessage Node(string name, string op, IEnumerable<string> inputs, IEnumerable<string> outputs, params OnnxProtoMessage[] attributes)
    {
        var n = new OnnxProtoMessage();
        foreach (string i in inputs)
        {
            n.String(1, i);
        }

        foreach (string o in outputs)
        {
            n.String(2, o);
        }

        n.String(3, name).String(4, op);
        foreach (OnnxProtoMessage a in attributes)
        {
            n.Message(5, a);
        }

        return n;
    }

    public static OnnxProtoMessage IntAttribute(string name, long value) =>
        new OnnxProtoMessage().String(1, name).Int(3, value).Int(20, (long)OnnxAttributeType.Int);

    public static OnnxProtoMessage FloatAttribute(string name, float value) =>
        new OnnxProtoMessage().String(1, name).Float(2, value).Int(20, (long)OnnxAttributeType.Float);

    public static OnnxProtoMessage StringAttribute(string name, string value) =>
        new OnnxProtoMessage().String(1, name).Bytes(4, System.Text.Encoding.UTF8.GetBytes(value)).Int(20, (long)OnnxAttributeType.String);

    public static OnnxProtoMessage IntsAttribute(string name, params long[] values)
    {
        var a = new OnnxProtoMessage().String(1, name);
        foreach (long v in values)
        {
            a.Int(8, v);
        }

        return a.Int(20, (long)OnnxAttributeType.Ints);
    }

    public static OnnxProtoMessage FloatTensor(string name, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
    {
        var raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * sizeof(float)), values[i]);
        }

        return Tensor(name, OnnxDataType.Float, dims, raw);
    }

    public static OnnxProtoMessage Int8Tensor(string name, IReadOnlyList<long> dims, ReadOnlySpan<sbyte> values) =>
        Tensor(name, OnnxDataType.Int8, dims, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxProtoMessage UInt8Tensor(string name, IReadOnlyList<long> dims, ReadOnlySpan<byte> values) =>
        Tensor(name, OnnxDataType.UInt8, dims, values.ToArray());

    public static OnnxProtoMessage Int64Tensor(string name, IReadOnlyList<long> dims, ReadOnlySpan<long> values)
    {
        var raw = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * sizeof(long)), values[i]);
        }

        return Tensor(name, OnnxDataType.Int64, dims, raw);
    }

    /// <summary>A TensorProto with its values as little-endian raw_data.</summary>
    public static OnnxProtoMessage Tensor(string name, OnnxDataType type, IReadOnlyList<long> dims, byte[] raw)
    {
        var t = new OnnxProtoMessage();
        foreach (long d in dims)
        {
            t.Int(1, d);
        }

        return t.Int(2, (long)type).String(8, name).Bytes(9, raw);
    }

    public static OnnxProtoMessage ValueInfo(string name, OnnxDataType type, IReadOnlyList<long> dims)
    {
        var shape = new OnnxProtoMessage();
        foreach (long d in dims)
        {
            shape.Message(1, new OnnxProtoMessage().Int(1, d));
        }

        var tensorType = new OnnxProtoMessage().Int(1, (long)type).Message(2, shape);
        return new OnnxProtoMessage().String(1, name).Message(2, new OnnxProtoMessage().Message(1, tensorType));
    }
}
