using System.CommandLine;
using System.Text.Json;
using Kernels.Baselines;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Diagnostics;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench conv</c>: one convolution layer (NHWC, random data) with our algorithms against
/// oneDNN in the same run. 'auto' and 'winograd' measure every candidate and report the fastest;
/// the oneDNN baseline likewise measures its auto, direct and Winograd algorithm kinds and takes the fastest.
/// <c>--precision int8</c> times the int8 layer against our fastest fp32 layer instead (<see cref="BenchConvInt8"/>).
/// </summary>
internal static class BenchConvCommand
{
    // Norm-wise (max |error| over max |expected|), like bench gemm; Winograd F(4x4, 3x3) stays well below it.
    internal const double Tolerance = 1e-3;
    internal const int Seed = 20240611;
    private const int SampledPixels = 64;

    private sealed record Settings(string Shape, string Algorithm, string? Isa, int Threads, string? Baseline, int MinTimeMs, bool Json, string Component, string Precision);

    public static Command Create(CliContext context)
    {
        var shape = new Option<string>("--shape")
        {
            Description = "The layer: HxWxC,KxK,OC[,stride,pad,groups], e.g. 56x56x64,3x3,64,1,1.",
            Required = true,
        };
        var algorithm = new Option<string>("--algorithm")
        {
            Description = "auto, im2col, 1x1, winograd, winograd-f2, winograd-f4, depthwise or direct; auto and winograd measure every applicable candidate and keep the fastest.",
            DefaultValueFactory = _ => "auto",
        };
        var isa = new Option<string?>("--isa")
        {
            Description = "avx512, avx2 or advsimd (advsimd runs through the Neon shim off ARM); default: the best this CPU runs natively.",
        };
        var threads = new Option<int>("--threads")
        {
            Description = "Threads for ours and the baseline, pinned to the fastest cores first.",
            DefaultValueFactory = _ => 1,
        };
        var baseline = new Option<string?>("--baseline")
        {
            Description = "onednn or none; default: onednn when it is installed.",
        };
        var minTime = new Option<int>("--min-time-ms")
        {
            Description = "Minimum time each algorithm is timed for, in milliseconds.",
            DefaultValueFactory = _ => 500,
        };
        var component = new Option<string>("--component")
        {
            Description = "cpu, or opencl[:N] for OpenCL device N (default 0): the device kernel's time from profiling events, no baseline.",
            DefaultValueFactory = _ => "cpu",
        };
        var precision = new Option<string>("--precision", "--cl-precision")
        {
            Description = "fp32 or int8 (on the CPU: the int8 layer timed against our fastest fp32 layer, checked in output steps against the float64 reference); with --component opencl also fp16 (half storage: weights and activations in half, checked against the float64 reference), and int8 there is opencl/conv_int8.cl, checked bit-exact against the CPU int8 layer.",
            DefaultValueFactory = _ => "fp32",
        };
        Option<bool> json = KernelsCommand.JsonOption();

        var command = new Command("conv", "Time one convolution layer (NHWC, random data) against oneDNN, or on an OpenCL device.")
        {
            shape, algorithm, isa, threads, baseline, minTime, json, component, precision,
        };
        command.SetAction(parse => Execute(context, new Settings(
            parse.GetValue(shape)!,
            parse.GetValue(algorithm)!,
            parse.GetValue(isa),
            parse.GetValue(threads),
            parse.GetValue(baseline),
            parse.GetValue(minTime),
            parse.GetValue(json),
            parse.GetValue(component)!,
            parse.GetValue(precision)!)));
        return command;
    }

    private static int Execute(CliContext context, Settings settings)
    {
        CpuTopology topology = CpuTopology.Detect();
        Conv2DDescriptor d = ParseShape(settings.Shape);
        if (BenchConvOpenCL.ParseComponent(settings.Component) is int device)
        {
            if (settings.Isa is not null || settings.Threads != 1 || (settings.Baseline is string b && !b.Equals("none", StringComparison.OrdinalIgnoreCase)))
            {
                throw new UsageException("--isa, --threads and --baseline apply to the CPU component only, not to --component opencl.");
            }

            if (settings.MinTimeMs < 0)
            {
                throw new UsageException($"--min-time-ms must not be negative, not {settings.MinTimeMs}.");
            }

            return BenchConvOpenCL.Execute(context, d, device, settings.Algorithm, settings.MinTimeMs, settings.Json, BenchConvOpenCL.ParsePrecision(settings.Precision));
        }

        switch (BenchConvOpenCL.ParsePrecision(settings.Precision))
        {
            case "fp16":
                throw new UsageException($"--precision {settings.Precision} applies to --component opencl[:N] only; on the CPU bench conv measures fp32 or int8.");
            case "int8":
                return BenchConvInt8.Execute(context, topology, d, settings.Algorithm, settings.Isa, settings.Threads, settings.Baseline, settings.MinTimeMs, settings.Json);
        }

        IReadOnlyList<ConvolutionAlgorithm> candidates = SelectAlgorithms(settings.Algorithm, d);
        KernelIsa isa = SelectIsa(settings.Isa);
        KernelsCommand.CheckThreads(settings.Threads, topology.CoreCount);
        if (settings.MinTimeMs < 0)
        {
            throw new UsageException($"--min-time-ms must not be negative, not {settings.MinTimeMs}.");
        }

        bool useOneDnn = SelectBaseline(context, settings.Baseline);
        int threads = settings.Threads;

        var random = new Random(Seed);
        float[] input = RandomValues(random, d.InputLength);
        float[] weights = RandomValues(random, d.WeightsLength);
        float[] bias = RandomValues(random, d.OutputChannels);
        var (pixels, expected) = SampledReference(d, input, weights, bias);

        var ours = new List<(ConvolutionKernel Kernel, float[] Output)>();
        var theirs = new List<(OneDnnConvolution Convolution, float[] Output)>();
        var unsupported = new List<ConvBaselineCandidate>();
        try
        {
            foreach (ConvolutionAlgorithm algorithm in candidates)
            {
                ours.Add((Convolutions.Create(d, weights, bias, algorithm, isa), new float[d.OutputLength]));
            }

            if (useOneDnn)
            {
                foreach (OneDnnConvolutionAlgorithm kind in Enum.GetValues<OneDnnConvolutionAlgorithm>())
                {
                    try
                    {
                        theirs.Add((OneDnnConvolution.Create(d, weights, bias, kind, threads), new float[d.OutputLength]));
                    }
                    catch (NotSupportedException e)
                    {
                        unsupported.Add(new ConvBaselineCandidate(OneDnnConvolution.NameOf(kind), null, null, null, null, null, e.Message));
                    }
                }

                // OpenMP workers inherit the affinity of the thread that starts them: start them before the caller is pinned.
                foreach (var (convolution, output) in theirs)
                {
                    convolution.Run(input, output);
                }
            }

            IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
            using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
            using var workers = new WorkerGroup(threads, cores, "bench-conv");

            context.WriteProgress($"checking {string.Join(", ", ours.Select(o => o.Kernel.Name))} against a float64 reference on {pixels.Length} pixels ({d}, {threads} thread(s) on cores {string.Join(",", cores)})...");
            double maxError = 0;
            foreach (var (kernel, output) in ours)
            {
                kernel.Run(input, output, workers);
                double error = SampledError(d, pixels, expected, output);
                if (!(error <= Tolerance))
                {
                    context.WriteError($"{kernel.Name} is wrong for {d}: max relative error {error:0.###e+0} against the reference exceeds {Tolerance:0e+0}.");
                    return ExitCodes.Failure;
                }

                maxError = Math.Max(maxError, error);
            }

            double baselineError = 0;
            foreach (var (convolution, output) in theirs)
            {
                double error = SampledError(d, pixels, expected, output);
                if (!(error <= Tolerance))
                {
                    context.WriteError($"{convolution} disagrees with the reference for {d}: max relative error {error:0.###e+0}; its timing would mean nothing.");
                    return ExitCodes.Failure;
                }

                baselineError = Math.Max(baselineError, error);
            }

            // One interleaved measurement over all of them, so that every figure sees the same machine. oneDNN in
            // its own blocked layout is timed both with and without the reorders from and to NHWC.
            var calls = new List<Action>();
            foreach (var (kernel, output) in ours)
            {
                calls.Add(() => kernel.Run(input, output, workers));
            }

            foreach (var (convolution, output) in theirs)
            {
                calls.Add(convolution.UsesReorders ? convolution.RunConvolutionOnly : () => convolution.Run(input, output));
            }

            foreach (var (convolution, output) in theirs.Where(t => t.Convolution.UsesReorders))
            {
                calls.Add(() => convolution.Run(input, output));
            }

            context.WriteProgress($"timing {calls.Count} variant(s), interleaved, at least {settings.MinTimeMs} ms each...");
            TimingResult[] timings = GemmTimer.MeasureInterleaved(calls, TimeSpan.FromMilliseconds(settings.MinTimeMs));

            double flops = d.Flops;
            var ourCandidates = ours.Select((o, i) => new ConvCandidate(o.Kernel.Algorithm.ToName(), o.Kernel.Name, timings[i].MedianMs, timings[i].BestMs, timings[i].GflopsAtMedian(flops)))
                .ToArray();
            int best = Array.FindIndex(ourCandidates, c => c.Ms == ourCandidates.Min(x => x.Ms));
            var baselineCandidates = new List<ConvBaselineCandidate>();
            int withReorders = ours.Count + theirs.Count;
            for (int i = 0; i < theirs.Count; i++)
            {
                OneDnnConvolution convolution = theirs[i].Convolution;
                TimingResult timing = timings[ours.Count + i];
                double? reordered = convolution.UsesReorders ? timings[withReorders++].MedianMs : null;
                baselineCandidates.Add(new ConvBaselineCandidate(
                    OneDnnConvolution.NameOf(convolution.Algorithm), convolution.Implementation, convolution.Layout,
                    timing.MedianMs, reordered, timing.GflopsAtMedian(flops), null));
            }

            ConvBaselineCandidate? fastest = baselineCandidates.OrderBy(static c => c.Ms).FirstOrDefault();
            ConvCandidate mine = ourCandidates[best];
            var report = new ConvBenchReport(
                d.ToString(), flops, settings.Algorithm.ToLowerInvariant(), mine.Algorithm, mine.Kernel, isa.ToName(), threads, cores, workers.IsPinned,
                mine.Ms, mine.BestMs, timings[best].Repetitions, mine.Gflops, ourCandidates,
                useOneDnn ? "onednn" : null,
                fastest?.Algorithm, fastest?.Implementation, fastest?.Layout, fastest?.Ms, fastest?.Gflops,
                fastest?.Ms is double baselineMs ? baselineMs / mine.Ms : null,
                useOneDnn ? [.. baselineCandidates, .. unsupported] : null,
                useOneDnn ? OneDnn.Version : null,
                maxError, useOneDnn ? baselineError : null);

            if (useOneDnn && fastest is null)
            {
                context.WriteError($"oneDNN has no convolution for {d}: {string.Join("; ", unsupported.Select(u => u.Unsupported))}");
                return ExitCodes.Failure;
            }

            if (settings.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.ConvBenchReport));
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

            foreach (var (convolution, _) in theirs)
            {
                convolution.Dispose();
            }
        }
    }

    private static Conv2DDescriptor ParseShape(string text)
    {
        try
        {
            return Conv2DDescriptor.Parse(text);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new UsageException($"--shape: {e.Message}");
        }
    }

    internal static IReadOnlyList<ConvolutionAlgorithm> SelectAlgorithms(string name, Conv2DDescriptor d)
    {
        IReadOnlyList<ConvolutionAlgorithm> named;
        try
        {
            named = ConvolutionAlgorithmNames.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--algorithm: {e.Message}");
        }

        var reasons = named.Select(a => (Algorithm: a, Why: Convolutions.WhyNotApplicable(a, d))).ToArray();
        ConvolutionAlgorithm[] applicable = reasons.Where(static r => r.Why is null).Select(static r => r.Algorithm).ToArray();
        if (applicable.Length == 0)
        {
            string why = string.Join("; ", reasons.Select(static r => $"{r.Algorithm.ToName()}: {r.Why}"));
            throw new UsageException($"--algorithm {name} does not apply to {d} ({why}).");
        }

        return applicable;
    }

    internal static KernelIsa SelectIsa(string? name)
    {
        if (name is null)
        {
            return KernelIsas.Best;
        }

        KernelIsa isa;
        try
        {
            isa = KernelIsas.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--isa: {e.Message}");
        }

        if (!isa.CanExecute())
        {
            throw new UsageException($"--isa {isa.ToName()} cannot run on this CPU; executable here: {string.Join(", ", KernelIsas.Executable.Select(static i => i.ToName()))}.");
        }

        return isa;
    }

    /// <returns>True for oneDNN, false for no baseline.</returns>
    private static bool SelectBaseline(CliContext context, string? baseline)
    {
        switch (baseline?.ToLowerInvariant())
        {
            case null:
                if (!OneDnn.IsAvailable)
                {
                    context.WriteProgress($"no baseline: {OneDnn.UnavailableReason}");
                }

                return OneDnn.IsAvailable;
            case "onednn":
                if (!OneDnn.IsAvailable)
                {
                    throw new UsageException($"--baseline onednn: {OneDnn.UnavailableReason} (or use --baseline none).");
                }

                return true;
            case "none":
                return false;
            default:
                throw new UsageException($"unknown --baseline '{baseline}': expected onednn or none.");
        }
    }

    internal static float[] RandomValues(Random random, long length)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }

    /// <summary>A float64 reference on up to 64 output pixels spread over the output (all channels of each).</summary>
    internal static (long[] Pixels, double[] Expected) SampledReference(Conv2DDescriptor d, float[] input, float[] weights, float[] bias)
    {
        long count = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        long[] pixels = Enumerable.Range(0, (int)Math.Min(count, SampledPixels))
            .Select(i => (long)((double)i * (count - 1) / Math.Max(Math.Min(count, SampledPixels) - 1, 1)))
            .Distinct()
            .ToArray();
        var expected = new double[pixels.Length * d.OutputChannels];
        int icg = d.GroupInputChannels, ocg = d.GroupOutputChannels;
        for (int s = 0; s < pixels.Length; s++)
        {
            long p = pixels[s];
            int n = (int)(p / ((long)d.OutputHeight * d.OutputWidth));
            int y = (int)(p / d.OutputWidth % d.OutputHeight);
            int x = (int)(p % d.OutputWidth);
            for (int o = 0; o < d.OutputChannels; o++)
            {
                int g = o / ocg;
                double sum = bias[o];
                for (int ky = 0; ky < d.KernelHeight; ky++)
                {
                    int iy = (y * d.StrideHeight) - d.PadTop + (ky * d.DilationHeight);
                    for (int kx = 0; kx < d.KernelWidth && iy >= 0 && iy < d.InputHeight; kx++)
                    {
                        int ix = (x * d.StrideWidth) - d.PadLeft + (kx * d.DilationWidth);
                        if (ix < 0 || ix >= d.InputWidth)
                        {
                            continue;
                        }

                        long inBase = ((((long)n * d.InputHeight) + iy) * d.InputWidth + ix) * d.InputChannels + ((long)g * icg);
                        long wBase = (((long)o * d.KernelHeight + ky) * d.KernelWidth + kx) * icg;
                        for (int c = 0; c < icg; c++)
                        {
                            sum += (double)input[inBase + c] * weights[wBase + c];
                        }
                    }
                }

                expected[(s * d.OutputChannels) + o] = d.Activation.Apply((float)sum);
            }
        }

        return (pixels, expected);
    }

    /// <summary>Largest |actual − expected| over the largest |expected| on the sampled pixels (NaN fails).</summary>
    internal static double SampledError(Conv2DDescriptor d, long[] pixels, double[] expected, float[] output)
    {
        double maxDifference = 0, maxMagnitude = 0;
        for (int s = 0; s < pixels.Length; s++)
        {
            for (int o = 0; o < d.OutputChannels; o++)
            {
                double e = expected[(s * d.OutputChannels) + o];
                maxDifference = Math.Max(maxDifference, Math.Abs(output[(pixels[s] * d.EffectiveOutputPixelStride) + o] - e));
                maxMagnitude = Math.Max(maxMagnitude, Math.Abs(e));
            }
        }

        return maxMagnitude > 0 ? maxDifference / maxMagnitude : maxDifference;
    }

    private static void Render(IAnsiConsole console, ConvBenchReport report)
    {
        var table = new Table { Title = new TableTitle($"conv {report.Shape} ({report.Flops / 1e9:0.###} GFLOP), {report.Threads} thread(s), cores {string.Join(",", report.Cores)}") };
        table.AddColumns("", "median ms", "best ms", "GFLOP/s", "note");
        foreach (ConvCandidate c in report.Candidates)
        {
            table.AddRow(c.Kernel, $"{c.Ms:0.000}", $"{c.BestMs:0.000}", $"{c.Gflops:0.0}", c.Algorithm == report.Algorithm ? "fastest of ours" : string.Empty);
        }

        foreach (ConvBaselineCandidate c in report.BaselineCandidates ?? [])
        {
            if (c.Ms is null)
            {
                table.AddRow($"onednn-{c.Algorithm}", "-", "-", "-", Markup.Escape(c.Unsupported ?? string.Empty));
                continue;
            }

            string note = c.MsWithReorders is double r ? $"{c.Layout} layout; {r:0.000} ms with the reorders from/to NHWC" : c.Layout ?? string.Empty;
            table.AddRow(Markup.Escape($"onednn-{c.Algorithm} ({c.Implementation})"), $"{c.Ms:0.000}", string.Empty, $"{c.Gflops:0.0}", Markup.Escape(note));
        }

        console.Write(table);
        if (report.Ratio is double ratio)
        {
            console.WriteLine($"ratio onednn-{report.BaselineAlgorithm} ms / {report.Algorithm} ms: {ratio:0.00} ({(ratio >= 1 ? "faster" : "slower")} than oneDNN {report.BaselineVersion}); max relative error vs reference: {report.MaxRelativeError:0.0e+0}");
        }
        else
        {
            console.WriteLine($"no baseline; max relative error vs reference: {report.MaxRelativeError:0.0e+0}");
        }
    }
}
