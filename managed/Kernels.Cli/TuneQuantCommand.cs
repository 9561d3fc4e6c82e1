using System.CommandLine;
using System.Text.Json;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Kernels.Graph;
using Kernels.Graph.Onnx;
using Kernels.Graph.Quantization;
using Kernels.Graph.Zoo;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels tune-quant &lt;model&gt;</c>: calibrates, measures per layer on this machine the time 8-bit saves and the
/// error it costs, and chooses which layers stay float so the network's error on the validation inputs stays within
/// the budget; writes the plan that <c>kernels run --quant-plan</c> uses.
/// </summary>
internal static class TuneQuantCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = $"A zoo network ({string.Join(", ", ModelZoo.Names)}) or an .onnx file (one input; with several outputs the error is the worst output's)." };
        var calibration = new Option<string?>("--calibration") { Description = "Folder of .npy calibration inputs. Default: seeded synthetic inputs." };
        var validation = new Option<string?>("--validation") { Description = "Folder of .npy validation inputs the error is measured on. Default: seeded synthetic inputs (other seeds)." };
        var budget = new Option<double>("--budget") { Description = "The error allowed, in (0, 1): cosine distance, or the fraction of top-1 disagreements.", Required = true };
        var metric = new Option<string>("--metric") { Description = "cosine (1 − cosine similarity of the outputs) or top1 (top-1 disagreement).", DefaultValueFactory = _ => "cosine" };
        var method = new Option<string>("--calibration-method") { Description = "minmax, percentile or mse.", DefaultValueFactory = _ => "minmax" };
        var samples = new Option<int>("--samples") { Description = "Synthetic calibration and validation inputs when no folder is given.", DefaultValueFactory = _ => 8 };
        var threads = new Option<int>("--threads") { Description = "Threads the timings run on.", DefaultValueFactory = _ => 1 };
        var output = new Option<string?>("--out") { Description = "Where to write the plan (JSON). Default: <model>.quant-plan.json in the current folder." };
        var equalize = new Option<double?>("--equalize") { Description = "Channel-equalize convolution pairs before calibrating, at this strength in [0, 1]; the plan carries the scales. Default: off." };
        Option<bool> json = KernelsCommand.JsonOption();
        var command = new Command("tune-quant", "Choose which layers run 8-bit within an error budget, measured on this machine; write the plan for run --quant-plan.")
        {
            model, calibration, validation, budget, metric, method, samples, threads, output, equalize, json,
        };
        command.SetAction(parse => Execute(
            context, parse.GetValue(model)!, parse.GetValue(calibration), parse.GetValue(validation), parse.GetValue(budget), parse.GetValue(metric)!,
            parse.GetValue(method)!, parse.GetValue(samples), parse.GetValue(threads), parse.GetValue(output), PrecisionOptions.ReadStrength(parse.GetValue(equalize)), parse.GetValue(json)));
        return command;
    }

    private static int Execute(
        CliContext context, string model, string? calibrationFolder, string? validationFolder, double budget, string metricName, string methodName,
        int samples, int threads, string? outputPath, double? equalize, bool json)
    {
        if (!(budget > 0 && budget < 1))
        {
            throw new UsageException($"--budget must be in (0, 1), not {budget}.");
        }

        QuantizationErrorMetric metric = metricName.ToLowerInvariant() switch
        {
            "cosine" => QuantizationErrorMetric.CosineDistance,
            "top1" => QuantizationErrorMetric.Top1Disagreement,
            _ => throw new UsageException($"--metric must be cosine or top1, not '{metricName}'."),
        };
        CalibrationMethod method = PrecisionOptions.ParseMethod(methodName, "--calibration-method");
        if (samples < 1)
        {
            throw new UsageException($"--samples must be at least 1, not {samples}.");
        }

        CpuTopology topology = CpuTopology.Detect();
        KernelsCommand.CheckThreads(threads, topology.CoreCount);
        (NetworkGraph graph, OnnxImportedModel? onnx) = ModelSource.Load(model);
        if (graph.Inputs.Count != 1)
        {
            throw new UsageException($"{model}: tune-quant needs a single-input network; it has {graph.Inputs.Count} inputs.");
        }

        List<float[][]> calibration = calibrationFolder is null ? PrecisionOptions.Synthetic(graph, samples, seed: 1000) : PrecisionOptions.LoadInputs(calibrationFolder, graph, onnx?.Inputs[0]);
        List<float[][]> validation = validationFolder is null ? PrecisionOptions.Synthetic(graph, samples, seed: 5000) : PrecisionOptions.LoadInputs(validationFolder, graph, onnx?.Inputs[0]);
        context.WriteProgress($"{graph.Name}: calibrating on {calibration.Count} input(s) ({method})...");
        QuantizationTable table = Calibrator.Calibrate(graph, calibration, method, equalization: equalize);

        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        QuantizationPlan plan;
        using (ThreadAffinity.PinCurrentThread(cores[0]))
        {
            plan = QuantizationTuner.Tune(graph, table, validation.Select(v => v[0]).ToList(), budget, metric, threads, progress: m => context.WriteProgress($"{graph.Name}: {m}"));
        }

        string path = outputPath ?? $"{Path.GetFileNameWithoutExtension(model)}.quant-plan.json";
        plan.Save(path);
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(
                new TuneQuantReport(
                    graph.Name, metricName, budget, plan.Error, plan.FloatMs, plan.PlanMs, plan.FloatLayers.Count, plan.Layers.Count, path,
                    plan.Layers.Select(l => new LayerTuningReport(l.Name, l.Operator, l.FloatMs, l.Int8Ms, l.SavedMs, l.ErrorAlone, l.Int8 ? "int8" : "fp32")).ToList()),
                CliJsonContext.Default.TuneQuantReport));
            return ExitCodes.Success;
        }

        var table8 = new Table();
        table8.AddColumns("Layer", "Operator", "fp32 ms", "int8 ms", "saved ms", "error alone", "precision");
        foreach (LayerTuning l in plan.Layers)
        {
            table8.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Operator), $"{l.FloatMs:0.000}", $"{l.Int8Ms:0.000}", $"{l.SavedMs:0.000}", $"{l.ErrorAlone:E2}", l.Int8 ? "int8" : "[yellow]fp32[/]");
        }

        context.Console.Write(table8);
        context.Out.WriteLine(
            $"{graph.Name}: {plan.Layers.Count - plan.FloatLayers.Count} of {plan.Layers.Count} layers 8-bit, error {plan.Error:G4} (budget {budget}, {metricName}), " +
            $"median {plan.PlanMs:0.00} ms vs {plan.FloatMs:0.00} ms float ({plan.PlanMs / plan.FloatMs:0.00}x); plan written to {path}");
        return ExitCodes.Success;
    }
}
