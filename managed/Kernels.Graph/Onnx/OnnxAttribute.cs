using System.Text;

namespace Kernels.Graph.Onnx;

/// <summary>AttributeProto.AttributeType; the numeric values are the wire values.</summary>
public enum OnnxAttributeType
{
    /// <summary>Not set and not inferable.</summary>
    Undefined = 0,

    /// <summary>One float (<see cref="OnnxAttribute.Float"/>).</summary>
    Float = 1,

    /// <summary>One int64 (<see cref="OnnxAttribute.Int"/>).</summary>
    Int = 2,

    /// <summary>One byte string, usually UTF-8 (<see cref="OnnxAttribute.Bytes"/>, <see cref="OnnxAttribute.String"/>).</summary>
    String = 3,

    /// <summary>One tensor (<see cref="OnnxAttribute.Tensor"/>).</summary>
    Tensor = 4,

    /// <summary>A sub-graph; its content is skipped (control flow is not supported).</summary>
    Graph = 5,

    /// <summary>A list of floats.</summary>
    Floats = 6,

    /// <summary>A list of int64.</summary>
    Ints = 7,

    /// <summary>A list of byte strings.</summary>
    Strings = 8,

    /// <summary>A list of tensors.</summary>
    Tensors = 9,

    /// <summary>A list of sub-graphs; their content is skipped.</summary>
    Graphs = 10,

    /// <summary>A sparse tensor; its content is skipped.</summary>
    SparseTensor = 11,

    /// <summary>A list of sparse tensors; their content is skipped.</summary>
    SparseTensors = 12,
}

/// <summary>An AttributeProto of a node: a name, a type and the value of that type.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeType type, float f, long i, ReadOnlyMemory<byte> s, OnnxTensor? t,
        float[] floats, long[] ints, ReadOnlyMemory<byte>[] strings, OnnxTensor[] tensors)
    {
        Name = name;
        Type = type;
        Float = f;
        Int = i;
        Bytes = s;
        Tensor = t;
        Floats = floats;
        Ints = ints;
        StringList = strings;
        Tensors = tensors;
    }

    /// <summary>The attribute's name (e.g. "strides").</summary>
    public string Name { get; }

    /// <summary>Which of the value members holds the value.</summary>
    public OnnxAttributeType Type { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Float"/> attribute.</summary>
    public float Float { get; }

    /// <summary>The value of an <see cref="OnnxAttributeType.Int"/> attribute.</summary>
    public long Int { get; }

    /// <summary>The bytes of a <see cref="OnnxAttributeType.String"/> attribute.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.String"/> attribute decoded as UTF-8.</summary>
    public string String => Encoding.UTF8.GetString(Bytes.Span);

    /// <summary>The value of a <see cref="OnnxAttributeType.Tensor"/> attribute.</summary>
    public OnnxTensor? Tensor { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Floats"/> attribute.</summary>
    public IReadOnlyList<float> Floats { get; }

    /// <summary>The value of an <see cref="OnnxAttributeType.Ints"/> attribute.</summary>
    public IReadOnlyList<long> Ints { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Strings"/> attribute.</summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> StringList { get; }

    /// <summary>The value of a <see cref="OnnxAttributeType.Tensors"/> attribute.</summary>
    public IReadOnlyList<OnnxTensor> Tensors { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Type}";

    /// <summary>Reads an AttributeProto.</summary>
    internal static OnnxAttribute Read(OnnxWireReader r)
    {
        string name = "";
        int type = 0;
        float f = 0;
        long i = 0;
        ReadOnlyMemory<byte> s = ReadOnlyMemory<byte>.Empty;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var strings = new List<ReadOnlyMemory<byte>>();
        var tensors = new List<OnnxTensor>();

        // IR version 1 had no type field: the type is then the one value field that was present.
        var seen = OnnxAttributeType.Undefined;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: name = r.ReadString("name"); break;
                case 20: type = r.ReadInt32("type"); break;
                case 2: f = r.ReadFloat("f"); seen = OnnxAttributeType.Float; break;
                case 3: i = r.ReadInt64("i"); seen = OnnxAttributeType.Int; break;
                case 4: s = r.ReadBytes("s"); seen = OnnxAttributeType.String; break;
                case 5: t = OnnxTensor.Read(r.ReadMessage("t", "TensorProto")); seen = OnnxAttributeType.Tensor; break;
                case 6: r.Skip(); seen = OnnxAttributeType.Graph; break;
                case 7: r.ReadRepeatedFloat("floats", floats); seen = OnnxAttributeType.Floats; break;
                case 8: r.ReadRepeatedInt64("ints", ints); seen = OnnxAttributeType.Ints; break;
                case 9: strings.Add(r.ReadBytes("strings")); seen = OnnxAttributeType.Strings; break;
                case 10: tensors.Add(OnnxTensor.Read(r.ReadMessage("tensors", "TensorProto"))); seen = OnnxAttributeType.Tensors; break;
                case 11: r.Skip(); seen = OnnxAttributeType.Graphs; break;
                case 22: r.Skip(); seen = OnnxAttributeType.SparseTensor; break;
                case 23: r.Skip(); seen = OnnxAttributeType.SparseTensors; break;
                default: r.Skip(); break;
            }
        }

        var attributeType = type == 0 ? seen : (OnnxAttributeType)type;
        if (attributeType is < OnnxAttributeType.Undefined or > OnnxAttributeType.SparseTensors)
        {
            throw new InvalidDataException($"ONNX attribute '{name}' (AttributeProto at byte {r.MessageOffset}): unknown type {type}");
        }

        if (attributeType == OnnxAttributeType.Tensor && t is null)
        {
            throw new InvalidDataException($"ONNX attribute '{name}' (AttributeProto at byte {r.MessageOffset}): type TENSOR without field t");
        }

        return new OnnxAttribute(name, attributeType, f, i, s, t, floats.ToArray(), ints.ToArray(), strings.ToArray(), tensors.ToArray());
    }
}
