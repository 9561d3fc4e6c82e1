using System.CommandLine;
using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.IO;
using Kernels.Graph.Onnx;
using Kernels.Graph.Quantization;

namespace Kernels.Cli;

/// <summary>
/// The options that choose float32 or 8-bit execution (<c>--precision</c>, <c>--calibration</c>,
/// <c>--calibration-method</c>, <c>--calibration-samples</c>) and the calibration they imply.
/// </summary>
internal sealed class PrecisionOptions
{
    public Option<string> Precision { get; } = new("--precision")
    {
        Description = "fp32, or int8: layers with 8-bit kernels run on uint8 tensors, calibrated first (--calibration).",
        DefaultValueFactory = _ => "fp32",
    };

    public Option<string?> Calibration { get; } = new("--calibration")
    {
        Description = "With --precision int8: a folder of .npy calibration inputs (one image each, the network input's shape). Default: seeded synthetic inputs.",
    };

    public Option<string> Method { get; } = new("--calibration-method")
    {
        Description = "How each tensor's range is chosen: minmax, percentile (99.99 %) or mse.",
        DefaultValueFactory = _ => "minmax",
    };

    public Option<int> Samples { get; } = new("--calibration-samples")
    {
        Description = "Synthetic calibration inputs when no folder is given.",
        DefaultValueFactory = _ => 8,
    };

    public Option<double?> Equalize { get; } = new("--equalize")
    {
        Description = "With --precision int8: channel-equalize convolution pairs before calibrating, at this strength in [0, 1] (0.75 is a good start for BN-free depthwise networks such as BlazeFace). Default: off.",
    };

    public IEnumerable<Option> All => [Precision, Calibration, Method, Samples, Equalize];

    /// <summary>The parsed choice; throws a usage error for a bad value before anything runs.</summary>
    public Choice Read(ParseResult parse)
    {
        string precision = parse.GetValue(Precision)!.ToLowerInvariant();
        if (precision is not ("fp32" or "int8"))
        {
            throw new UsageException($"--precision must be fp32 or int8, not '{precision}'.");
        }

        CalibrationMethod method = ParseMethod(parse.GetValue(Method)!, "--calibration-method");
        int samples = parse.GetValue(Samples);
        if (samples < 1)
        {
            throw new UsageException($"--calibration-samples must be at least 1, not {samples}.");
        }

        string? folder = parse.GetValue(Calibration);
        if (folder is not null && precision != "int8")
        {
            throw new UsageException("--calibration applies to --precision int8.");
        }

        if (folder is not null && !Directory.Exists(folder))
        {
            throw new UsageException($"no such calibration folder: {folder}");
        }

        double? equalize = ReadStrength(parse.GetValue(Equalize));
        if (equalize is not null && precision != "int8")
        {
            throw new UsageException("--equalize applies to --precision int8.");
        }

        return new Choice(precision == "int8", folder, method, samples, equalize);
    }

    /// <summary>An --equalize strength: null (off) or within [0, 1]; a usage error otherwise.</summary>
    public static double? ReadStrength(double? value) =>
        value is null || (value >= 0 && value <= 1) ? value : throw new UsageException($"--equalize must be a strength in [0, 1], not {value}.");

    internal sealed record Choice(bool Int8, string? Folder, CalibrationMethod Method, int Samples, double? Equalize = null)
    {
        /// <summary>Calibrates a graph (the folder's inputs, or seeded synthetic ones), reporting progress; null for fp32.</summary>
        public QuantizationTable? Calibrate(CliContext context, NetworkGraph graph, OnnxTensorLayout? onnxInput)
        {
            if (!Int8)
            {
                return null;
            }

            List<float[][]> samples = Folder is null ? Synthetic(graph, Samples, seed: 1000) : LoadInputs(Folder, graph, onnxInput);
            context.WriteProgress($"{graph.Name}: calibrating on {samples.Count} {(Folder is null ? "synthetic" : "")} input(s), {Method}{(Equalize is double e ? $", channel equalization {e}" : "")}...");
            return Calibrator.Calibrate(graph, samples, Method, equalization: Equalize);
        }

    }

    /// <summary>minmax, percentile or mse; a usage error naming <paramref name="option"/> otherwise.</summary>
    public static CalibrationMethod ParseMethod(string value, string option) => value.ToLowerInvariant() switch
    {
        "minmax" => CalibrationMethod.MinMax,
        "percentile" => CalibrationMethod.Percentile,
        "mse" => CalibrationMethod.Mse,
        _ => throw new UsageException($"{option} must be minmax, percentile or mse, not '{value}'."),
    };

    /// <summary><paramref name="count"/> seeded uniform [0, 1) inputs for every graph input.</summary>
    public static List<float[][]> Synthetic(NetworkGraph graph, int count, int seed) =>
        Enumerable.Range(0, count).Select(s => graph.Inputs.Select((v, i) => LatencyStats.RandomInput(v.Shape.ElementCount, seed: seed + (s * 16) + i)).ToArray()).ToList();

    /// <summary>Every .npy file of a folder (sorted by name) as one input of a single-input graph: its ONNX shape or NHWC.</summary>
    public static List<float[][]> LoadInputs(string folder, NetworkGraph graph, OnnxTensorLayout? onnxInput)
    {
        if (graph.Inputs.Count != 1)
        {
            throw new UsageException($"{folder}: .npy inputs feed single-input networks; '{graph.Name}' has {graph.Inputs.Count} inputs.");
        }

        if (!Directory.Exists(folder))
        {
            throw new UsageException($"no such folder: {folder}");
        }

        string[] files = Directory.GetFiles(folder, "*.npy").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0)
        {
            throw new UsageException($"{folder}: no .npy files.");
        }

        TensorShape shape = graph.Inputs[0].Shape;
        var samples = new List<float[][]>();
        foreach (string file in files)
        {
            NpyArray array;
            try
            {
                array = NpyArray.Load(file);
            }
            catch (InvalidDataException e)
            {
                throw new UsageException(e.Message);
            }

            if (array.DataType != DataType.Float32)
            {
                throw new UsageException($"{file}: inputs must be float32; it is {array.DataType}.");
            }

            long[] nhwc = [shape.N, shape.H, shape.W, shape.C];
            if (onnxInput is not null && array.Shape.SequenceEqual(onnxInput.OnnxDims))
            {
                samples.Add([onnxInput.ToInternal(array.ToFloats())]);
            }
            else if (array.Shape.SequenceEqual(nhwc))
            {
                samples.Add([array.ToFloats()]);
            }
            else
            {
                string expected = onnxInput is null ? $"[{string.Join(", ", nhwc)}] (NHWC)" : $"[{string.Join(", ", onnxInput.OnnxDims)}]";
                throw new UsageException($"{file}: shape ({string.Join(", ", array.Shape)}); the network input is {expected}.");
            }
        }

        return samples;
    }
}
