using System.Globalization;
using System.Text.Json;
using Kernels.Core;
using Kernels.Cpu.Quantized;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench conv --component opencl[:N] [--precision fp32|fp16|int8]</c>: one convolution layer on an OpenCL
/// device, timed by the queue's profiling events (kernel only, no transfers). fp32 and fp16 (half storage) are checked on
/// sampled pixels against a float64 reference; int8 is checked byte for byte against the CPU int8 layer.
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

    /// <summary>Tolerance of fp16 storage on the sampled pixels (max |error| over max |reference|): inputs, weights and outputs rounded to 11 bits.</summary>
    internal const double HalfTolerance = 5e-3;

    /// <summary>Parses <c>--precision</c> for the device: fp32, fp16 or int8.</summary>
    public static string ParsePrecision(string text) => text.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" or "f32" => "fp32",
        "fp16" or "float16" or "f16" or "half" => "fp16",
        "int8" or "qu8" => "int8",
        _ => throw new UsageException($"unknown --precision '{text}': expected fp32, fp16 or int8."),
    };

    public static int Execute(CliContext context, Conv2DDescriptor d, int deviceIndex, string algorithm, int minTimeMs, bool json, string precision = "fp32")
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
        if (precision == "int8")
        {
            return ExecuteInt8(context, d, deviceIndex, device, algorithm, minTimeMs, json);
        }

        DevicePrecision storage = precision == "fp16" ? DevicePrecision.Float16 : DevicePrecision.Float32;
        double tolerance = storage == DevicePrecision.Float16 ? HalfTolerance : BenchConvCommand.Tolerance;
        string kind = Choose(d, algorithm);
        var random = new Random(BenchConvCommand.Seed);
        float[] input = BenchConvCommand.RandomValues(random, d.InputLength);
        float[] weights = BenchConvCommand.RandomValues(random, d.WeightsLength);
        float[] bias = BenchConvCommand.RandomValues(random, d.OutputChannels);
        var (pixels, expected) = BenchConvCommand.SampledReference(d, input, weights, bias);

        using OpenCLContext cl = OpenCLContext.Create(device);
        using IDeviceConvolution conv = kind switch
        {
            "1x1" => new PointwiseConvolution(cl, d, weights, bias, storage),
            "depthwise" => new DepthwiseConvolution(cl, d, weights, bias, storage),
            "winograd-f2" => new WinogradF2x3Convolution(cl, d, weights, bias, storage),
            _ => new DirectConvolution(cl, d, weights, bias, storage),
        };
        using DeviceBuffer deviceInput = cl.CreateBuffer(d.InputLength * storage.ElementBytes());
        using DeviceBuffer deviceOutput = cl.CreateBuffer(d.OutputLength * storage.ElementBytes());
        deviceInput.WriteFloats(input, storage);

        context.WriteProgress($"checking {conv.KernelName} ({storage.ToName()}) on {device.Name} against a float64 reference on {pixels.Length} pixels ({d})...");
        conv.Run(deviceInput, deviceOutput);
        var output = new float[d.OutputLength];
        deviceOutput.ReadFloats(output, storage);
        double error = BenchConvCommand.SampledError(d, pixels, expected, output);
        if (!(error <= tolerance))
        {
            context.WriteError($"{conv.KernelName} ({storage.ToName()}) on {device.Name} is wrong for {d}: max relative error {error:0.###e+0} against the reference exceeds {tolerance:0e+0}.");
            return ExitCodes.Failure;
        }

        context.WriteProgress($"timing {conv.KernelName} by profiling events, at least {minTimeMs} ms...");
        (double median, double best, int runs) = TimeKernel(() => conv.Run(deviceInput, deviceOutput, profile: true), minTimeMs);
        var report = new ConvDeviceBenchReport(
            d.ToString(), d.Flops, $"opencl:{deviceIndex}", device.Name, algorithm.ToLowerInvariant(), conv.KernelName,
            median, best, runs, median > 0 ? d.Flops / median / 1e6 : 0, error)
        {
            Precision = storage.ToName(),
            HalfArithmetic = storage.UsesHalfArithmetic(device),
        };
        Write(context, report, json, $"max relative error vs reference: {report.MaxRelativeError:0.0e+0}"
            + (storage == DevicePrecision.Float16 ? $"; half storage, {(report.HalfArithmetic ? "half" : "float")} arithmetic" : string.Empty));
        return ExitCodes.Success;
    }

    /// <summary>
    /// <c>--precision int8</c>: uint8 input (zero point 128), weights quantized per output channel, the output scale from the
    /// float reference's range on sampled pixels; the device result must equal the CPU int8 layer's byte for byte.
    /// </summary>
    private static int ExecuteInt8(CliContext context, Conv2DDescriptor d, int deviceIndex, OpenCLDevice device, string algorithm, int minTimeMs, bool json)
    {
        string lower = algorithm.ToLowerInvariant();
        if (lower is not ("auto" or "direct" or "1x1" or "depthwise"))
        {
            throw new UsageException(
                $"--algorithm {algorithm} has no int8 OpenCL kernel; with --precision int8 use auto (depthwise or 1x1 where they apply, else direct), direct, 1x1 or depthwise.");
        }

        if (lower == "depthwise" && !d.IsDepthwise)
        {
            throw new UsageException($"--algorithm depthwise does not apply to {d} on OpenCL: it needs groups = input = output channels.");
        }

        if (lower == "1x1" && PointwiseConvolution.WhyNotApplicable(d) is string why)
        {
            throw new UsageException($"--algorithm 1x1 does not apply to {d} on OpenCL: {why}.");
        }

        var random = new Random(BenchConvCommand.Seed);
        var qi = new QuantizationParameters(2f / 255, 128);
        var input = new byte[d.InputLength];
        random.NextBytes(input);
        float[] weights = BenchConvCommand.RandomValues(random, d.WeightsLength);
        float[] bias = BenchConvCommand.RandomValues(random, d.OutputChannels);
        float[] real = Array.ConvertAll(input, b => qi.Dequantize(b));
        var (_, expected) = BenchConvCommand.SampledReference(d, real, weights, bias);
        QuantizationParameters qo = QuantizationParameters.FromRange((float)Math.Min(0, expected.Min()), (float)Math.Max(0, expected.Max()));

        var cpuOutput = new byte[d.OutputLength];
        var deviceOutputBytes = new byte[d.OutputLength];
        try
        {
            using (QuantizedConvolution cpu = QuantizedConvolutions.Create(d, weights, bias, qi, qo))
            {
                cpu.Run(input, cpuOutput);
            }
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--precision int8: {e.Message}");
        }

        using OpenCLContext cl = OpenCLContext.Create(device);
        using var conv = new QuantizedDeviceConvolution(cl, d, weights, bias, qi, qo);
        if (lower == "direct" && conv.KernelName != "conv2d_int8_direct_nhwc_4x4")
        {
            context.WriteProgress($"the int8 path runs {d} with {conv.KernelName}, its kernel for this shape.");
        }

        using DeviceBuffer deviceInput = cl.CreateBuffer(d.InputLength);
        using DeviceBuffer deviceOutput = cl.CreateBuffer(d.OutputLength);
        deviceInput.Write<byte>(input);
        context.WriteProgress($"checking {conv.KernelName} on {device.Name} bit-exact against the CPU int8 layer ({d}, output scale {qo.Scale:G4}, zero point {qo.ZeroPoint})...");
        conv.Run(deviceInput, deviceOutput);
        deviceOutput.Read<byte>(deviceOutputBytes);
        int mismatched = 0;
        for (int i = 0; i < cpuOutput.Length; i++)
        {
            mismatched += cpuOutput[i] != deviceOutputBytes[i] ? 1 : 0;
        }

        if (mismatched > 0)
        {
            int first = cpuOutput.AsSpan().CommonPrefixLength(deviceOutputBytes);
            context.WriteError(
                $"{conv.KernelName} on {device.Name} differs from the CPU int8 layer for {d} in {mismatched} of {cpuOutput.Length} bytes (first at {first}: device {deviceOutputBytes[first]}, CPU {cpuOutput[first]}).");
            return ExitCodes.Failure;
        }

        context.WriteProgress($"timing {conv.KernelName} by profiling events, at least {minTimeMs} ms...");
        (double median, double best, int runs) = TimeKernel(() => conv.Run(deviceInput, deviceOutput, profile: true), minTimeMs);
        var report = new ConvDeviceBenchReport(
            d.ToString(), d.Flops, $"opencl:{deviceIndex}", device.Name, lower, conv.KernelName,
            median, best, runs, median > 0 ? d.Flops / median / 1e6 : 0, 0)
        {
            Precision = "int8",
            MismatchedBytes = 0,
            IntegerDotProduct = device.HasIntegerDot8,
        };
        Write(context, report, json, $"bit-exact with the CPU int8 layer on all {cpuOutput.Length} bytes; dot product: {(device.HasIntegerDot8 ? "arm_dot" : "plain int (no cl_arm_integer_dot_product_int8)")}");
        return ExitCodes.Success;
    }

    private static (double Median, double Best, int Runs) TimeKernel(Func<double> run, int minTimeMs)
    {
        var times = new List<double>();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (times.Count < 3 || (System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds < minTimeMs && times.Count < 100_000))
        {
            times.Add(run());
        }

        times.Sort();
        return (times[times.Count / 2], times[0], times.Count);
    }

    private static void Write(CliContext context, ConvDeviceBenchReport report, bool json, string check)
    {
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ConvDeviceBenchReport));
            return;
        }

        string unit = report.Precision == "int8" ? "GOP/s" : "GFLOP/s";
        var table = new Table { Title = new TableTitle(Markup.Escape($"conv {report.Shape} ({report.Flops / 1e9:0.###} G{(report.Precision == "int8" ? "OP" : "FLOP")}) on {report.Component} {report.Device}, {report.Precision}")) };
        table.AddColumns("kernel", "median ms", "best ms", unit, "runs");
        table.AddRow(report.Kernel, $"{report.Ms:0.000}", $"{report.BestMs:0.000}", $"{report.Gflops:0.0}", report.Repetitions.ToString(CultureInfo.InvariantCulture));
        context.Console.Write(table);
        context.Console.WriteLine(Markup.Escape($"device time from profiling events (no transfers); {check}"));
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
