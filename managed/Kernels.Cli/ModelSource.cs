using Kernels.Graph;
using Kernels.Graph.Onnx;
using Kernels.Graph.Zoo;

namespace Kernels.Cli;

/// <summary>The model argument every command takes: a zoo name or an .onnx file.</summary>
internal static class ModelSource
{
    public static bool IsZoo(string model) => ModelZoo.Names.Contains(model, StringComparer.OrdinalIgnoreCase);

    /// <summary>A usage error unless <paramref name="model"/> is a zoo name or an existing file; cheap, so commands call it before any work.</summary>
    public static void Check(string model)
    {
        if (!IsZoo(model) && !File.Exists(model))
        {
            throw new UsageException(
                model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || model.Contains('/')
                    ? $"no such model file: {model}"
                    : $"'{model}' is neither a zoo network ({string.Join(", ", ModelZoo.Names)}) nor an existing .onnx file.");
        }
    }

    /// <summary>The graph and, for an ONNX file, the imported model with its input/output layouts (a malformed or unsupported file is a usage error naming it).</summary>
    public static (NetworkGraph Graph, OnnxImportedModel? Onnx) Load(string model)
    {
        Check(model);
        if (IsZoo(model))
        {
            return (ModelZoo.Create(model), null);
        }

        try
        {
            OnnxImportedModel onnx = OnnxImporter.LoadModel(model);
            return (onnx.Graph, onnx);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException)
        {
            throw new UsageException($"{model}: {e.Message}");
        }
    }
}
