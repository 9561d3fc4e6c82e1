using System.CommandLine;

namespace Kernels.Cli;

/// <summary>The command tree: <c>devices</c>, <c>run</c>, <c>tune-quant</c>, <c>quantize</c>, <c>tune-cl</c>, <c>bench peak</c>, <c>bench gemm</c>, <c>bench conv</c>, <c>bench models</c>.</summary>
internal static class KernelsCommand
{
    public static RootCommand Create(CliContext context)
    {
        var bench = new Command("bench", "Measure kernels against the machine's peak and against baselines.")
        {
            BenchPeakCommand.Create(context),
            BenchGemmCommand.Create(context),
            BenchConvCommand.Create(context),
            BenchModelsCommand.Create(context),
        };

        return new RootCommand("Kernels: CNN inference kernels for ARM big.LITTLE and x86 CPUs.")
        {
            DevicesCommand.Create(context),
            RunCommand.Create(context),
            TuneQuantCommand.Create(context),
            QuantizeCommand.Create(context),
            TuneClCommand.Create(context),
            bench,
        };
    }

    /// <summary>The <c>--json</c> switch every command has.</summary>
    public static Option<bool> JsonOption() => new("--json")
    {
        Description = "Write one JSON object to stdout instead of tables.",
    };

    /// <summary>Threads for a measurement: 1 ≤ <paramref name="threads"/> ≤ the machine's cores.</summary>
    public static void CheckThreads(int threads, int coreCount)
    {
        if (threads < 1 || threads > coreCount)
        {
            throw new UsageException($"--threads must be between 1 and {coreCount} (the cores of this machine), not {threads}.");
        }
    }
}
