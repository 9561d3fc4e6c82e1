using System.Globalization;
using System.Text.Json;
using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench conv --component opencl[:N]</c>: one convolution layer on an OpenCL device, checked on
/// sampled pixels against a float64 reference, timed by the queue's profiling events (kernel only, no transfers).
/// </summary>
internal static class BenchConvOpenCL
{
    /// <summary>Null for "cpu"; the device index for "opencl" (0) or "opencl:N".</summary>
    public static int? ParseComponent(string text)
    {
        string lower = text.Trim().ToLowerInvariant();
        if (lower == "cpu")
        {
            return null;
        }

        if (lower == "opencl")
        {
            return 0;
        }

        if (lower.StartsWith("opencl:", StringComparison.Ordinal)
            && int.TryParse(lower["opencl:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            return index;
        }

        throw new UsageException($"unknown --component '{text}': expected cpu, opencl or opencl:N.");
    }

    public static int Execute(CliContext context, Conv2DDescriptor d, int deviceIndex, string algorithm, int minTimeMs, bool json)
    {
        OpenCLDiscovery discovery = OpenCLDiscovery.Current;
        if (!discovery.IsAvailable)
        {
            context.WriteError($"--component opencl: no OpenCL device: {discovery.UnavailableReason}");
            return ExitCodes.Failure;
        }

        if (deviceIndex >= discovery.Devices.Count)
        {
            throw new UsageException(
                $"--component opencl:{deviceIndex}: this machine has {discovery.Devices.Count} OpenCL device(s): "
                + string.Join(", ", discovery.Devices.Select(x => $"opencl:{x.Index} {x.Name}")) + ".");
        }

        OpenCLDevice device = discovery.Devices[deviceIndex];
        string kind = Choose(d, algorithm);
        var random = new Random(BenchConvCommand.Seed);
        float[] input = BenchConvCommand.RandomValues(random, d.InputLength);
        float[] weights = BenchConvCommand.RandomValues(random, d.WeightsLength);
        float[] bias = BenchConvCommand.RandomValues(random, d.OutputChannels);
        var (pixels, expected) = BenchConvCommand.SampledReference(d, input, weights, bias);

        using OpenCLContext cl = OpenCLContext.Create(device);
        using IDeviceConvolution conv = kind switch
        {
            "1x1" => new PointwiseConvolution(cl, d, weights, bias),
            "depthwise" => new DepthwiseConvolution(cl, d, weights, bias),
            "winograd-f2" => new WinogradF2x3Convolution(cl, d, weights, bias),
            _ => new DirectConvolution(cl, d, weights, bias),
        };
        using DeviceBuffer deviceInput = cl.CreateBuffer(d.InputLength * sizeof(float));
        using DeviceBuffer deviceOutput = cl.CreateBuffer(d.OutputLength * sizeof(float));
        deviceInput.Write<float>(input);

        context.WriteProgress($"checking {conv.KernelName} on {device.Name} against a float64 reference on {pixels.Length} pixels ({d})...");
        conv.Run(deviceInput, deviceOutput);
        var output = new float[d.OutputLength];
        deviceOutput.Read<float>(output);
        double error = BenchConvCommand.SampledError(d, pixels, expected, output);
        if (!(error <= BenchConvCommand.Tolerance))
        {
            context.WriteError($"{conv.KernelName} on {device.Name} is wrong for {d}: max relative error {error:0.###e+0} against the reference exceeds {BenchConvCommand.Tolerance:0e+0}.");
            return ExitCodes.Failure;
        }

        context.WriteProgress($"timing {conv.KernelName} by profiling events, at least {minTimeMs} ms...");
        var times = new List<double>();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (times.Count < 3 || (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds < minTimeMs && times.Count < 100_000))
        {
            times.Add(conv.Run(deviceInput, deviceOutput, profile: true));
        }

        times.Sort();
        double median = times[times.Count / 2];
        var report = new ConvDeviceBenchReport(
            d.ToString(), d.Flops, $"opencl:{deviceIndex}", device.Name, algorithm.ToLowerInvariant(), conv.KernelName,
            median, times[0], times.Count, median > 0 ? d.Flops / median / 1e6 : 0, error);
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ConvDeviceBenchReport));
        }
        else
        {
            var table = new Table { Title = new TableTitle(Markup.Escape($"conv {report.Shape} ({report.Flops / 1e9:0.###} GFLOP) on {report.Component} {report.Device}")) };
            table.AddColumns("kernel", "median ms", "best ms", "GFLOP/s", "runs");
            table.AddRow(report.Kernel, $"{report.Ms:0.000}", $"{report.BestMs:0.000}", $"{report.Gflops:0.0}", report.Repetitions.ToString(CultureInfo.InvariantCulture));
            context.Console.Write(table);
            context.Console.WriteLine($"device time from profiling events (no transfers); max relative error vs reference: {report.MaxRelativeError:0.0e+0}");
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// The kernel for <paramref name="algorithm"/>, checked before anything is allocated: auto takes 1x1 when it
    /// applies, depthwise for a depthwise layer, else the general direct kernel; winograd is F(2x2, 3x3), the only
    /// Winograd tile on OpenCL, and only when asked for.
    /// </summary>
    private static string Choose(Conv2DDescriptor d, string algorithm)
    {
        switch (algorithm.ToLowerInvariant())
        {
            case "auto":
                return PointwiseConvolution.WhyNotApplicable(d) is null ? "1x1" : d.IsDepthwise ? "depthwise" : "direct";
            case "direct":
                return "direct";
            case "1x1":
                return PointwiseConvolution.WhyNotApplicable(d) is string why
                    ? throw new UsageException($"--algorithm 1x1 does not apply to {d} on OpenCL: {why}.")
                    : "1x1";
            case "depthwise":
                return d.IsDepthwise
                    ? "depthwise"
                    : throw new UsageException($"--algorithm depthwise does not apply to {d} on OpenCL: it needs groups = input = output channels.");
            case "winograd":
            case "winograd-f2":
                return WinogradF2x3Convolution.WhyNotApplicable(d) is string notWinograd
                    ? throw new UsageException($"--algorithm {algorithm} does not apply to {d} on OpenCL: {notWinograd}.")
                    : "winograd-f2";
            default:
                throw new UsageException($"--algorithm {algorithm} has no OpenCL kernel; with --component opencl use auto, direct, 1x1, depthwise or winograd-f2 (winograd).");
        }
    }
}
