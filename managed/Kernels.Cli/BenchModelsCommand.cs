using System.CommandLine;
using System.Text.Json;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Kernels.Graph.Execution;
using Kernels.Graph.Zoo;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary><c>kernels bench models</c>: one line per zoo network with min/median latency, like ncnn's benchncnn.</summary>
internal static class BenchModelsCommand
{
    public static Command Create(CliContext context)
    {
        var threads = new Option<int>("--threads") { Description = "Threads, pinned to the fastest cores first.", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "Timed runs per network.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs per network before timing.", DefaultValueFactory = _ => 5 };
        var models = new Option<string?>("--models") { Description = $"Comma-separated zoo names (default: all of {string.Join(", ", ModelZoo.Names)})." };
        var tune = new Option<bool>("--tune") { Description = "Choose each convolution's algorithm by measuring the candidates (cached per machine in ~/.cache/kernels/conv-algorithms.json) instead of the cost heuristic." };
        Option<bool> json = KernelsCommand.JsonOption();
        var precision = new PrecisionOptions();
        var command = new Command("models", "Latency of every zoo network (AlexNet, GoogLeNet, MobileNet v1/v2, ResNet50, SqueezeNet 1.1/1.0).")
        {
            threads, iterations, warmup, models, tune, json,
        };
        foreach (Option option in precision.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => Execute(
            context, parse.GetValue(threads), parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(models), parse.GetValue(tune), parse.GetValue(json),
            precision.Read(parse)));
        return command;
    }

    private static int Execute(CliContext context, int threads, int iterations, int warmup, string? models, bool tune, bool json, PrecisionOptions.Choice precision)
    {
        CpuTopology topology = CpuTopology.Detect();
        KernelsCommand.CheckThreads(threads, topology.CoreCount);
        CheckRuns(iterations, warmup);
        IReadOnlyList<string> names = models is null ? ModelZoo.Names : ParseNames(models);

        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        var reports = new List<ModelBenchReport>();
        var tuner = tune ? new Kernels.Cpu.Convolution.ConvolutionTuner() : null;
        using (ThreadAffinity.PinCurrentThread(cores[0]))
        using (var workers = new WorkerGroup(threads, cores, "bench-models"))
        {
            foreach (string name in names)
            {
                context.WriteProgress($"{name}: planning, then {warmup} warm-up and {iterations} timed runs on {threads} thread(s), cores {string.Join(",", cores)}...");
                var graph = ModelZoo.Create(name);
                var quantization = precision.Calibrate(context, graph, null);
                using var session = InferenceSession.Create(graph, new InferenceOptions { Workers = workers, Tuner = tuner, Quantization = quantization });
                var input = LatencyStats.RandomInput(session.InputShape.ElementCount);
                var output = new float[session.OutputShape.ElementCount];
                var stats = LatencyStats.Measure(session, input, output, warmup, iterations);
                reports.Add(new ModelBenchReport(
                    name, threads, stats.MinMs, stats.MedianMs, stats.P90Ms, stats.ImagesPerSecond(session.InputShape.N),
                    session.PlanBuildTime.TotalMilliseconds, session.ArenaBytes, session.TotalIntermediateBytes, iterations)
                {
                    Precision = precision.Int8 ? "int8" : "fp32",
                    QuantizedLayers = session.QuantizedLayers,
                });
            }
        }

        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(reports, CliJsonContext.Default.IReadOnlyListModelBenchReport));
            return ExitCodes.Success;
        }

        var table = new Table();
        table.AddColumns("Network", "Precision", "Threads", "min ms", "median ms", "p90 ms", "images/s", "plan ms", "arena MiB", "intermediates MiB");
        foreach (var r in reports)
        {
            table.AddRow(
                r.Name, r.Precision, r.Threads.ToString(), $"{r.MinMs:0.00}", $"{r.MedianMs:0.00}", $"{r.P90Ms:0.00}", $"{r.ImagesPerSecond:0.0}",
                $"{r.PlanMs:0}", $"{r.ArenaBytes / 1048576.0:0.0}", $"{r.IntermediateBytes / 1048576.0:0.0}");
        }

        context.Console.Write(table);
        return ExitCodes.Success;
    }

    internal static void CheckRuns(int iterations, int warmup)
    {
        if (iterations < 1)
        {
            throw new UsageException($"--iterations must be at least 1, not {iterations}.");
        }

        if (warmup < 0)
        {
            throw new UsageException($"--warmup must not be negative, not {warmup}.");
        }
    }

    private static string[] ParseNames(string models)
    {
        var names = models.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (string name in names)
        {
            if (!ModelZoo.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                throw new UsageException($"--models: unknown network '{name}'; the zoo has {string.Join(", ", ModelZoo.Names)}.");
            }
        }

        return names.Length == 0 ? throw new UsageException("--models is empty.") : names;
    }
}
