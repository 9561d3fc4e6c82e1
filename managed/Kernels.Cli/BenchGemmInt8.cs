using System.Text.Json;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Kernels.Cpu.Quantized;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary>
/// <c>kernels bench gemm --precision int8</c>: the uint8 × int8 GEMM with requantization (weights packed once, as a
/// plan packs them), checked bit for bit on sampled rows against a scalar integer reference, and placed against
/// the int8 dot-product peak (vpdpbusd/sdot) measured with the same threads.
/// </summary>
internal static class BenchGemmInt8
{
    private const int Seed = 20261121;
    private const byte InputZeroPoint = 128;
    private const int OutputZeroPoint = 128;

    public static int Execute(CliContext context, BenchGemmCommand.Settings settings, CpuTopology topology)
    {
        (int m, int n, int k, int threads) = (settings.M, settings.N, settings.K, settings.Threads);
        if (settings.Baseline is not null && !string.Equals(settings.Baseline, "none", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"--precision int8 has no baseline (OpenBLAS has no int8 GEMM); use --baseline none or leave it out, not '{settings.Baseline}'.");
        }

        if (k > QuantizedGemm.MaxK)
        {
            throw new UsageException($"--k {k} is above the int8 GEMM's limit of {QuantizedGemm.MaxK} (int32 accumulators).");
        }

        QuantizedGemmMicroKernel kernel = SelectKernel(settings.Kernel);
        var random = new Random(Seed);
        var a = new byte[(long)m * k];
        random.NextBytes(a);
        var b = new sbyte[(long)k * n];
        for (long i = 0; i < b.Length; i++)
        {
            b[i] = (sbyte)random.Next(-127, 128);
        }

        var bias = new int[n];
        var multipliers = new int[n];
        var shifts = new int[n];
        double sigma = 128.0 * 73.0 * Math.Sqrt(k);
        for (int j = 0; j < n; j++)
        {
            bias[j] = random.Next(-(int)sigma, (int)sigma + 1);
            (multipliers[j], shifts[j]) = Requantization.QuantizeMultiplier(Math.Min(0.999, 30.0 / sigma));
        }

        var output = new QuantizedOutput(OutputZeroPoint);
        var c = new byte[(long)m * n];
        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
        using var workers = new WorkerGroup(threads, cores, "bench-gemm-int8");
        var gemm = QuantizedGemm.Create(kernel);
        using QuantizedPackedWeights packedB = gemm.PackB(k, n, b, n, bias, multipliers, shifts, InputZeroPoint);
        Action ours = () => gemm.Multiply(m, a, k, packedB, c, n, output, workers);

        context.WriteProgress($"checking {kernel.Name} against the integer reference ({m}x{n}x{k}, {threads} thread(s) on cores {string.Join(",", cores)})...");
        ours();
        int rows = Math.Min(m, 16);
        string? mismatch = CheckSampledRows(m, n, k, a, b, bias, multipliers, shifts, output, c, rows);
        if (mismatch is not null)
        {
            context.WriteError($"{kernel.Name} is wrong for {m}x{n}x{k}: {mismatch}.");
            return ExitCodes.Failure;
        }

        Int8DotPeakResult? peak = null;
        if (Int8DotPeak.IsAvailable)
        {
            context.WriteProgress($"measuring the int8 dot-product peak ({Int8DotPeak.Isa}) on {threads} thread(s)...");
            peak = Int8DotPeak.Measure(workers, TimeSpan.FromMilliseconds(Math.Clamp(settings.MinTimeMs, 50, 1000)));
        }
        else
        {
            context.WriteProgress("no int8 dot-product instruction here: no peak to compare with");
        }

        context.WriteProgress("timing ours...");
        TimingResult mine = GemmTimer.MeasureInterleaved([ours], TimeSpan.FromMilliseconds(settings.MinTimeMs))[0];
        double gops = mine.GflopsAtMedian(2.0 * m * n * k);
        var report = new Int8GemmBenchReport(
            "int8", m, n, k, threads, cores, workers.IsPinned, kernel.Name, gops, mine.MedianMs, mine.BestMs, mine.Repetitions,
            peak?.Gops, peak?.Isa, peak is null ? null : gops / peak.Gops, rows);
        if (settings.Json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.Int8GemmBenchReport));
        }
        else
        {
            Render(context.Console, report);
        }

        return ExitCodes.Success;
    }

    private static QuantizedGemmMicroKernel SelectKernel(string? name)
    {
        if (name is null)
        {
            return QuantizedGemmKernels.Best;
        }

        QuantizedGemmMicroKernel kernel;
        try
        {
            kernel = QuantizedGemmKernels.Get(name);
        }
        catch (ArgumentException)
        {
            string known = string.Join(", ", QuantizedGemmKernels.All.Select(x => x.IsSupported ? x.Name : $"{x.Name} (unsupported here)"));
            throw new UsageException($"unknown int8 --kernel '{name}'; known: {known}.");
        }

        if (!kernel.IsSupported)
        {
            string supported = string.Join(", ", QuantizedGemmKernels.All.Where(x => x.IsSupported).Select(x => x.Name));
            throw new UsageException($"--kernel {name} needs {kernel.Isa}, which this machine lacks; supported here: {supported}.");
        }

        return kernel;
    }

    /// <summary>Up to <paramref name="rows"/> rows spread over C against a scalar integer reference (same definition as the tests'); null when all match.</summary>
    private static string? CheckSampledRows(
        int m, int n, int k, byte[] a, sbyte[] b, int[] bias, int[] multipliers, int[] shifts, QuantizedOutput output, byte[] c, int rows)
    {
        var sums = new long[n];
        for (int r = 0; r < rows; r++)
        {
            int i = (int)((long)r * (m - 1) / Math.Max(rows - 1, 1));
            for (int j = 0; j < n; j++)
            {
                sums[j] = bias[j];
            }

            for (int p = 0; p < k; p++)
            {
                int av = a[((long)i * k) + p] - InputZeroPoint;
                for (int j = 0; j < n; j++)
                {
                    sums[j] += av * b[((long)p * n) + j];
                }
            }

            for (int j = 0; j < n; j++)
            {
                int total = 31 + shifts[j];
                long y = ((((long)unchecked((int)sums[j]) * multipliers[j]) + (1L << (total - 1))) >> total) + output.ZeroPoint;
                byte want = (byte)Math.Clamp(y, output.Min, output.Max);
                byte got = c[((long)i * n) + j];
                if (got != want)
                {
                    return $"C[{i},{j}] = {got}, reference {want}";
                }
            }
        }

        return null;
    }

    private static void Render(IAnsiConsole console, Int8GemmBenchReport report)
    {
        var table = new Table { Title = new TableTitle($"int8 GEMM {report.M}x{report.N}x{report.K}, {report.Threads} thread(s), cores {string.Join(",", report.Cores)}") };
        table.AddColumns("", "GOP/s", "median ms", "best ms", "runs", "of peak");
        table.AddRow(
            $"{report.Kernel} (B packed)", $"{report.Gops:0.0}", $"{report.MedianMs:0.000}", $"{report.BestMs:0.000}",
            report.Repetitions.ToString(), report.PeakFraction is double f ? $"{f:P0}" : "-");
        if (report.PeakGops is double peak)
        {
            table.AddRow($"int8 peak ({report.PeakIsa})", $"{peak:0.0}", string.Empty, string.Empty, string.Empty, "100 %");
        }

        console.Write(table);
        console.WriteLine($"bit-exact against the integer reference on {report.VerifiedRows} sampled row(s)");
    }
}
