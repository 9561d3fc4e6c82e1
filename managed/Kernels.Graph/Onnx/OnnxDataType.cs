namespace Kernels.Graph.Onnx;

/// <summary>ONNX element types (TensorProto.DataType); the numeric values are the wire values.</summary>
public enum OnnxDataType
{
    /// <summary>Not set.</summary>
    Undefined = 0,

    /// <summary>IEEE 754 binary32.</summary>
    Float = 1,

    /// <summary>Unsigned 8-bit integer.</summary>
    UInt8 = 2,

    /// <summary>Signed 8-bit integer.</summary>
    Int8 = 3,

    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,

    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,

    /// <summary>Signed 32-bit integer.</summary>
    Int32 = 6,

    /// <summary>Signed 64-bit integer.</summary>
    Int64 = 7,

    /// <summary>UTF-8 string.</summary>
    String = 8,

    /// <summary>Boolean, one byte per element.</summary>
    Bool = 9,

    /// <summary>IEEE 754 binary16.</summary>
    Float16 = 10,

    /// <summary>IEEE 754 binary64.</summary>
    Double = 11,

    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,

    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,

    /// <summary>Two binary32 values (real, imaginary).</summary>
    Complex64 = 14,

    /// <summary>Two binary64 values (real, imaginary).</summary>
    Complex128 = 15,

    /// <summary>binary32 truncated to its upper 16 bits.</summary>
    BFloat16 = 16,

    /// <summary>8-bit float, 4 exponent bits, finite only.</summary>
    Float8E4M3FN = 17,

    /// <summary>8-bit float, 4 exponent bits, finite only, no negative zero.</summary>
    Float8E4M3FNUZ = 18,

    /// <summary>8-bit float, 5 exponent bits.</summary>
    Float8E5M2 = 19,

    /// <summary>8-bit float, 5 exponent bits, finite only, no negative zero.</summary>
    Float8E5M2FNUZ = 20,

    /// <summary>Unsigned 4-bit integer, two per byte.</summary>
    UInt4 = 21,

    /// <summary>Signed 4-bit integer, two per byte.</summary>
    Int4 = 22,
}

/// <summary>Storage facts about <see cref="OnnxDataType"/> values.</summary>
public static class OnnxDataTypeInfo
{
    /// <summary>Whether <paramref name="type"/> is one of the types this reader knows.</summary>
    public static bool IsKnown(OnnxDataType type) => type is > OnnxDataType.Undefined and <= OnnxDataType.Int4;

    /// <summary>
    /// Bytes per element in raw_data; 0 for strings (stored in string_data) and for the 4-bit
    /// types, whose raw_data holds two elements per byte.
    /// </summary>
    public static int RawElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Bool => 1,
        OnnxDataType.Float8E4M3FN or OnnxDataType.Float8E4M3FNUZ => 1,
        OnnxDataType.Float8E5M2 or OnnxDataType.Float8E5M2FNUZ => 1,
        OnnxDataType.UInt16 or OnnxDataType.Int16 or OnnxDataType.Float16 or OnnxDataType.BFloat16 => 2,
        OnnxDataType.Int64 or OnnxDataType.UInt64 or OnnxDataType.Double or OnnxDataType.Complex64 => 8,
        OnnxDataType.Complex128 => 16,
        _ => 0,
    };
}
