namespace Kernels.Graph;

/// <summary>
/// One operator application: activation inputs, constant operands (weights, bias, batch-norm vectors), typed
/// attributes (the Core/Cpu descriptor of the layer where one exists; see <see cref="OperatorKind"/> for which)
/// and one output value. Immutable; passes build new nodes.
/// </summary>
public sealed class Node
{
    /// <summary>Creates a node; <see cref="ShapeInference"/> and <see cref="NetworkGraph.Validate"/> check that the parts agree.</summary>
    public Node(string name, OperatorKind kind, IReadOnlyList<Value> inputs, IReadOnlyList<Constant> constants, object? attributes, Value output)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(constants);
        ArgumentNullException.ThrowIfNull(output);
        Name = name;
        Kind = kind;
        Inputs = inputs.ToArray();
        Constants = constants.ToArray();
        Attributes = attributes;
        Output = output;
    }

    /// <summary>Unique within its graph; every error about the node names it.</summary>
    public string Name { get; }

    /// <summary>The operator.</summary>
    public OperatorKind Kind { get; }

    /// <summary>Activation inputs, in operator order.</summary>
    public IReadOnlyList<Value> Inputs { get; }

    /// <summary>Constant operands, in operator order (e.g. weights then bias).</summary>
    public IReadOnlyList<Constant> Constants { get; }

    /// <summary>The typed attributes, or null for operators without any (Concat, Flatten).</summary>
    public object? Attributes { get; }

    /// <summary>The value the node produces.</summary>
    public Value Output { get; }

    /// <summary>The attributes as <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">The node has no attributes of that type.</exception>
    public T GetAttributes<T>()
        where T : class =>
        Attributes as T
        ?? throw new InvalidOperationException($"Node '{Name}' ({Kind}) has attributes of type {Attributes?.GetType().Name ?? "none"}, not {typeof(T).Name}.");

    /// <summary>"name: Kind(inputs) -> output shape".</summary>
    public override string ToString() => $"{Name}: {Kind}({string.Join(", ", Inputs.Select(v => v.Name))}) -> {Output.Shape}";
}
