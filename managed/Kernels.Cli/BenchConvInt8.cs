using System.Text.Json;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Diagnostics;
using Kernels.Cpu.Quantized;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench conv --precision int8</c> on the CPU: the int8 layer (<see cref="QuantizedConvolutions"/>, uint8
/// input and output, weights quantized per output channel) against our own fp32 layer, timed interleaved in one run.
/// The baseline is the fastest of the fp32 candidates 'auto' measures; oneDNN has no comparable uint8 layer here.
/// </summary>
internal static class BenchConvInt8
{
    /// <summary>
    /// Validates the options, builds and checks both layers, times them interleaved and writes the report.
    /// <paramref name="isaName"/> is the --isa value (null: the best this CPU runs, for fp32 and int8 alike).
    /// </summary>
    public static int Execute(CliContext context, CpuTopology topology, Conv2DDescriptor d, string algorithm, string? isaName, int threads, string? baseline, int minTimeMs, bool json)
    {
        if (!algorithm.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"--algorithm {algorithm} does not apply with --precision int8: the int8 layer chooses its own algorithm (depthwise, indirect or im2col) and the fp32 baseline is auto's fastest.");
        }

        if (baseline is string b && !b.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException(b.Equals("onednn", StringComparison.OrdinalIgnoreCase)
                ? "--baseline onednn does not apply with --precision int8: its baseline is our own fp32 layer (use --baseline none or leave it out)."
                : $"unknown --baseline '{baseline}': expected onednn or none.");
        }

        IReadOnlyList<ConvolutionAlgorithm> candidates = BenchConvCommand.SelectAlgorithms("auto", d);
        KernelIsa isa = BenchConvCommand.SelectIsa(isaName);
        KernelIsa? int8Isa = isaName is null ? null : isa;
        KernelsCommand.CheckThreads(threads, topology.CoreCount);
        if (minTimeMs < 0)
        {
            throw new UsageException($"--min-time-ms must not be negative, not {minTimeMs}.");
        }

        // The int8 layer's own limits (reduction length, window taps) before anything is allocated; the output
        // parameters come from the fp32 output, so this pass uses a coarse output scale and the real one is checked below.
        var random = new Random(BenchConvCommand.Seed);
        float[] input = BenchConvCommand.RandomValues(random, d.InputLength);
        float[] weights = BenchConvCommand.RandomValues(random, d.WeightsLength);
        float[] bias = BenchConvCommand.RandomValues(random, d.OutputChannels);
        QuantizationParameters qi = QuantizationParameters.FromRange(input.Min(), input.Max());
        CheckInt8(d, weights, bias, qi, new QuantizationParameters(1e6f, 128), int8Isa);

        // Both layers see the same input: the uint8 one and its dequantized values, so that the quantization of
        // the input is no part of the measured error.
        byte[] quantizedInput = Array.ConvertAll(input, x => (byte)qi.Quantize(x));
        float[] real = Array.ConvertAll(quantizedInput, q => qi.Dequantize(q));
        var (pixels, expected) = BenchConvCommand.SampledReference(d, real, weights, bias);

        var ours = new List<(ConvolutionKernel Kernel, float[] Output)>();
        QuantizedConvolution? int8 = null;
        try
        {
            foreach (ConvolutionAlgorithm a in candidates)
            {
                ours.Add((Convolutions.Create(d, weights, bias, a, isa), new float[d.OutputLength]));
            }

            IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
            using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
            using var workers = new WorkerGroup(threads, cores, "bench-conv");

            context.WriteProgress($"checking {string.Join(", ", ours.Select(o => o.Kernel.Name))} against a float64 reference on {pixels.Length} pixels ({d}, {threads} thread(s) on cores {string.Join(",", cores)})...");
            double fp32Error = 0;
            foreach (var (kernel, output) in ours)
            {
                kernel.Run(real, output, workers);
                double error = BenchConvCommand.SampledError(d, pixels, expected, output);
                if (!(error <= BenchConvCommand.Tolerance))
                {
                    context.WriteError($"{kernel.Name} is wrong for {d}: max relative error {error:0.###e+0} against the reference exceeds {BenchConvCommand.Tolerance:0e+0}.");
                    return ExitCodes.Failure;
                }

                fp32Error = Math.Max(fp32Error, error);
            }

            // The output parameters cover the fp32 layer's whole output, as calibration would.
            float[] fp32Output = ours[0].Output;
            QuantizationParameters qo = QuantizationParameters.FromRange(Math.Min(0, fp32Output.Min()), Math.Max(0, fp32Output.Max()));
            CheckInt8(d, weights, bias, qi, qo, int8Isa);
            int8 = QuantizedConvolutions.Create(d, weights, bias, qi, qo, int8Isa);
            var quantizedOutput = new byte[d.OutputLength];
            int8.Run(quantizedInput, quantizedOutput, workers);

            context.WriteProgress($"checking {int8.Name} against the float64 reference (input scale {qi.Scale:G4}, zero point {qi.ZeroPoint}; output scale {qo.Scale:G4}, zero point {qo.ZeroPoint})...");
            var (maxErrorSteps, worstBoundSteps, overBound) = SampledSteps(d, pixels, expected, real, int8, quantizedOutput);
            if (overBound > 0)
            {
                context.WriteError(
                    $"{int8.Name} is wrong for {d}: {overBound} of {expected.Length} sampled outputs are further from the float64 reference than the quantization allows (max {maxErrorSteps:0.##} output steps).");
                return ExitCodes.Failure;
            }

            // One interleaved measurement: every fp32 candidate (the baseline is the fastest of them) and the int8 layer.
            var calls = new List<Action>();
            foreach (var (kernel, output) in ours)
            {
                calls.Add(() => kernel.Run(real, output, workers));
            }

            QuantizedConvolution layer = int8;
            calls.Add(() => layer.Run(quantizedInput, quantizedOutput, workers));
            context.WriteProgress($"timing {calls.Count} variant(s), interleaved, at least {minTimeMs} ms each...");
            TimingResult[] timings = GemmTimer.MeasureInterleaved(calls, TimeSpan.FromMilliseconds(minTimeMs));

            double ops = d.Flops;
            ConvCandidate[] fp32 = ours.Select((o, i) => new ConvCandidate(o.Kernel.Algorithm.ToName(), o.Kernel.Name, timings[i].MedianMs, timings[i].BestMs, timings[i].GflopsAtMedian(ops)))
                .ToArray();
            ConvCandidate fastest = fp32.MinBy(static c => c.Ms)!;
            TimingResult mine = timings[^1];
            var report = new ConvInt8BenchReport(
                d.ToString(), ops, "int8", int8.Name, isa.ToName(), threads, cores, workers.IsPinned,
                mine.MedianMs, mine.BestMs, mine.Repetitions, mine.GflopsAtMedian(ops),
                qi.Scale, qi.ZeroPoint, qo.Scale, qo.ZeroPoint,
                "fp32", fastest.Algorithm, fastest.Kernel, fastest.Ms, fastest.Gflops, fastest.Ms / mine.MedianMs, fp32,
                maxErrorSteps, worstBoundSteps, fp32Error);

            if (json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ConvInt8BenchReport));
            }
            else
            {
                Render(context.Console, report);
            }

            return ExitCodes.Success;
        }
        finally
        {
            foreach (var (kernel, _) in ours)
            {
                kernel.Dispose();
            }

            int8?.Dispose();
        }
    }

    private static void CheckInt8(Conv2DDescriptor d, float[] weights, float[] bias, QuantizationParameters input, QuantizationParameters output, KernelIsa? isa)
    {
        try
        {
            QuantizedConvolutions.Validate(d, weights, bias, input, output, isa);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--precision int8: {e.Message}");
        }
    }

    /// <summary>
    /// The int8 output on the sampled pixels in output steps from the float64 reference on the same (dequantized)
    /// input with the fp32 weights and bias. The bound each value must meet, in output steps:
    /// <list type="bullet">
    /// <item>the weights are rounded to nearest at step s_w of their channel (never clamped: s_w ≥ max|w|/127), so
    /// Σ x·w moves by at most Σ|x|·s_w/2 over the window; the bias is rounded at step s_x·s_w, at most s_x·s_w/2;</item>
    /// <item>requantization rounds to nearest (½ step) with a Q31 multiplier (relative error about 2⁻³¹), and the
    /// clamp to [0, 255] only moves a value towards the output range, which covers the fp32 layer's output: one step
    /// for both, which leaves room for the fixed-point rounding and the fp32 range's own rounding.</item>
    /// </list>
    /// The bound is the worst case of the weights' rounding (the errors do not all have the same sign in practice),
    /// so a value beyond it means a wrong result, not an unlucky one.
    /// </summary>
    /// <returns>The largest error, the bound at that value, and how many values exceed their bound.</returns>
    private static (double MaxSteps, double BoundSteps, int OverBound) SampledSteps(
        Conv2DDescriptor d, long[] pixels, double[] expected, float[] real, QuantizedConvolution layer, byte[] output)
    {
        // Σ|x| over each sampled output's window (the reference with |x|, unit weights and no bias).
        var (_, windowSums) = BenchConvCommand.SampledReference(
            d, Array.ConvertAll(real, MathF.Abs), Enumerable.Repeat(1f, (int)d.WeightsLength).ToArray(), new float[d.OutputChannels]);
        QuantizationParameters qi = layer.Input, qo = layer.Output;
        double maxSteps = 0, boundAtMax = 0;
        int overBound = 0;
        for (int s = 0; s < pixels.Length; s++)
        {
            for (int o = 0; o < d.OutputChannels; o++)
            {
                int i = (s * d.OutputChannels) + o;
                double weightStep = layer.WeightScales[o];
                double bound = 1 + ((windowSums[i] * weightStep / 2) + (qi.Scale * weightStep / 2)) / qo.Scale;
                double steps = Math.Abs(qo.Dequantize(output[(pixels[s] * d.EffectiveOutputPixelStride) + o]) - expected[i]) / qo.Scale;
                if (!(steps <= bound))
                {
                    overBound++;
                }

                if (steps > maxSteps || double.IsNaN(steps))
                {
                    (maxSteps, boundAtMax) = (steps, bound);
                }
            }
        }

        return (maxSteps, boundAtMax, overBound);
    }

    private static void Render(IAnsiConsole console, ConvInt8BenchReport report)
    {
        var table = new Table { Title = new TableTitle($"conv {report.Shape} ({report.Flops / 1e9:0.###} GOP), int8 against our fp32 layer, {report.Threads} thread(s), cores {string.Join(",", report.Cores)}") };
        table.AddColumns("", "median ms", "best ms", "GOP/s", "note");
        table.AddRow(report.Algorithm, $"{report.Ms:0.000}", $"{report.BestMs:0.000}", $"{report.Gops:0.0}", "int8 (uint8 in/out)");
        foreach (ConvCandidate c in report.BaselineCandidates)
        {
            table.AddRow(c.Kernel, $"{c.Ms:0.000}", $"{c.BestMs:0.000}", $"{c.Gflops:0.0}", c.Algorithm == report.BaselineAlgorithm ? "fp32 baseline (fastest fp32)" : "fp32");
        }

        console.Write(table);
        console.WriteLine(
            $"ratio fp32-{report.BaselineAlgorithm} ms / int8 ms: {report.Ratio:0.00} (int8 {(report.Ratio >= 1 ? "faster" : "slower")} than our fp32); " +
            $"max error vs float64 reference: {report.MaxErrorSteps:0.00} output steps (bound there {report.MaxErrorBoundSteps:0.00}; output scale {report.OutputScale:G4})");
    }
}
