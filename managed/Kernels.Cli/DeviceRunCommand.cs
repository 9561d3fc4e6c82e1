using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.Graph.IO;
using Kernels.Graph.Onnx;
using Kernels.Graph.Zoo;
using Kernels.OpenCL.Runtime;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels run &lt;model&gt; --component opencl[:N][!]</c>: the whole network on an OpenCL device (a
/// <see cref="DeviceSession"/>), timed with transfers, with per-layer device times from profiling events. Without
/// the '!' a network the device cannot run (no OpenCL, a node without a device kernel, a build, resource or memory
/// failure) runs on the CPU instead, after one line saying why.
/// </summary>
internal static class DeviceRunCommand
{
    /// <summary>The <c>--component</c> option of <c>kernels run</c>.</summary>
    public static Option<string> ComponentOption() => new("--component")
    {
        Description = "cpu, or opencl[:N] to run every layer on OpenCL device N (default 0), falling back to the CPU with the reason when it cannot; opencl[:N]! demands the device (an error instead).",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The <c>--cl-precision</c> option of <c>kernels run</c>: how the OpenCL executor stores tensors.</summary>
    public static Option<string> ClPrecisionOption() => new("--cl-precision")
    {
        Description = "With --component opencl: fp32, or fp16 to store weights and activations in half on the device (half arithmetic where the device has cl_khr_fp16, float arithmetic otherwise); inputs and outputs stay float32.",
        DefaultValueFactory = _ => "fp32",
    };

    /// <summary>Parses <c>--cl-precision</c>.</summary>
    public static DevicePrecision ParseClPrecision(string text)
    {
        try
        {
            return DevicePrecisions.Parse(text);
        }
        catch (ArgumentException)
        {
            throw new UsageException($"unknown --cl-precision '{text}': expected fp32 or fp16.");
        }
    }

    /// <summary>
    /// Runs the network on the device <paramref name="componentText"/> names and returns the exit code; null when
    /// the component is the CPU, or the device cannot run it and was not demanded (the reason is written): the caller
    /// then runs it on the CPU.
    /// </summary>
    public static int? RunOnDevice(
        CliContext context, string model, string componentText, bool int8, NpyArray? inputArray, string? inputPath, string? outputPath, int iterations, int warmup, bool profile, bool json,
        DevicePrecision precision = DevicePrecision.Float32)
    {
        Component component;
        try
        {
            component = Component.Parse(componentText);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--component: {e.Message}");
        }

        if (component.Kind == ComponentKind.Cpu)
        {
            if (precision != DevicePrecision.Float32)
            {
                throw new UsageException($"--cl-precision {precision.ToName()} applies to --component opencl[:N] only; the CPU runs fp32 (or int8 with --precision int8).");
            }

            return null;
        }

        if (int8)
        {
            throw new UsageException($"--component {componentText}: the OpenCL executor runs float32; the 8-bit path (--precision int8, --quant-plan) runs on the CPU.");
        }

        (NetworkGraph graph, OnnxImportedModel? onnx) = ModelSource.Load(model);
        if (inputArray is not null && graph.Inputs.Count > 1)
        {
            throw new UsageException($"{model} has {graph.Inputs.Count} inputs; --input feeds a single-input network (the others run on seeded random inputs without it).");
        }

        context.WriteProgress($"planning {model} on {component}...");
        DeviceSession session;
        try
        {
            session = ComponentSession.CreateOnDevice(graph, component.Device, new DeviceSessionOptions { Profile = profile, Precision = precision });
        }
        catch (Exception e) when (ComponentSession.IsDeviceFailure(e))
        {
            string reason = $"{component} cannot run {graph.Name}: {e.Message.Split('\n')[0].TrimEnd()}";
            if (component.Required)
            {
                context.WriteError(reason);
                return ExitCodes.Failure;
            }

            context.WriteProgress($"{reason}; running it on the CPU instead.");
            return null;
        }

        using (session)
        {
            return Execute(context, model, component, session, onnx, inputArray, inputPath, outputPath, iterations, warmup, json);
        }
    }

    private static int Execute(
        CliContext context, string model, Component component, DeviceSession session, OnnxImportedModel? onnx, NpyArray? inputArray, string? inputPath, string? outputPath, int iterations, int warmup, bool json)
    {
        var inputs = new float[session.InputShapes.Count][];
        for (int k = 0; k < inputs.Length; k++)
        {
            inputs[k] = inputArray is null
                ? LatencyStats.RandomInput(session.InputShapes[k].ElementCount, seed: 1 + k)
                : onnx is null ? RunCommand.ToNhwc(inputArray, session.InputShape, inputPath!) : RunCommand.FromOnnx(inputArray, onnx.Inputs[0], inputPath!);
        }

        var outputs = session.OutputShapes.Select(s => new float[s.ElementCount]).ToArray();
        ReadOnlyMemory<float>[] ins = Array.ConvertAll(inputs, a => (ReadOnlyMemory<float>)a);
        Memory<float>[] outs = Array.ConvertAll(outputs, a => (Memory<float>)a);
        string device = $"opencl:{component.Device} {session.Device.Name}";
        context.WriteProgress(
            $"{session.Name}: {session.LayerCount} layers on {device}, plan {session.PlanBuildTime.TotalMilliseconds:0} ms; {warmup} warm-up and {iterations} timed runs (input and output transfers included)...");
        LatencyStats stats = LatencyStats.Measure(
            () => session.Run(ins, outs), session.ResetProfile, warmup, iterations, done =>
            {
                if (!json && (done == iterations || done % Math.Max(1, iterations / 4) == 0))
                {
                    context.WriteProgress($"{done}/{iterations} runs");
                }
            });

        if (outputPath is not null)
        {
            RunCommand.SaveOutputs(outputPath, session.OutputShapes, onnx, outputs);
        }

        List<LayerReport>? layers = session.Profile.Count > 0 ? RunCommand.Layers(session.Profile) : null;
        var report = new DeviceRunReport(
            session.Name, component.ToString(), session.Device.Name, iterations, warmup, stats.MinMs, stats.MedianMs, stats.P90Ms, stats.MeanMs,
            stats.ImagesPerSecond(session.InputShape.N), session.PlanBuildTime.TotalMilliseconds, session.IntermediateBytes,
            session.InputShape.ToString(), session.OutputShape.ToString(), RunCommand.TopClass(outputs[0], session.OutputShape), outputPath,
            layers, layers?.Sum(l => l.Milliseconds))
        {
            Precision = session.Precision.ToName(),
        };
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, DeviceCliJsonContext.Default.DeviceRunReport));
            return ExitCodes.Success;
        }

        var summary = new Table();
        summary.AddColumns("Network", "Component", "precision", "min ms", "median ms", "p90 ms", "images/s", "plan ms", "buffers MiB", "top-1 of image 0");
        summary.AddRow(Markup.Escape(report.Model), Markup.Escape(device), report.Precision, $"{report.MinMs:0.00}", $"{report.MedianMs:0.00}", $"{report.P90Ms:0.00}",
            $"{report.ImagesPerSecond:0.0}", $"{report.PlanMs:0}", $"{report.IntermediateBytes / 1048576.0:0.0}", report.TopClass.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Console.Write(summary);
        if (layers is not null)
        {
            var table = new Table();
            table.AddColumns("Layer", "Operator", "Input", "Output", "Kernel", "device ms", "GFLOP/s", "share");
            foreach (LayerReport l in layers)
            {
                table.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Operator), l.InputShape, l.OutputShape, Markup.Escape(l.Algorithm),
                    $"{l.Milliseconds:0.000}", $"{l.Gflops:0.0}", $"{l.Share:P1}");
            }

            context.Console.Write(table);
            context.Console.WriteLine($"device ms: kernel time from profiling events, {report.KernelMs:0.00} ms per run in all; latency includes the transfers and launches.");
        }

        return ExitCodes.Success;
    }
}

/// <summary><c>kernels run --component opencl</c>: latency with transfers, and per-layer device times when profiled.</summary>
/// <param name="Component">"opencl:N" (with '!' when demanded).</param>
/// <param name="Device">The OpenCL device's name.</param>
/// <param name="IntermediateBytes">Device buffers holding the intermediate tensors.</param>
/// <param name="KernelMs">Sum of the layers' device times per run (profiled runs only).</param>
internal sealed record DeviceRunReport(
    string Model, string Component, string Device, int Iterations, int Warmup, double MinMs, double MedianMs, double P90Ms, double MeanMs,
    double ImagesPerSecond, double PlanMs, long IntermediateBytes, string InputShape, string OutputShape, int TopClass,
    string? OutputFile, IReadOnlyList<LayerReport>? Layers, double? KernelMs)
{
    /// <summary>The device storage precision, fp32 or fp16 (--cl-precision).</summary>
    public string Precision { get; init; } = "fp32";
}

/// <summary>JSON of the OpenCL commands (as <see cref="CliJsonContext"/>: camelCase, indented, source-generated).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(DeviceRunReport))]
[JsonSerializable(typeof(TuneClReport))]
internal sealed partial class DeviceCliJsonContext : JsonSerializerContext;
