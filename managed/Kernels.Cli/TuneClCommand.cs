using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.Graph.Zoo;
using Kernels.OpenCL.Runtime;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels tune-cl &lt;model&gt; [--mode normal|exhaustive] [--device N]</c>: plans the network on an OpenCL device
/// with the work-size tuner measuring every kernel's local-size candidates (as ARM Compute Library's CLTuner), runs
/// it, and saves the tuner file that later sessions on that device read; prints each kernel's chosen local size.
/// </summary>
internal static class TuneClCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = $"A zoo network ({string.Join(", ", ModelZoo.Names)}) or an .onnx file." };
        var mode = new Option<string>("--mode")
        {
            Description = "normal: powers of two per dimension; exhaustive: every size 1-16 and the powers of two above (slow).",
            DefaultValueFactory = _ => "normal",
        };
        var device = new Option<int>("--device") { Description = "The OpenCL device index (see 'kernels devices').", DefaultValueFactory = _ => 0 };
        var file = new Option<string?>("--tuner-file") { Description = "The tuner file to update; default <cache>/opencl/tuner.json, the one sessions read." };
        Option<string> precision = DeviceRunCommand.ClPrecisionOption();
        Option<bool> json = KernelsCommand.JsonOption();
        var command = new Command("tune-cl", "Tune the OpenCL local work sizes of a network's kernels on a device and save them in the tuner file.")
        {
            model, mode, device, file, precision, json,
        };
        command.SetAction(parse => Execute(
            context, parse.GetValue(model)!, parse.GetValue(mode)!, parse.GetValue(device), parse.GetValue(file), parse.GetValue(json),
            DeviceRunCommand.ParseClPrecision(parse.GetValue(precision)!)));
        return command;
    }

    private static int Execute(CliContext context, string model, string modeText, int deviceIndex, string? file, bool json, DevicePrecision precision)
    {
        TunerMode mode = modeText.Trim().ToLowerInvariant() switch
        {
            "normal" => TunerMode.Normal,
            "exhaustive" => TunerMode.Exhaustive,
            _ => throw new UsageException($"--mode must be normal or exhaustive, not '{modeText}'."),
        };
        NetworkGraph graph = ModelSource.Load(model).Graph;
        OpenCLDevice device;
        try
        {
            device = ComponentSession.FindDevice(deviceIndex);
        }
        catch (InvalidOperationException e)
        {
            context.WriteError($"tune-cl: {e.Message}");
            return ExitCodes.Failure;
        }

        var tuner = new WorkSizeTuner(file, mode);
        int before = tuner.Entries.Count;
        context.WriteProgress($"planning {graph.Name} on opencl:{deviceIndex} {device.Name} and measuring each kernel's local sizes ({modeText.ToLowerInvariant()})...");
        long start = System.Diagnostics.Stopwatch.GetTimestamp();

        // The first run tunes (each kernel's first launch of a configuration measures its candidates); the second,
        // profiled, runs every kernel at its chosen size.
        using DeviceSession session = ComponentSession.CreateOnDevice(graph, deviceIndex, new DeviceSessionOptions { Tuner = tuner, Profile = true, Precision = precision });
        TimeSpan tuning = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        var inputs = session.InputShapes.Select((s, k) => (ReadOnlyMemory<float>)LatencyStats.RandomInput(s.ElementCount, seed: 1 + k)).ToArray();
        var outputs = session.OutputShapes.Select(s => (Memory<float>)new float[s.ElementCount]).ToArray();
        session.Run(inputs, outputs);
        tuner.Save();

        string key = device.Key;
        var entries = tuner.Entries.Values.Where(e => e.Device == key).OrderBy(e => e.Kernel, StringComparer.Ordinal).ThenBy(e => e.Configuration, StringComparer.Ordinal).ToList();
        var report = new TuneClReport(
            graph.Name, $"opencl:{deviceIndex}", device.Name, modeText.ToLowerInvariant(), Path.GetFullPath(tuner.File), tuner.Measurements,
            tuner.Entries.Count - before, tuning.TotalMilliseconds,
            entries.Select(e => new TunedKernelReport(e.Kernel, e.Configuration, string.Join('x', e.Global), string.Join('x', e.Local), e.Milliseconds)).ToList(),
            RunCommand.Layers(session.Profile));
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, DeviceCliJsonContext.Default.TuneClReport));
            return ExitCodes.Success;
        }

        var table = new Table { Title = new TableTitle(Markup.Escape($"{report.Model}: local work sizes on {report.Component} {report.Device} ({report.Mode})")) };
        table.AddColumns("Kernel", "Configuration", "Global", "Local", "ms");
        foreach (TunedKernelReport k in report.Kernels)
        {
            table.AddRow(Markup.Escape(k.Kernel), Markup.Escape(k.Configuration), k.Global, k.Local, k.Milliseconds.ToString("0.000", CultureInfo.InvariantCulture));
        }

        context.Console.Write(table);
        var layers = new Table { Title = new TableTitle("device time per layer at the chosen sizes (profiling events)") };
        layers.AddColumns("Layer", "Operator", "Kernel", "ms", "GFLOP/s");
        foreach (LayerReport l in report.Layers)
        {
            layers.AddRow(Markup.Escape(l.Name), Markup.Escape(l.Operator), Markup.Escape(l.Algorithm), $"{l.Milliseconds:0.000}", $"{l.Gflops:0.0}");
        }

        context.Console.Write(layers);
        context.Console.WriteLine(
            $"{report.Measurements} timed launches, {report.NewEntries} new entries, {report.TuneMs / 1000:0.0} s; tuner file {report.TunerFile} ({report.Kernels.Count} entries for this device)");
        return ExitCodes.Success;
    }
}

/// <summary><c>kernels tune-cl</c>: what was tuned and where it was saved.</summary>
/// <param name="Measurements">Timed candidate launches in this process.</param>
/// <param name="NewEntries">Configurations added to the tuner file.</param>
/// <param name="TuneMs">Planning plus the tuning run.</param>
/// <param name="Kernels">Every entry of the tuner file for this device.</param>
/// <param name="Layers">Device time per layer at the chosen sizes.</param>
internal sealed record TuneClReport(
    string Model, string Component, string Device, string Mode, string TunerFile, int Measurements, int NewEntries, double TuneMs,
    IReadOnlyList<TunedKernelReport> Kernels, IReadOnlyList<LayerReport> Layers);

/// <summary>One tuner-file entry: a kernel configuration's chosen local size and its time there.</summary>
internal sealed record TunedKernelReport(string Kernel, string Configuration, string Global, string Local, double Milliseconds);
