using System.Diagnostics;
using System.Text.Json;
using Kernels.Cli;
using Kernels.OpenCL;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary><c>kernels devices</c>' OpenCL part, and the program cache across two real processes.</summary>
public sealed class OpenCLCliTests
{
    [Fact]
    public void Devices_ReportsOpenCLOrOneLineWhyNot()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.Equal(0, Program.Run(["devices"], stdout, stderr));
        OpenCLDiscovery discovery = OpenCLDiscovery.Current;
        if (discovery.IsAvailable)
        {
            Assert.Contains("OpenCL devices", stdout.ToString());
            Assert.Contains(discovery.Devices[0].OpenCLCVersion, stdout.ToString());
        }
        else
        {
            Assert.Contains("OpenCL: unavailable: ", stdout.ToString());
        }
    }

    [OpenCLFact]
    public void Devices_Json_ListsEveryDeviceWithItsLimits()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.True(Program.Run(["devices", "--json"], stdout, stderr) == 0, stderr.ToString());
        using JsonDocument document = JsonDocument.Parse(stdout.ToString());
        JsonElement openCL = document.RootElement.GetProperty("openCL");
        Assert.True(openCL.GetProperty("available").GetBoolean());
        Assert.Equal(JsonValueKind.Null, openCL.GetProperty("unavailableReason").ValueKind);
        Assert.Equal(JsonValueKind.Null, openCL.GetProperty("programBuilds").ValueKind);
        JsonElement device = openCL.GetProperty("devices")[0];
        OpenCLDevice expected = OpenCLDiscovery.Current.Devices[0];
        Assert.Equal(expected.Name, device.GetProperty("name").GetString());
        Assert.Equal(expected.ComputeUnits, device.GetProperty("computeUnits").GetInt32());
        Assert.Equal(expected.MaxWorkGroupSize, device.GetProperty("maxWorkGroupSize").GetInt64());
        Assert.Equal(expected.MaxWorkItemSizes, device.GetProperty("maxWorkItemSizes").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(expected.MaxAllocationBytes, device.GetProperty("maxAllocationBytes").GetInt64());
        Assert.Equal(expected.HasFp16, device.GetProperty("fp16").GetBoolean());
        Assert.Equal(expected.HasIntegerDot8, device.GetProperty("integerDot8").GetBoolean());
        Assert.Contains("-cl-std=CL1.2", device.GetProperty("buildOptions").GetString());
    }

    [OpenCLFact]
    public void ASecondProcessLoadsEveryProgramFromTheCache()
    {
        string cache = Directory.CreateTempSubdirectory("kernels-opencl-cli-").FullName;
        try
        {
            JsonElement[] cold = BuildPrograms(cache);
            JsonElement[] warm = BuildPrograms(cache);
            Assert.Equal(ProgramSources.Names, cold.Select(b => b.GetProperty("program").GetString()));
            Assert.All(cold, b => Assert.False(b.GetProperty("fromCache").GetBoolean()));
            Assert.Equal(ProgramSources.Names, warm.Select(b => b.GetProperty("program").GetString()));
            Assert.All(warm, b => Assert.True(b.GetProperty("fromCache").GetBoolean()));
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }
    }

    [OpenCLTheory]
    [InlineData("9x7x8,3x3,12,1,1", "auto", "conv2d_direct_nhwc_4x4")]
    [InlineData("9x7x8,1x1,12,2,0", "auto", "conv2d_1x1_nhwc_4x4")]
    [InlineData("9x7x8,3x3,8,2,1,8", "auto", "conv2d_depthwise_nhwc_4x4")]
    [InlineData("9x7x8,1x1,12", "direct", "conv2d_direct_nhwc_4x4")]
    [InlineData("9x7x8,3x3,12,1,1", "winograd-f2", "winograd_f2x3")]
    [InlineData("9x7x5,3x3,6,1,0", "winograd", "winograd_f2x3")]
    public void BenchConv_OnOpenCL_ChecksAndTimesTheDeviceKernel(string shape, string algorithm, string kernel)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = Program.Run(["bench", "conv", "--shape", shape, "--algorithm", algorithm, "--component", "opencl", "--min-time-ms", "20", "--json"], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());
        using JsonDocument document = JsonDocument.Parse(stdout.ToString());
        JsonElement root = document.RootElement;
        var d = Kernels.Core.Conv2DDescriptor.Parse(shape);
        Assert.Equal(d.ToString(), root.GetProperty("shape").GetString());
        Assert.Equal("opencl:0", root.GetProperty("component").GetString());
        Assert.Equal(OpenCLDiscovery.Current.Devices[0].Name, root.GetProperty("device").GetString());
        Assert.Equal(kernel, root.GetProperty("kernel").GetString());
        double ms = root.GetProperty("ms").GetDouble();
        Assert.True(ms > 0 && root.GetProperty("bestMs").GetDouble() <= ms);
        Assert.True(root.GetProperty("repetitions").GetInt32() >= 3);
        Assert.Equal(d.Flops / ms / 1e6, root.GetProperty("gflops").GetDouble(), 9);
        Assert.True(root.GetProperty("maxRelativeError").GetDouble() <= 1e-3);
    }

    [OpenCLTheory]
    [InlineData("--component", "gpu")]
    [InlineData("--component", "opencl:99")]
    [InlineData("--algorithm", "winograd-f4")]
    [InlineData("--algorithm", "im2col")]
    [InlineData("--algorithm", "1x1")]
    [InlineData("--isa", "avx2")]
    [InlineData("--baseline", "onednn")]
    public void BenchConv_OnOpenCL_RefusesWhatDoesNotApplyInOneLine(string option, string value)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] args = option == "--component"
            ? ["bench", "conv", "--shape", "9x7x8,3x3,8,1,1", option, value]
            : ["bench", "conv", "--shape", "9x7x8,3x3,8,1,1", "--component", "opencl", option, value];
        Assert.Equal(ExitCodes.Usage, Program.Run(args, stdout, stderr));
        Assert.Single(stderr.ToString().Trim().Split('\n'));
        Assert.Equal(string.Empty, stdout.ToString());
    }

    /// <summary>Runs <c>kernels devices --build-programs --json</c> in a new process with its own cache folder.</summary>
    private static JsonElement[] BuildPrograms(string cacheDirectory)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "kernels.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        start.ArgumentList.Add("devices");
        start.ArgumentList.Add("--build-programs");
        start.ArgumentList.Add("--json");
        start.Environment["KERNELS_CACHE_DIR"] = cacheDirectory;
        start.Environment.Remove("POCL_CACHE_DIR");
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName} {cli}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("kernels devices --build-programs did not finish in 2 minutes.");
        }

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {stderr.Result}");
        using JsonDocument document = JsonDocument.Parse(stdout.Result);
        JsonElement builds = document.RootElement.GetProperty("openCL").GetProperty("programBuilds");
        return builds.EnumerateArray().Where(b => b.GetProperty("device").GetInt32() == 0).Select(b => b.Clone()).ToArray();
    }

    [Fact]
    public void AMissingLibraryIsReportedWithWhatToInstall()
    {
        var e = new OpenCLLibraryNotFoundException(new DllNotFoundException("Unable to load shared library 'libOpenCL.so.1'\nmore"));
        Assert.IsAssignableFrom<DllNotFoundException>(e);
        Assert.Contains("libOpenCL.so.1", e.Message);
        Assert.Contains("ocl-icd-libopencl1", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
