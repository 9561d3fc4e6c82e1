namespace Kernels.Graph.Onnx;

/// <summary>A NodeProto: one operator application.</summary>
/// <param name="Name">The node's name; may be empty.</param>
/// <param name="OpType">The operator (e.g. "Conv").</param>
/// <param name="Domain">The operator set domain; empty for the default ONNX domain.</param>
/// <param name="Inputs">Input value names in operator order; an empty name is an omitted optional input.</param>
/// <param name="Outputs">Output value names in operator order.</param>
/// <param name="Attributes">The node's attributes in file order.</param>
public sealed record OnnxNode(
    string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttribute> Attributes)
{
    /// <summary>The attribute called <paramref name="name"/>, or null when the node has none of that name.</summary>
    public OnnxAttribute? FindAttribute(string name)
    {
        foreach (var attribute in Attributes)
        {
            if (attribute.Name == name)
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Reads a NodeProto.</summary>
    internal static OnnxNode Read(OnnxWireReader r)
    {
        string name = "", opType = "", domain = "";
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new List<OnnxAttribute>();
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: inputs.Add(r.ReadString("input")); break;
                case 2: outputs.Add(r.ReadString("output")); break;
                case 3: name = r.ReadString("name"); break;
                case 4: opType = r.ReadString("op_type"); break;
                case 5: attributes.Add(OnnxAttribute.Read(r.ReadMessage("attribute", "AttributeProto"))); break;
                case 7: domain = r.ReadString("domain"); break;
                default: r.Skip(); break;
            }
        }

        if (opType.Length == 0)
        {
            throw new InvalidDataException($"ONNX node '{name}' (NodeProto at byte {r.MessageOffset}) has no op_type");
        }

        return new OnnxNode(name, opType, domain, inputs, outputs, attributes);
    }
}
