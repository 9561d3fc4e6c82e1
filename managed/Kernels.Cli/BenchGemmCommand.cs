using System.CommandLine;
using System.Text.Json;
using Kernels.Baselines;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Kernels.Cpu.Gemm;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench gemm</c>: our SGEMM against a baseline (OpenBLAS) in the same run, checked against
/// it, and placed against the FMA peak measured with the same threads.
/// </summary>
internal static class BenchGemmCommand
{
    private const double Tolerance = 1e-3;
    private const int Seed = 20240607;

    internal sealed record Settings(int M, int N, int K, int Threads, string? Kernel, string? Baseline, bool Packed, int MinTimeMs, bool Json, string Precision);

    public static Command Create(CliContext context)
    {
        Option<int> m = Dimension("--m", "Rows of A and C.");
        Option<int> n = Dimension("--n", "Columns of B and C.");
        Option<int> k = Dimension("--k", "Columns of A, rows of B.");
        var threads = new Option<int>("--threads")
        {
            Description = "Threads for ours and the baseline, pinned to the fastest cores first.",
            DefaultValueFactory = _ => 1,
        };
        var kernel = new Option<string?>("--kernel")
        {
            Description = "SGEMM micro-kernel by name (see 'kernels devices'); default: the best supported one.",
        };
        var baseline = new Option<string?>("--baseline")
        {
            Description = "openblas or none; default: openblas when it is installed.",
        };
        var packed = new Option<bool>("--packed")
        {
            Description = "Time ours with B packed once beforehand (as a plan packs weights); '--packed false' packs in every call.",
            DefaultValueFactory = _ => true,
        };
        var minTime = new Option<int>("--min-time-ms")
        {
            Description = "Minimum time each of ours and the baseline is timed for, in milliseconds.",
            DefaultValueFactory = _ => 500,
        };
        var precision = new Option<string>("--precision")
        {
            Description = "fp32 (SGEMM against OpenBLAS and the FMA peak) or int8 (uint8 × int8 GEMM with requantization, against the int8 dot-product peak).",
            DefaultValueFactory = _ => "fp32",
        };
        Option<bool> json = KernelsCommand.JsonOption();

        var command = new Command("gemm", "Time C = A·B (row-major, random data) against a baseline and the FMA (or int8 dot-product) peak.")
        {
            m, n, k, threads, kernel, baseline, packed, minTime, precision, json,
        };
        command.SetAction(parse => Execute(context, new Settings(
            parse.GetValue(m),
            parse.GetValue(n),
            parse.GetValue(k),
            parse.GetValue(threads),
            parse.GetValue(kernel),
            parse.GetValue(baseline),
            parse.GetValue(packed),
            parse.GetValue(minTime),
            parse.GetValue(json),
            parse.GetValue(precision) ?? "fp32")));
        return command;
    }

    private static Option<int> Dimension(string name, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => 1024,
    };

    private static int Execute(CliContext context, Settings settings)
    {
        CpuTopology topology = CpuTopology.Detect();
        Validate(settings, topology.CoreCount);
        switch (settings.Precision.ToLowerInvariant())
        {
            case "fp32":
                break;
            case "int8":
                return BenchGemmInt8.Execute(context, settings, topology);
            default:
                throw new UsageException($"unknown --precision '{settings.Precision}': expected fp32 or int8.");
        }

        SgemmMicroKernel kernel = SelectKernel(settings.Kernel);
        bool useOpenBlas = SelectBaseline(context, settings.Baseline);
        (int m, int n, int k, int threads) = (settings.M, settings.N, settings.K, settings.Threads);

        float[] a = RandomMatrix(m * k, Seed);
        float[] b = RandomMatrix(k * n, Seed + 1);
        float[] c = new float[m * n];
        float[] reference = new float[m * n];

        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
        using var workers = new WorkerGroup(threads, cores, "bench-gemm");
        if (useOpenBlas)
        {
            OpenBlas.SetThreads(threads);
        }

        Sgemm sgemm = Sgemm.Create(kernel);
        using PackedWeights packedB = sgemm.PackB(k, n, b, n);
        Action ours = settings.Packed
            ? () => sgemm.Multiply(m, a, k, packedB, c, n, workers: workers)
            : () => sgemm.Multiply(m, n, k, a, k, b, n, c, n, workers: workers);
        Action? theirs = useOpenBlas ? () => OpenBlas.Sgemm(m, n, k, a, k, b, n, reference, n) : null;

        string verifiedAgainst = useOpenBlas ? "openblas" : "reference";
        context.WriteProgress($"checking {kernel.Name} against {verifiedAgainst} ({m}x{n}x{k}, {threads} thread(s) on cores {string.Join(",", cores)})...");
        ours();
        double error;
        if (theirs is not null)
        {
            theirs();
            error = MaxRelativeError(c, reference);
        }
        else
        {
            error = MaxRelativeErrorOnSampledRows(m, n, k, a, b, c);
        }

        if (!(error <= Tolerance))
        {
            context.WriteError($"{kernel.Name} is wrong for {m}x{n}x{k}: max relative error {error:0.###e+0} against {verifiedAgainst} exceeds {Tolerance:0e+0}.");
            return ExitCodes.Failure;
        }

        context.WriteProgress($"measuring the FMA peak on {threads} thread(s)...");
        FmaPeakResult peak = FmaPeak.Measure(workers, TimeSpan.FromMilliseconds(Math.Clamp(settings.MinTimeMs, 50, 1000)));

        context.WriteProgress(theirs is null ? "timing ours..." : "timing ours and openblas, interleaved...");
        Action[] calls = theirs is null ? [ours] : [ours, theirs];
        TimingResult[] timings = GemmTimer.MeasureInterleaved(calls, TimeSpan.FromMilliseconds(settings.MinTimeMs));

        double flops = 2.0 * m * n * k;
        TimingResult mine = timings[0];
        TimingResult? base_ = theirs is null ? null : timings[1];
        double gflops = mine.GflopsAtMedian(flops);
        double? baselineGflops = base_?.GflopsAtMedian(flops);
        var report = new GemmBenchReport(
            m, n, k, threads, cores, workers.IsPinned, kernel.Name, settings.Packed,
            gflops, mine.MedianMs, mine.BestMs, mine.Repetitions,
            useOpenBlas ? "openblas" : null,
            baselineGflops, base_?.MedianMs, base_?.BestMs,
            baselineGflops is double bg ? gflops / bg : null,
            peak.Gflops, peak.Isa, gflops / peak.Gflops,
            error, verifiedAgainst);

        if (settings.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.GemmBenchReport));
        }
        else
        {
            Render(context.Console, report);
        }

        return ExitCodes.Success;
    }

    internal static void Validate(Settings settings, int coreCount)
    {
        CheckDimension("--m", settings.M);
        CheckDimension("--n", settings.N);
        CheckDimension("--k", settings.K);
        foreach ((string matrix, long elements) in new[] { ("A", (long)settings.M * settings.K), ("B", (long)settings.K * settings.N), ("C", (long)settings.M * settings.N) })
        {
            if (elements > Array.MaxLength)
            {
                throw new UsageException($"matrix {matrix} would have {elements} elements, more than one array can hold ({Array.MaxLength}).");
            }
        }

        KernelsCommand.CheckThreads(settings.Threads, coreCount);
        if (settings.MinTimeMs < 0)
        {
            throw new UsageException($"--min-time-ms must not be negative, not {settings.MinTimeMs}.");
        }
    }

    private static void CheckDimension(string option, int value)
    {
        if (value < 1)
        {
            throw new UsageException($"{option} must be at least 1, not {value}.");
        }
    }

    private static SgemmMicroKernel SelectKernel(string? name)
    {
        if (name is null)
        {
            return Sgemm.Default.Kernel;
        }

        SgemmMicroKernel kernel;
        try
        {
            kernel = SgemmKernels.Get(name);
        }
        catch (ArgumentException)
        {
            // Our own message rather than the registry's, so that it stays one line whatever that says.
            string known = string.Join(", ", SgemmKernels.All.Select(x => x.IsSupported ? x.Name : $"{x.Name} (unsupported here)"));
            throw new UsageException($"unknown --kernel '{name}'; known: {known}.");
        }

        if (!kernel.IsSupported)
        {
            string supported = string.Join(", ", SgemmKernels.All.Where(x => x.IsSupported).Select(x => x.Name));
            throw new UsageException($"--kernel {name} needs {kernel.Isa}, which this CPU lacks; supported here: {supported}.");
        }

        return kernel;
    }

    /// <returns>True for OpenBLAS, false for no baseline.</returns>
    private static bool SelectBaseline(CliContext context, string? baseline)
    {
        switch (baseline?.ToLowerInvariant())
        {
            case null:
                if (!OpenBlas.IsAvailable)
                {
                    context.WriteProgress($"no baseline: {OpenBlas.UnavailableReason}");
                }

                return OpenBlas.IsAvailable;
            case "openblas":
                if (!OpenBlas.IsAvailable)
                {
                    throw new UsageException($"--baseline openblas: {OpenBlas.UnavailableReason} (or use --baseline none).");
                }

                return true;
            case "none":
                return false;
            default:
                throw new UsageException($"unknown --baseline '{baseline}': expected openblas or none.");
        }
    }

    private static float[] RandomMatrix(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }

    /// <summary>Largest |actual − expected| over the largest |expected| (norm-wise, so that entries near zero do not dominate).</summary>
    private static double MaxRelativeError(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double maxDifference = 0, maxMagnitude = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            // NaN propagates through Math.Max, so a NaN in ours fails the check.
            maxDifference = Math.Max(maxDifference, Math.Abs((double)actual[i] - expected[i]));
            maxMagnitude = Math.Max(maxMagnitude, Math.Abs((double)expected[i]));
        }

        return maxMagnitude > 0 ? maxDifference / maxMagnitude : maxDifference;
    }

    /// <summary>Without a baseline: a float64 reference on up to 16 rows spread over C (the whole product would cost m·n·k scalar steps).</summary>
    private static double MaxRelativeErrorOnSampledRows(int m, int n, int k, float[] a, float[] b, float[] c)
    {
        int rows = Math.Min(m, 16);
        var expected = new float[rows * n];
        var actual = new float[rows * n];
        var sums = new double[n];
        for (int r = 0; r < rows; r++)
        {
            int i = (int)((long)r * (m - 1) / Math.Max(rows - 1, 1));
            Array.Clear(sums);
            for (int p = 0; p < k; p++)
            {
                double av = a[(i * k) + p];
                for (int j = 0; j < n; j++)
                {
                    sums[j] += av * b[(p * n) + j];
                }
            }

            for (int j = 0; j < n; j++)
            {
                expected[(r * n) + j] = (float)sums[j];
            }

            c.AsSpan(i * n, n).CopyTo(actual.AsSpan(r * n, n));
        }

        return MaxRelativeError(actual, expected);
    }

    private static void Render(IAnsiConsole console, GemmBenchReport report)
    {
        var table = new Table { Title = new TableTitle($"SGEMM {report.M}x{report.N}x{report.K}, {report.Threads} thread(s), cores {string.Join(",", report.Cores)}") };
        table.AddColumns("", "GFLOP/s", "median ms", "best ms", "runs", "of peak");
        table.AddRow(
            $"{report.Kernel}{(report.Packed ? " (B packed)" : string.Empty)}",
            $"{report.Gflops:0.0}",
            $"{report.MedianMs:0.000}",
            $"{report.BestMs:0.000}",
            report.Repetitions.ToString(),
            $"{report.PeakFraction:P0}");
        if (report.Baseline is not null)
        {
            table.AddRow(
                report.Baseline,
                $"{report.BaselineGflops:0.0}",
                $"{report.BaselineMs:0.000}",
                $"{report.BaselineBestMs:0.000}",
                string.Empty,
                $"{report.BaselineGflops / report.PeakGflops:P0}");
        }

        table.AddRow($"FMA peak ({report.PeakIsa})", $"{report.PeakGflops:0.0}", string.Empty, string.Empty, string.Empty, "100 %");
        console.Write(table);
        if (report.Ratio is double ratio)
        {
            console.WriteLine($"ratio ours/{report.Baseline}: {ratio:0.00} ({(ratio >= 1 ? "faster" : "slower")}); max relative error vs {report.VerifiedAgainst}: {report.MaxRelativeError:0.0e+0}");
        }
        else
        {
            console.WriteLine($"no baseline; max relative error vs {report.VerifiedAgainst}: {report.MaxRelativeError:0.0e+0}");
        }
    }
}
