namespace Kernels.Core;

/// <summary>Element types a tensor can hold; the int8 path keeps activations in 8 bits end to end.</summary>
public enum DataType
{
    /// <summary>IEEE 754 single precision.</summary>
    Float32,
    /// <summary>IEEE 754 half precision (GPU paths).</summary>
    Float16,
    /// <summary>Signed 8-bit (weights, symmetric quantization).</summary>
    Int8,
    /// <summary>Unsigned 8-bit (activations, asymmetric quantization).</summary>
    UInt8,
    /// <summary>32-bit accumulators and biases of the int8 path.</summary>
    Int32,
}

/// <summary>Size queries, so buffer and arena code need no per-type switch of its own.</summary>
public static class DataTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined <see cref="DataType"/>.</exception>
    public static int SizeInBytes(this DataType t) => t switch
    {
        DataType.Float32 => 4,
        DataType.Float16 => 2,
        DataType.Int8 => 1,
        DataType.UInt8 => 1,
        DataType.Int32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "Unknown data type."),
    };
}
