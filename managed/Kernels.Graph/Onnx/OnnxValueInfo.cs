namespace Kernels.Graph.Onnx;

/// <summary>What kind of value a TypeProto describes. Only tensors carry an element type and shape here.</summary>
public enum OnnxValueKind
{
    /// <summary>No type was given (allowed for intermediate values).</summary>
    Unknown = 0,

    /// <summary>A dense tensor.</summary>
    Tensor,

    /// <summary>A sequence of values (sequence_type).</summary>
    Sequence,

    /// <summary>A map (map_type).</summary>
    Map,

    /// <summary>A sparse tensor (sparse_tensor_type).</summary>
    SparseTensor,

    /// <summary>An optional value (optional_type).</summary>
    Optional,
}

/// <summary>One dimension of a shape: a fixed size, a symbolic name (e.g. "N"), or neither (unknown).</summary>
/// <param name="Value">The size, when the dimension is fixed.</param>
/// <param name="Param">The symbolic name, when the dimension is a parameter.</param>
public readonly record struct OnnxDimension(long? Value, string? Param)
{
    /// <inheritdoc/>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Param ?? "?";
}

/// <summary>A ValueInfoProto: the declared type and shape of a graph input, output or intermediate value.</summary>
/// <param name="Name">The value's name.</param>
/// <param name="Kind">Tensor, sequence, map, ...; <see cref="OnnxValueKind.Unknown"/> when no type was given.</param>
/// <param name="ElementType">The tensor element type (tensors only).</param>
/// <param name="Shape">The tensor shape, or null when the rank itself is unknown (no shape field).</param>
public sealed record OnnxValueInfo(string Name, OnnxValueKind Kind, OnnxDataType ElementType, IReadOnlyList<OnnxDimension>? Shape)
{
    /// <summary>Reads a ValueInfoProto.</summary>
    internal static OnnxValueInfo Read(OnnxWireReader r)
    {
        string name = "";
        var kind = OnnxValueKind.Unknown;
        var elementType = OnnxDataType.Undefined;
        IReadOnlyList<OnnxDimension>? shape = null;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: name = r.ReadString("name"); break;
                case 2: (kind, elementType, shape) = ReadType(r.ReadMessage("type", "TypeProto")); break;
                default: r.Skip(); break;
            }
        }

        return new OnnxValueInfo(name, kind, elementType, shape);
    }

    private static (OnnxValueKind, OnnxDataType, IReadOnlyList<OnnxDimension>?) ReadType(OnnxWireReader r)
    {
        var kind = OnnxValueKind.Unknown;
        var elementType = OnnxDataType.Undefined;
        IReadOnlyList<OnnxDimension>? shape = null;
        while (r.NextField())
        {
            // The non-tensor kinds are recorded but not descended into: the engine runs tensors only,
            // and TypeProto recursion (sequence of sequence ...) then needs no depth budget.
            switch (r.Field)
            {
                case 1: kind = OnnxValueKind.Tensor; (elementType, shape) = ReadTensorType(r.ReadMessage("tensor_type", "TypeProto.Tensor")); break;
                case 4: kind = OnnxValueKind.Sequence; r.Skip(); break;
                case 5: kind = OnnxValueKind.Map; r.Skip(); break;
                case 8: kind = OnnxValueKind.SparseTensor; r.Skip(); break;
                case 9: kind = OnnxValueKind.Optional; r.Skip(); break;
                default: r.Skip(); break;
            }
        }

        return (kind, elementType, shape);
    }

    private static (OnnxDataType, IReadOnlyList<OnnxDimension>?) ReadTensorType(OnnxWireReader r)
    {
        var elementType = OnnxDataType.Undefined;
        List<OnnxDimension>? shape = null;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: elementType = (OnnxDataType)r.ReadInt32("elem_type"); break;
                case 2:
                    shape ??= [];
                    var shapeReader = r.ReadMessage("shape", "TensorShapeProto");
                    while (shapeReader.NextField())
                    {
                        if (shapeReader.Field == 1)
                        {
                            shape.Add(ReadDimension(shapeReader.ReadMessage("dim", "TensorShapeProto.Dimension")));
                        }
                        else
                        {
                            shapeReader.Skip();
                        }
                    }

                    break;
                default: r.Skip(); break;
            }
        }

        return (elementType, shape);
    }

    private static OnnxDimension ReadDimension(OnnxWireReader r)
    {
        long? value = null;
        string? param = null;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: value = r.ReadInt64("dim_value"); param = null; break;
                case 2: param = r.ReadString("dim_param"); value = null; break;
                default: r.Skip(); break;
            }
        }

        return new OnnxDimension(value, param);
    }
}
