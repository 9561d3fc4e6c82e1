using System.CommandLine;
using System.Text.Json;
using Kernels.Graph;
using Kernels.Graph.Onnx;
using Kernels.Graph.Quantization;
using Kernels.Graph.Zoo;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels quantize &lt;model&gt; --out model.qdq.onnx</c>: calibrates a network and writes it as an ONNX QDQ model
/// (uint8 QuantizeLinear/DequantizeLinear around each calibrated activation, int8 per-channel weights) that this
/// engine and other runtimes run.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = $"A zoo network ({string.Join(", ", ModelZoo.Names)}) or an .onnx file." };
        var output = new Option<string>("--out") { Description = "The QDQ .onnx file to write.", Required = true };
        var calibration = new Option<string?>("--calibration") { Description = "Folder of .npy calibration inputs. Default: seeded synthetic inputs." };
        var method = new Option<string>("--method") { Description = "How each tensor's range is chosen: minmax, percentile or mse.", DefaultValueFactory = _ => "minmax" };
        var samples = new Option<int>("--samples") { Description = "Synthetic calibration inputs when no folder is given.", DefaultValueFactory = _ => 8 };
        var equalize = new Option<double?>("--equalize") { Description = "Channel-equalize convolution pairs before calibrating, at this strength in [0, 1] (the exported weights are the equalized ones). Default: off." };
        Option<bool> json = KernelsCommand.JsonOption();
        var command = new Command("quantize", "Calibrate a network and write it as an ONNX QDQ model (int8 weights, uint8 activations).")
        {
            model, output, calibration, method, samples, equalize, json,
        };
        command.SetAction(parse => Execute(
            context, parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(calibration), parse.GetValue(method)!, parse.GetValue(samples),
            PrecisionOptions.ReadStrength(parse.GetValue(equalize)), parse.GetValue(json)));
        return command;
    }

    private static int Execute(CliContext context, string model, string outputPath, string? folder, string methodName, int samples, double? equalize, bool json)
    {
        CalibrationMethod method = PrecisionOptions.ParseMethod(methodName, "--method");
        if (samples < 1)
        {
            throw new UsageException($"--samples must be at least 1, not {samples}.");
        }

        (NetworkGraph graph, OnnxImportedModel? onnx) = ModelSource.Load(model);
        List<float[][]> inputs = folder is null ? PrecisionOptions.Synthetic(graph, samples, seed: 1000) : PrecisionOptions.LoadInputs(folder, graph, onnx?.Inputs[0]);
        context.WriteProgress($"{graph.Name}: calibrating on {inputs.Count} input(s) ({method})...");
        QuantizationTable table = Calibrator.Calibrate(graph, inputs, method, equalization: equalize);
        try
        {
            OnnxExporter.Export(graph, table, outputPath);
        }
        catch (NotSupportedException e)
        {
            throw new UsageException($"{model}: cannot export: {e.Message}");
        }

        long bytes = new FileInfo(outputPath).Length;
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(new QuantizeReport(graph.Name, outputPath, bytes, table.Parameters.Count, method.ToString(), inputs.Count), CliJsonContext.Default.QuantizeReport));
        }
        else
        {
            context.Out.WriteLine($"{graph.Name}: {table.Parameters.Count} tensors calibrated ({method}, {inputs.Count} inputs); QDQ model written to {outputPath} ({bytes / 1024.0:0} KiB)");
        }

        return ExitCodes.Success;
    }
}
