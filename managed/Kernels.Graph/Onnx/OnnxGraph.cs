namespace Kernels.Graph.Onnx;

/// <summary>A GraphProto: nodes in topological order, constant initializers and the declared values.</summary>
/// <param name="Name">The graph's name.</param>
/// <param name="Nodes">The nodes, topologically sorted by the writer.</param>
/// <param name="Initializers">Constant tensors (weights); a name may also appear among <paramref name="Inputs"/>.</param>
/// <param name="Inputs">Graph inputs (older writers list initializers here too).</param>
/// <param name="Outputs">Graph outputs.</param>
/// <param name="ValueInfo">Optional type and shape of intermediate values.</param>
public sealed record OnnxGraph(
    string Name, IReadOnlyList<OnnxNode> Nodes, IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs, IReadOnlyList<OnnxValueInfo> Outputs, IReadOnlyList<OnnxValueInfo> ValueInfo)
{
    /// <summary>Reads a GraphProto.</summary>
    internal static OnnxGraph Read(OnnxWireReader r)
    {
        string name = "";
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        var valueInfo = new List<OnnxValueInfo>();
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: nodes.Add(OnnxNode.Read(r.ReadMessage("node", "NodeProto"))); break;
                case 2: name = r.ReadString("name"); break;
                case 5: initializers.Add(OnnxTensor.Read(r.ReadMessage("initializer", "TensorProto"))); break;
                case 11: inputs.Add(OnnxValueInfo.Read(r.ReadMessage("input", "ValueInfoProto"))); break;
                case 12: outputs.Add(OnnxValueInfo.Read(r.ReadMessage("output", "ValueInfoProto"))); break;
                case 13: valueInfo.Add(OnnxValueInfo.Read(r.ReadMessage("value_info", "ValueInfoProto"))); break;
                case 15:
                    // Skipping it would leave a node input without a producer, found only much later.
                    throw new NotSupportedException(
                        $"ONNX graph '{name}' has a sparse initializer (GraphProto.sparse_initializer at byte {r.MessageOffset}), which this reader does not support");
                default: r.Skip(); break;
            }
        }

        return new OnnxGraph(name, nodes, initializers, inputs, outputs, valueInfo);
    }
}
