using Kernels.Core;

namespace Kernels.Graph;

/// <summary>
/// A tensor that flows between nodes: a graph input or a node's output. Shapes are NHWC and static;
/// a fully connected or flatten output is N×1×1×C.
/// </summary>
public sealed class Value
{
    /// <summary>Creates a value.</summary>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public Value(string name, TensorShape shape, DataType dataType = DataType.Float32)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Shape = shape;
        DataType = dataType;
    }

    /// <summary>Unique within its graph.</summary>
    public string Name { get; }

    /// <summary>NHWC shape.</summary>
    public TensorShape Shape { get; }

    /// <summary>Element type.</summary>
    public DataType DataType { get; }

    /// <summary>"name NxHxWxC".</summary>
    public override string ToString() => $"{Name} {Shape}";
}
