using System.CommandLine;
using System.Text.Json;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary><c>kernels bench peak</c>: the FP32 FMA peak, the roofline's compute ceiling, and the int8 dot-product peak where the CPU has one.</summary>
internal static class BenchPeakCommand
{
    public static Command Create(CliContext context)
    {
        var threads = new Option<int>("--threads")
        {
            Description = "Threads, pinned to the fastest cores first.",
            DefaultValueFactory = _ => 1,
        };
        var duration = new Option<int>("--duration-ms")
        {
            Description = "Time spent measuring, in milliseconds.",
            DefaultValueFactory = _ => 1000,
        };
        Option<bool> json = KernelsCommand.JsonOption();

        var command = new Command("peak", "Measure the FP32 FMA peak (GFLOP/s) and the int8 dot-product peak (GOP/s, vpdpbusd or sdot) on T threads.")
        {
            threads,
            duration,
            json,
        };
        command.SetAction(parse => Execute(context, parse.GetValue(threads), parse.GetValue(duration), parse.GetValue(json)));
        return command;
    }

    private static int Execute(CliContext context, int threads, int durationMs, bool json)
    {
        CpuTopology topology = CpuTopology.Detect();
        KernelsCommand.CheckThreads(threads, topology.CoreCount);
        if (durationMs < 1)
        {
            throw new UsageException($"--duration-ms must be at least 1, not {durationMs}.");
        }

        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        context.WriteProgress($"measuring the FMA peak on {threads} thread(s), cores {string.Join(",", cores)} ({FmaPeak.Isa})...");
        FmaPeakResult result;
        Int8DotPeakResult? int8 = null;
        using (ThreadAffinity.PinCurrentThread(cores[0]))
        using (var workers = new WorkerGroup(threads, cores, "bench-peak"))
        {
            result = FmaPeak.Measure(workers, TimeSpan.FromMilliseconds(durationMs));
            if (Int8DotPeak.IsAvailable)
            {
                context.WriteProgress($"measuring the int8 dot-product peak ({Int8DotPeak.Isa})...");
                int8 = Int8DotPeak.Measure(workers, TimeSpan.FromMilliseconds(durationMs));
            }
        }

        var report = new PeakReport(result.Threads, cores, result.Gflops, result.Isa, int8?.Gops, int8?.Isa);
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.PeakReport));
        }
        else
        {
            var table = new Table();
            table.AddColumns("Threads", "Cores", "ISA", "Peak GFLOP/s", "int8 ISA", "int8 peak GOP/s");
            table.AddRow(
                report.Threads.ToString(), string.Join(",", report.Cores), report.Isa, $"{report.Gflops:0.0}",
                report.Int8Isa ?? "none", report.Int8Gops is double gops ? $"{gops:0.0}" : "-");
            context.Console.Write(table);
        }

        return ExitCodes.Success;
    }
}
