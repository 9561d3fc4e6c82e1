using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kernels.Baselines;
using Kernels.Core.Topology;
using Kernels.Cpu.Gemm;
using Kernels.Cpu.Native;
using Kernels.Cpu.Quantized;
using Spectre.Console;

namespace Kernels.Cli;

/// <summary><c>kernels devices</c>: what this machine offers the engine.</summary>
internal static class DevicesCommand
{
    public static Command Create(CliContext context)
    {
        Option<bool> json = KernelsCommand.JsonOption();
        var virtualClusters = new Option<int?>("--virtual-clusters")
        {
            Description = "Split the cores into this many virtual clusters (for machines without big.LITTLE).",
        };

        var command = new Command("devices", "Show CPU clusters, ISA features, GEMM micro-kernels and native libraries.")
        {
            json,
            virtualClusters,
        };
        command.SetAction(parse => Execute(context, parse.GetValue(json), parse.GetValue(virtualClusters)));
        return command;
    }

    private static int Execute(CliContext context, bool json, int? virtualClusters)
    {
        CpuTopology topology = CpuTopology.Detect();
        if (virtualClusters is int count)
        {
            if (count < 1 || count > topology.CoreCount)
            {
                throw new UsageException($"--virtual-clusters must be between 1 and {topology.CoreCount} (the cores of this machine), not {count}.");
            }

            topology = topology.SplitIntoVirtualClusters(count);
        }

        DevicesReport report = Collect(topology);
        if (json)
        {
            context.Out.WriteLine(JsonSerializer.Serialize(report, CliJsonContext.Default.DevicesReport));
        }
        else
        {
            Render(context.Console, report);
        }

        return ExitCodes.Success;
    }

    private static DevicesReport Collect(CpuTopology topology)
    {
        ClusterReport[] clusters = topology.Clusters
            .Select(c => new ClusterReport(c.Id, c.Cores, c.MaxFrequencyKHz, c.Capacity, c.CpuPart, c.IsVirtual))
            .ToArray();
        MicroKernelReport[] kernels = SgemmKernels.All
            .Select(k => new MicroKernelReport(k.Name, k.Isa, k.MR, k.NR, k.IsSupported, k.CanExecute))
            .ToArray();
        return new DevicesReport(
            topology.CoreCount,
            clusters,
            IsaFeatures.Describe(),
            $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}",
            Vector<float>.Count * 32,
            new SgemmReport(SgemmKernels.Best.Name, kernels),
            new LibraryReport(
                NativeLibraryStatus.IsAvailable,
                NativeLibraryStatus.UnavailableReason,
                NativeLibraryStatus.IsAvailable ? (NativeLibraryStatus.HasNeonKernels ? (RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "NEON kernels" : "NEON kernels through SIMDe emulation, for tests") : "portable C kernels") : null),
            new LibraryReport(OpenBlas.IsAvailable, OpenBlas.UnavailableReason, OpenBlas.Configuration),
            new SgemmReport(
                QuantizedGemmKernels.Best.Name,
                QuantizedGemmKernels.All.Select(k => new MicroKernelReport(k.Name, k.Isa, k.MR, k.NR, k.IsSupported, k.CanExecute)).ToArray()));
    }

    private static void Render(IAnsiConsole console, DevicesReport report)
    {
        var clusters = new Table { Title = new TableTitle($"CPU: {report.CoreCount} cores, {report.Runtime}") };
        clusters.AddColumns("Cluster", "Cores", "Max freq", "Capacity", "CPU part", "Virtual");
        foreach (ClusterReport cluster in report.Clusters)
        {
            clusters.AddRow(
                cluster.Id.ToString(),
                string.Join(",", cluster.Cores),
                cluster.MaxFrequencyKHz > 0 ? $"{cluster.MaxFrequencyKHz / 1000.0:0} MHz" : "unknown",
                cluster.Capacity.ToString(),
                Markup.Escape(cluster.CpuPart),
                cluster.IsVirtual ? "yes" : "no");
        }

        console.Write(clusters);
        console.WriteLine($"ISA: {string.Join(" ", report.Isa)} (Vector<float>: {report.VectorBits} bits)");

        foreach (var (title, registry) in new[] { ("SGEMM micro-kernels", report.Sgemm), ("int8 GEMM micro-kernels", report.Int8Gemm) })
        {
            var kernels = new Table { Title = new TableTitle(title) };
            kernels.AddColumns("Name", "ISA", "MR×NR", "Supported", "Selected");
            foreach (MicroKernelReport kernel in registry.Kernels)
            {
                kernels.AddRow(
                    kernel.Name,
                    Markup.Escape(kernel.Isa),
                    $"{kernel.Mr}×{kernel.Nr}",
                    kernel.Supported ? "yes" : kernel.Executable ? "emulated (tests)" : "no",
                    kernel.Name == registry.Selected ? "*" : string.Empty);
            }

            console.Write(kernels);
        }

        console.WriteLine($"Native library: {Describe(report.Native)}");
        console.WriteLine($"OpenBLAS: {Describe(report.OpenBlas)}");
    }

    private static string Describe(LibraryReport library) => library.Available
        ? library.Detail is null ? "available" : $"available ({library.Detail})"
        : $"unavailable: {library.UnavailableReason}";
}
