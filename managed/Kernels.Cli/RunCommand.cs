using System.CommandLine;
using System.Text.Json;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Kernels.Graph.Execution;
using Kernels.Graph.IO;
using Kernels.Graph.Onnx;
using Kernels.Graph.Zoo;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary><c>kernels run &lt;zoo-name|model.onnx&gt;</c>: plans a network, runs it, reports latency (and per-layer times).</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = $"A zoo network ({string.Join(", ", ModelZoo.Names)}) or an .onnx file." };
        var input = new Option<string?>("--input") { Description = "Input .npy (float32, NHWC or NCHW with the network's shape); default: a seeded random input." };
        var output = new Option<string?>("--output") { Description = "Write the output to this .npy file (float32; [N, C] for a classifier, else NHWC)." };
        var threads = new Option<int>("--threads") { Description = "Threads, pinned to the fastest cores first.", DefaultValueFactory = _ => 1 };
        var iterations = new Option<int>("--iterations") { Description = "Timed runs.", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs before timing.", DefaultValueFactory = _ => 5 };
        var profile = new Option<bool>("--profile") { Description = "Add a per-layer table: operator, shapes, algorithm, ms, GFLOP/s, share of the total." };
        var tune = new Option<bool>("--tune") { Description = "Choose each convolution's algorithm by measuring the candidates (cached per machine in ~/.cache/kernels/conv-algorithms.json) instead of the cost heuristic." };
        Option<bool> json = KernelsCommand.JsonOption();
        var precision = new PrecisionOptions();
        var plan = new Option<string?>("--quant-plan") { Description = "Run 8-bit with a plan from kernels tune-quant (its calibration and the layers it keeps float)." };
        Option<string> component = DeviceRunCommand.ComponentOption();
        Option<string> clPrecision = DeviceRunCommand.ClPrecisionOption();
        var command = new Command("run", "Run a network: median and p90 latency, images/s, optionally per-layer times.")
        {
            model, input, output, threads, iterations, warmup, profile, tune, json, component, clPrecision,
        };
        foreach (Option option in precision.All)
        {
            command.Options.Add(option);
        }

        command.Options.Add(plan);
        command.SetAction(parse => Execute(
            context, parse.GetValue(model)!, parse.GetValue(input), parse.GetValue(output), parse.GetValue(threads),
            parse.GetValue(iterations), parse.GetValue(warmup), parse.GetValue(profile), parse.GetValue(tune), parse.GetValue(json), precision.Read(parse), parse.GetValue(plan),
            parse.GetValue(component)!, DeviceRunCommand.ParseClPrecision(parse.GetValue(clPrecision)!)));
        return command;
    }

    private static int Execute(
        CliContext context, string model, string? inputPath, string? outputPath, int threads, int iterations, int warmup, bool profile, bool tune, bool json,
        PrecisionOptions.Choice precision, string? planPath, string component, Kernels.OpenCL.Runtime.DevicePrecision clPrecision)
    {
        (Kernels.Graph.Quantization.QuantizationTable Table, IReadOnlySet<string> FloatLayers)? plan = null;
        if (planPath is not null)
        {
            if (!File.Exists(planPath))
            {
                throw new UsageException($"no such quantization plan: {planPath}");
            }

            try
            {
                plan = Kernels.Graph.Quantization.QuantizationPlan.Load(planPath);
            }
            catch (InvalidDataException e)
            {
                throw new UsageException(e.Message);
            }

            precision = precision with { Int8 = true, Folder = null };
        }

        CpuTopology topology = CpuTopology.Detect();
        KernelsCommand.CheckThreads(threads, topology.CoreCount);
        BenchModelsCommand.CheckRuns(iterations, warmup);
        ModelSource.Check(model);

        NpyArray? inputArray = null;
        if (inputPath is not null)
        {
            if (!File.Exists(inputPath))
            {
                throw new UsageException($"no such input file: {inputPath}");
            }

            inputArray = Load(inputPath);
        }

        // --component opencl[:N]: on the device; null (cpu, or a device that cannot run it and was not demanded): here, on the CPU.
        if (DeviceRunCommand.RunOnDevice(context, model, component, precision.Int8, inputArray, inputPath, outputPath, iterations, warmup, profile, json, clPrecision) is int exit)
        {
            return exit;
        }

        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        using var pin = ThreadAffinity.PinCurrentThread(cores[0]);
        using var workers = new WorkerGroup(threads, cores, "run");
        (Kernels.Graph.NetworkGraph graph, OnnxImportedModel? onnx) = ModelSource.Load(model);
        // A QDQ model carries its own parameters: with --precision int8 and no calibration folder they are used as they are.
        var quantization = plan?.Table
            ?? (precision.Int8 && precision.Folder is null && onnx?.Quantization is { } carried ? carried : precision.Calibrate(context, graph, onnx?.Inputs[0]));
        var options = new InferenceOptions
        {
            Workers = workers, Profile = profile, Tuner = tune ? new Kernels.Cpu.Convolution.ConvolutionTuner() : null, Quantization = quantization, FloatLayers = plan?.FloatLayers,
        };
        context.WriteProgress(tune ? $"planning {model}, measuring each new convolution shape's algorithms..." : $"planning {model}...");
        using var session = InferenceSession.Create(graph, options);
        if (inputArray is not null && session.InputShapes.Count > 1)
        {
            throw new UsageException($"{model} has {session.InputShapes.Count} inputs; --input feeds a single-input network (the others run on seeded random inputs without it).");
        }

        var inputs = new float[session.InputShapes.Count][];
        for (int k = 0; k < inputs.Length; k++)
        {
            inputs[k] = inputArray is null
                ? LatencyStats.RandomInput(session.InputShapes[k].ElementCount, seed: 1 + k)
                : onnx is null ? ToNhwc(inputArray, session.InputShape, inputPath!) : FromOnnx(inputArray, onnx.Inputs[0], inputPath!);
        }

        var outputs = session.OutputShapes.Select(s => new float[s.ElementCount]).ToArray();
        var result = outputs[0];

        context.WriteProgress($"{session.Name}: {session.LayerCount} layers, plan {session.PlanBuildTime.TotalMilliseconds:0} ms; {warmup} warm-up and {iterations} timed runs on {threads} thread(s)...");
        LatencyStats stats = RunWithProgress(context, session, inputs, outputs, warmup, iterations, showBar: !json);

        if (outputPath is not null)
        {
            SaveOutputs(outputPath, session.OutputShapes, onnx, outputs);
        }

        var layers = profile ? Layers(session.Profile) : null;
        var report = new RunReport(
            session.Name, threads, iterations, warmup, stats.MinMs, stats.MedianMs, stats.P90Ms, stats.MeanMs,
            stats.ImagesPerSecond(session.InputShape.N), session.PlanBuildTime.TotalMilliseconds, session.ArenaBytes,
            session.InputShape.ToString(), session.OutputShape.ToString(), TopClass(result, session.OutputShape), outputPath, layers, stats.AllocatedBytesPerRun)
        {
            Precision = precision.Int8 ? "int8" : "fp32",
            QuantizedLayers = session.QuantizedLayers,
            ConversionMs = layers?.Where(l => l.IsConversion).Sum(l => l.Milliseconds),
            ConversionShare = layers?.Where(l => l.IsConversion).Sum(l => l.Share),
            SaturatedValues = layers?.Sum(l => l.SaturatedValues),
        };
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.RunReport));
            return ExitCodes.Success;
        }

        var summary = new Table();
        summary.AddColumns("Network", "Threads", "min ms", "median ms", "p90 ms", "images/s", "plan ms", "arena MiB", "top-1 of image 0");
        summary.AddRow(report.Model, threads.ToString(), $"{report.MinMs:0.00}", $"{report.MedianMs:0.00}", $"{report.P90Ms:0.00}",
            $"{report.ImagesPerSecond:0.0}", $"{report.PlanMs:0}", $"{report.ArenaBytes / 1048576.0:0.0}", report.TopClass.ToString());
        context.Console.Write(summary);
        if (precision.Int8)
        {
            context.Out.WriteLine($"int8: {session.QuantizedLayers} layers on 8-bit tensors ({session.LayerCount} steps)" + (layers is null ? "" :
                $"; quantize/dequantize conversions {report.ConversionMs:0.000} ms per run ({report.ConversionShare:P1} of the layers' time), {report.SaturatedValues} values saturated while quantizing"));
        }

        if (layers is not null)
        {
            var table = new Table();
            table.AddColumns("Layer", "Operator", "Input", "Output", "Algorithm", "ms", "GFLOP/s", "share");
            foreach (var l in layers)
            {
                table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Operator), l.InputShape, l.OutputShape, Markup.Escape(l.Algorithm),
                    $"{l.Milliseconds:0.000}", $"{l.Gflops:0.0}", $"{l.Share:P1}");
            }

            context.Console.Write(table);
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Writes output 0 to <paramref name="path"/> and output k &gt; 0 to "stem.k.npy": a zoo network's classifier
    /// output as [N, C] (NHWC otherwise), an ONNX model's outputs in their ONNX shapes and element order.
    /// </summary>
    internal static void SaveOutputs(string path, IReadOnlyList<TensorShape> outputShapes, OnnxImportedModel? onnx, float[][] outputs)
    {
        for (int k = 0; k < outputs.Length; k++)
        {
            string file = k == 0 ? path : Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}.{k}.npy");
            if (onnx is not null)
            {
                OnnxTensorLayout layout = onnx.Outputs[k];
                NpyArray.FromFloats(layout.OnnxDims.ToArray(), layout.ToOnnx(outputs[k])).Save(file);
                continue;
            }

            var shape = outputShapes[k];
            long[] dims = shape.H == 1 && shape.W == 1 ? [shape.N, shape.C] : [shape.N, shape.H, shape.W, shape.C];
            NpyArray.FromFloats(dims, outputs[k]).Save(file);
        }
    }

    /// <summary>An ONNX model's input from .npy: in the ONNX input's shape (converted to the IR's order), or already in the IR's NHWC shape.</summary>
    internal static float[] FromOnnx(NpyArray array, OnnxTensorLayout layout, string path)
    {
        if (array.DataType != DataType.Float32)
        {
            throw new UsageException($"{path}: the input must be float32; it is {array.DataType}.");
        }

        TensorShape ir = layout.Value.Shape;
        if (array.Shape.SequenceEqual(layout.OnnxDims))
        {
            return layout.ToInternal(array.ToFloats());
        }

        if (array.Shape.SequenceEqual([ir.N, ir.H, ir.W, ir.C]))
        {
            return array.ToFloats();
        }

        throw new UsageException(
            $"{path}: the input has shape ({string.Join(", ", array.Shape)}); input '{layout.OnnxName}' is [{string.Join(", ", layout.OnnxDims)}] (or [{ir.N}, {ir.H}, {ir.W}, {ir.C}] in the engine's NHWC order).");
    }

    private static LatencyStats RunWithProgress(CliContext context, InferenceSession session, float[][] inputs, float[][] outputs, int warmup, int iterations, bool showBar)
    {
        if (!showBar || Console.IsErrorRedirected || !ReferenceEquals(context.Error, Console.Error))
        {
            return LatencyStats.Measure(session, inputs, outputs, warmup, iterations);
        }

        LatencyStats? stats = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.Progress().Start(ctx =>
        {
            var task = ctx.AddTask($"{session.Name}", maxValue: iterations);
            stats = LatencyStats.Measure(session, inputs, outputs, warmup, iterations, done => task.Value = done);
        });
        return stats!;
    }

    private static NpyArray Load(string path)
    {
        try
        {
            return NpyArray.Load(path);
        }
        catch (InvalidDataException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The .npy input as NHWC: accepted as [N,H,W,C] or, converted, as ONNX's [N,C,H,W].</summary>
    internal static float[] ToNhwc(NpyArray array, TensorShape shape, string path)
    {
        if (array.DataType != DataType.Float32)
        {
            throw new UsageException($"{path}: the input must be float32; it is {array.DataType}.");
        }

        var dims = array.Shape;
        string expected = $"[{shape.N}, {shape.H}, {shape.W}, {shape.C}] (NHWC) or [{shape.N}, {shape.C}, {shape.H}, {shape.W}] (NCHW)";
        if (dims.Count != 4)
        {
            throw new UsageException($"{path}: the input has shape ({string.Join(", ", dims)}); expected {expected}.");
        }

        var values = array.ToFloats();
        if (dims[0] == shape.N && dims[1] == shape.H && dims[2] == shape.W && dims[3] == shape.C)
        {
            return values;
        }

        if (dims[0] == shape.N && dims[1] == shape.C && dims[2] == shape.H && dims[3] == shape.W)
        {
            var nhwc = new float[values.Length];
            int hw = shape.H * shape.W;
            for (int n = 0; n < shape.N; n++)
            {
                for (int c = 0; c < shape.C; c++)
                {
                    for (int p = 0; p < hw; p++)
                    {
                        nhwc[((long)n * hw + p) * shape.C + c] = values[((long)n * shape.C + c) * hw + p];
                    }
                }
            }

            return nhwc;
        }

        throw new UsageException($"{path}: the input has shape ({string.Join(", ", dims)}); expected {expected}.");
    }

    internal static int TopClass(float[] output, TensorShape shape)
    {
        int best = 0;
        for (int c = 1; c < shape.C && c < output.Length; c++)
        {
            if (output[c] > output[best])
            {
                best = c;
            }
        }

        return best;
    }

    internal static List<LayerReport> Layers(IReadOnlyList<LayerProfile> profile)
    {
        double total = profile.Sum(static l => l.Milliseconds);
        return profile.Select(l => new LayerReport(
            l.Name, l.Operator, l.InputShape.ToString(), l.OutputShape.ToString(), l.Algorithm, l.Milliseconds, l.Gflops,
            total > 0 ? l.Milliseconds / total : 0)
        {
            Quantized = l.Quantized,
            IsConversion = l.IsConversion,
            SaturatedValues = l.SaturatedValues,
        }).ToList();
    }
}
