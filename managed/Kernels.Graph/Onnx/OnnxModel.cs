namespace Kernels.Graph.Onnx;

/// <summary>An OperatorSetIdProto: the version of one operator set the model was written against.</summary>
/// <param name="Domain">The domain; empty for the default ONNX operators ("ai.onnx").</param>
/// <param name="Version">The operator set version.</param>
public sealed record OnnxOpsetImport(string Domain, long Version);

/// <summary>
/// A ModelProto read from an .onnx file: the first layer of ONNX import. It holds what the file says,
/// unchanged (NCHW shapes, ONNX operator names); mapping to the engine's graph happens above it.
/// </summary>
/// <param name="IrVersion">The ONNX IR version.</param>
/// <param name="OpsetImports">The operator sets the nodes bind to.</param>
/// <param name="ProducerName">The tool that wrote the file.</param>
/// <param name="ProducerVersion">That tool's version.</param>
/// <param name="Domain">The model's domain (reverse DNS).</param>
/// <param name="ModelVersion">The model's own version number.</param>
/// <param name="Graph">The main graph.</param>
public sealed record OnnxModel(
    long IrVersion, IReadOnlyList<OnnxOpsetImport> OpsetImports, string ProducerName, string ProducerVersion,
    string Domain, long ModelVersion, OnnxGraph Graph)
{
    /// <summary>The opset version imported for <paramref name="domain"/> ("" or "ai.onnx" for the default operators), or null.</summary>
    public long? OpsetVersion(string domain = "")
    {
        bool wantDefault = domain is "" or "ai.onnx";
        foreach (var import in OpsetImports)
        {
            if (import.Domain == domain || (wantDefault && import.Domain is "" or "ai.onnx"))
            {
                return import.Version;
            }
        }

        return null;
    }

    /// <summary>Reads an .onnx file.</summary>
    /// <exception cref="InvalidDataException">The file is truncated or malformed; the message names the field and byte offset.</exception>
    /// <exception cref="NotSupportedException">The model uses external data, chunked tensors or sparse initializers.</exception>
    public static OnnxModel Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return Read(bytes);
    }

    /// <summary>Parses a serialized ModelProto.</summary>
    /// <exception cref="InvalidDataException">The bytes are truncated or malformed; the message names the field and byte offset.</exception>
    /// <exception cref="NotSupportedException">The model uses external data, chunked tensors or sparse initializers.</exception>
    public static OnnxModel Parse(ReadOnlySpan<byte> data) => Read(data.ToArray());

    private static OnnxModel Read(byte[] bytes)
    {
        var r = new OnnxWireReader(bytes, 0, bytes.Length, "ModelProto");
        long irVersion = 0, modelVersion = 0;
        string producerName = "", producerVersion = "", domain = "";
        var opsets = new List<OnnxOpsetImport>();
        OnnxGraph? graph = null;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: irVersion = r.ReadInt64("ir_version"); break;
                case 2: producerName = r.ReadString("producer_name"); break;
                case 3: producerVersion = r.ReadString("producer_version"); break;
                case 4: domain = r.ReadString("domain"); break;
                case 5: modelVersion = r.ReadInt64("model_version"); break;
                case 7:
                    // Protobuf would merge two graph fields; no ONNX writer emits two, so a second one is damage.
                    if (graph is not null)
                    {
                        throw r.Error("graph", "a second graph field");
                    }

                    graph = OnnxGraph.Read(r.ReadMessage("graph", "GraphProto"));
                    break;
                case 8: opsets.Add(ReadOpset(r.ReadMessage("opset_import", "OperatorSetIdProto"))); break;
                default: r.Skip(); break;
            }
        }

        if (graph is null)
        {
            throw new InvalidDataException($"ONNX ModelProto ({bytes.Length} bytes) has no graph field: not an ONNX model, or truncated");
        }

        return new OnnxModel(irVersion, opsets, producerName, producerVersion, domain, modelVersion, graph);
    }

    private static OnnxOpsetImport ReadOpset(OnnxWireReader r)
    {
        string domain = "";
        long version = 0;
        while (r.NextField())
        {
            switch (r.Field)
            {
                case 1: domain = r.ReadString("domain"); break;
                case 2: version = r.ReadInt64("version"); break;
                default: r.Skip(); break;
            }
        }

        return new OnnxOpsetImport(domain, version);
    }
}
