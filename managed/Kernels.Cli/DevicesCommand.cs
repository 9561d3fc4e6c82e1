using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Kernels.Baselines;
using Kernels.Core.Topology;
using Kernels.Cpu.Gemm;
using Kernels.Cpu.Native;
using Kernels.OpenCL.Runtime;
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

        var buildPrograms = new Option<bool>("--build-programs")
        {
            Description = "Build every OpenCL program on every device through the program-binary cache and report the times (warms the cache).",
        };

        var command = new Command("devices", "Show CPU clusters, ISA features, GEMM micro-kernels, native libraries and OpenCL devices.")
        {
            json,
            virtualClusters,
            buildPrograms,
        };
        command.SetAction(parse => Execute(context, parse.GetValue(json), parse.GetValue(virtualClusters), parse.GetValue(buildPrograms)));
        return command;
    }

    private static int Execute(CliContext context, bool json, int? virtualClusters, bool buildPrograms)
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

        DevicesReport report = Collect(topology, buildPrograms);
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

    private static DevicesReport Collect(CpuTopology topology, bool buildPrograms)
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
                QuantizedGemmKernels.All.Select(k => new MicroKernelReport(k.Name, k.Isa, k.MR, k.NR, k.IsSupported, k.CanExecute)).ToArray()),
            CollectOpenCL(buildPrograms));
    }

    private static OpenCLReport CollectOpenCL(bool buildPrograms)
    {
        OpenCLDiscovery discovery = OpenCLDiscovery.Current;
        var devices = new List<OpenCLDeviceReport>();
        var builds = buildPrograms && discovery.IsAvailable ? new List<ProgramBuildReport>() : null;
        foreach (OpenCLDevice d in discovery.Devices)
        {
            devices.Add(new OpenCLDeviceReport(
                d.Index, d.PlatformName, d.Name, d.Vendor, d.Type, d.DriverVersion, d.DeviceVersion, d.OpenCLCVersion,
                d.ComputeUnits, d.MaxClockMHz, d.MaxWorkGroupSize, d.MaxWorkItemSizes, d.LocalMemoryBytes, d.GlobalMemoryBytes,
                d.MaxAllocationBytes, d.HasFp16, d.HasIntegerDot8, d.Extensions, OpenCLContext.BuildOptionsFor(d), d.Key));
            if (builds is not null)
            {
                using OpenCLContext cl = OpenCLContext.Create(d);
                foreach (string name in ProgramSources.Names)
                {
                    ClProgram program = cl.GetProgram(name);
                    builds.Add(new ProgramBuildReport(d.Index, name, program.BuildTime.TotalMilliseconds, program.FromCache));
                }
            }
        }

        return new OpenCLReport(discovery.IsAvailable, discovery.UnavailableReason, devices, builds);
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
        RenderOpenCL(console, report.OpenCL);
    }

    private static void RenderOpenCL(IAnsiConsole console, OpenCLReport report)
    {
        if (!report.Available)
        {
            console.WriteLine($"OpenCL: unavailable: {report.UnavailableReason}");
            return;
        }

        var devices = new Table { Title = new TableTitle("OpenCL devices") };
        devices.AddColumns("#", "Device", "Platform / driver", "OpenCL C", "CUs", "Max WG", "Max items", "Local", "Global", "Max alloc", "fp16", "int8 dot");
        foreach (OpenCLDeviceReport d in report.Devices)
        {
            devices.AddRow(
                d.Index.ToString(),
                Markup.Escape($"{d.Name} ({d.Type}, {d.Vendor})"),
                Markup.Escape($"{d.Platform} / {d.DriverVersion}"),
                Markup.Escape(d.OpenCLCVersion),
                d.ComputeUnits.ToString(),
                d.MaxWorkGroupSize.ToString(),
                string.Join("x", d.MaxWorkItemSizes),
                $"{d.LocalMemoryBytes / 1024} KiB",
                $"{d.GlobalMemoryBytes / (1024 * 1024)} MiB",
                $"{d.MaxAllocationBytes / (1024 * 1024)} MiB",
                d.Fp16 ? "yes" : "no",
                d.IntegerDot8 ? "yes" : "no");
        }

        console.Write(devices);
        if (report.ProgramBuilds is { } builds)
        {
            var table = new Table { Title = new TableTitle("OpenCL program builds") };
            table.AddColumns("Device", "Program", "ms", "From cache");
            foreach (ProgramBuildReport b in builds)
            {
                table.AddRow(b.Device.ToString(), b.Program, b.Milliseconds.ToString("0.0"), b.FromCache ? "yes" : "no");
            }

            console.Write(table);
        }
    }

    private static string Describe(LibraryReport library) => library.Available
        ? library.Detail is null ? "available" : $"available ({library.Detail})"
        : $"unavailable: {library.UnavailableReason}";
}
