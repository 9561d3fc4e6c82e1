using Kernels.Core;

namespace Kernels.Graph;

/// <summary>
/// A network: inputs, outputs, and nodes in topological order (every node reads only graph inputs and
/// outputs of earlier nodes). Immutable; constructing one validates it, so a <see cref="NetworkGraph"/> in hand
/// is always consistent.
/// </summary>
public sealed class NetworkGraph
{
    private readonly Node[] _nodes;
    private readonly Value[] _inputs;
    private readonly Value[] _outputs;
    private readonly Constant[] _constants;

    /// <summary>Creates and validates a graph.</summary>
    /// <exception cref="ArgumentException">The graph is inconsistent (see <see cref="Validate"/>); the message names the node.</exception>
    public NetworkGraph(string name, IReadOnlyList<Value> inputs, IReadOnlyList<Value> outputs, IReadOnlyList<Node> nodes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(nodes);
        Name = name;
        _inputs = inputs.ToArray();
        _outputs = outputs.ToArray();
        _nodes = nodes.ToArray();
        _constants = _nodes.SelectMany(n => n.Constants).Distinct().ToArray();
        Validate();
    }

    /// <summary>The network's name (the zoo name for zoo graphs).</summary>
    public string Name { get; }

    /// <summary>Values fed by the caller.</summary>
    public IReadOnlyList<Value> Inputs => _inputs;

    /// <summary>Values returned to the caller.</summary>
    public IReadOnlyList<Value> Outputs => _outputs;

    /// <summary>Nodes in topological order.</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Every distinct constant, in order of first use.</summary>
    public IReadOnlyList<Constant> Constants => _constants;

    /// <summary>
    /// Learned parameters: every constant element except batch-norm running statistics. This is what published
    /// parameter counts (e.g. ResNet50's 25.6M, torchvision's <c>parameters()</c>) count.
    /// </summary>
    public long ParameterCount => _constants
        .Where(c => c.Role is not (ConstantRole.BatchNormMean or ConstantRole.BatchNormVariance))
        .Sum(c => c.ElementCount);

    /// <summary>Every constant element, statistics included: the floats a model file stores.</summary>
    public long ConstantElementCount => _constants.Sum(c => c.ElementCount);

    /// <summary>Nodes of one operator.</summary>
    public int CountNodes(OperatorKind kind) => _nodes.Count(n => n.Kind == kind);

    /// <summary>The node with this name.</summary>
    /// <exception cref="KeyNotFoundException">No node has that name.</exception>
    public Node GetNode(string name) =>
        Array.Find(_nodes, n => n.Name == name) ?? throw new KeyNotFoundException($"Graph '{Name}' has no node '{name}'.");

    /// <summary>
    /// Checks the whole graph: unique value, node and constant names; topological order (every input defined
    /// earlier); each node's inputs, constants and attributes (<see cref="ShapeInference"/>) and its declared output
    /// shape and type; outputs defined. Runs on construction; public so passes can re-check what they rewrite.
    /// </summary>
    /// <exception cref="ArgumentException">The first inconsistency, naming the node.</exception>
    public void Validate()
    {
        if (_inputs.Length == 0)
        {
            throw new ArgumentException($"Graph '{Name}' has no input.");
        }

        if (_outputs.Length == 0)
        {
            throw new ArgumentException($"Graph '{Name}' has no output.");
        }

        var defined = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (Value input in _inputs)
        {
            if (!defined.TryAdd(input.Name, input))
            {
                throw new ArgumentException($"Graph '{Name}': input name '{input.Name}' is used twice.");
            }
        }

        var nodeNames = new HashSet<string>(StringComparer.Ordinal);
        var constants = new Dictionary<string, Constant>(StringComparer.Ordinal);
        foreach (Node node in _nodes)
        {
            if (!nodeNames.Add(node.Name))
            {
                throw new ArgumentException($"Node '{node.Name}' ({node.Kind}): another node has the same name.");
            }

            foreach (Value input in node.Inputs)
            {
                if (!defined.TryGetValue(input.Name, out Value? known) || !ReferenceEquals(known, input))
                {
                    throw new ArgumentException(
                        $"Node '{node.Name}' ({node.Kind}): input '{input.Name}' is neither a graph input nor the output of an earlier node (nodes must be in topological order).");
                }
            }

            foreach (Constant constant in node.Constants)
            {
                if (constants.TryGetValue(constant.Name, out Constant? other) && !ReferenceEquals(other, constant))
                {
                    throw new ArgumentException($"Node '{node.Name}' ({node.Kind}): constant name '{constant.Name}' belongs to another constant too.");
                }

                constants[constant.Name] = constant;
            }

            TensorShape shape = ShapeInference.Infer(node.Name, node.Kind, node.Inputs, node.Constants, node.Attributes);
            if (shape != node.Output.Shape)
            {
                throw new ArgumentException($"Node '{node.Name}' ({node.Kind}): the output '{node.Output.Name}' is declared {node.Output.Shape} but the operator produces {shape}.");
            }

            if (node.Inputs.Count > 0 && node.Output.DataType != node.Inputs[0].DataType)
            {
                throw new ArgumentException($"Node '{node.Name}' ({node.Kind}): the output is {node.Output.DataType} but the input is {node.Inputs[0].DataType}.");
            }

            if (!defined.TryAdd(node.Output.Name, node.Output))
            {
                throw new ArgumentException($"Node '{node.Name}' ({node.Kind}): output name '{node.Output.Name}' is already used by another value.");
            }
        }

        foreach (Value output in _outputs)
        {
            if (!defined.TryGetValue(output.Name, out Value? known) || !ReferenceEquals(known, output))
            {
                throw new ArgumentException($"Graph '{Name}': output '{output.Name}' is not produced by any node nor a graph input.");
            }
        }
    }

    /// <summary>"name: N nodes, P parameters".</summary>
    public override string ToString() => $"{Name}: {_nodes.Length} nodes, {ParameterCount} parameters";
}
