using System.Diagnostics;
using System.Text.Json;
using Kernels.Cli;
using Kernels.Graph.Execution;
using Kernels.Graph.IO;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary><c>kernels run --component</c> and <c>kernels tune-cl</c>, in process.</summary>
public sealed class DeviceCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-device-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = Program.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [OpenCLFact]
    public void RunOnOpenCLReportsTheDeviceEveryLayerAndTheOutputTheCpuComputes()
    {
        string input = Path.Combine(_dir, "in.npy");
        string output = Path.Combine(_dir, "out.npy");
        float[] image = DeviceSessionTests.Random(227 * 227 * 3, 31);
        NpyArray.FromFloats([1, 227, 227, 3], image).Save(input);
        var (exit, stdout, stderr) = Run("run", "squeezenet", "--component", "opencl", "--profile", "--iterations", "2", "--warmup", "1", "--input", input, "--output", output, "--json");
        Assert.True(exit == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        JsonElement root = json.RootElement;
        Assert.Equal("opencl:0", root.GetProperty("component").GetString());
        Assert.Equal(OpenCLDiscovery.Current.Devices[0].Name, root.GetProperty("device").GetString());
        Assert.True(root.GetProperty("medianMs").GetDouble() > 0);
        JsonElement[] layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(31, layers.Length);
        Assert.All(layers, l => Assert.True(l.GetProperty("milliseconds").GetDouble() > 0, l.GetProperty("name").GetString()));
        Assert.Contains(layers, l => l.GetProperty("algorithm").GetString() == "winograd_f2x3");
        Assert.True(root.GetProperty("kernelMs").GetDouble() > 0);

        using var cpu = InferenceSession.FromZoo("squeezenet");
        float[] expected = cpu.Run(image);
        float[] actual = NpyArray.Load(output).ToFloats();
        Assert.True(DeviceSessionTests.RelativeL2(actual, expected.Select(v => (double)v).ToArray()) <= 1e-4);
    }

    [Fact]
    public void RunOnAMissingDeviceFallsBackToTheCpuAndSaysWhy()
    {
        var (exit, stdout, stderr) = Run("run", "squeezenet", "--component", "opencl:99", "--iterations", "1", "--warmup", "0", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Contains("kernels: opencl:99 cannot run squeezenet: no OpenCL device", stderr);
        Assert.Contains("running it on the CPU instead", stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        Assert.Equal(1, json.RootElement.GetProperty("threads").GetInt32());
    }

    [Fact]
    public void RunOnAMissingDemandedDeviceFails()
    {
        var (exit, stdout, stderr) = Run("run", "squeezenet", "--component", "opencl:99!", "--iterations", "1", "--warmup", "0");
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Empty(stdout);
        Assert.Contains("kernels: error: opencl:99! cannot run squeezenet: no OpenCL device", stderr);
    }

    [Theory]
    [InlineData("unknown component", "run", "squeezenet", "--component", "gpu")]
    [InlineData("the OpenCL executor runs float32", "run", "squeezenet", "--component", "opencl", "--precision", "int8")]
    [InlineData("--mode must be normal or exhaustive", "tune-cl", "squeezenet", "--mode", "fast")]
    [InlineData("neither a zoo network", "tune-cl", "nosuchnet")]
    public void BadUsageIsOneLineAndExitCode2(string message, params string[] args)
    {
        var (exit, _, stderr) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(message, stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void WithoutAnOpenCLPlatformRunFallsBackToTheCpuAndADemandedRunFails()
    {
        // A new process whose ICD loader looks in an empty vendor folder: no platform (-1001), as on a machine without a driver.
        string vendors = Directory.CreateDirectory(Path.Combine(_dir, "no-vendors")).FullName;
        var (exit, stdout, stderr) = RunProcess(vendors, "run", "squeezenet", "--component", "opencl", "--iterations", "1", "--warmup", "0", "--json");
        Assert.True(exit == 0, stderr);
        Assert.Contains("kernels: opencl:0 cannot run squeezenet: no OpenCL device: ", stderr);
        Assert.Contains("running it on the CPU instead.", stderr);
        using (JsonDocument json = JsonDocument.Parse(stdout))
        {
            Assert.Equal("squeezenet", json.RootElement.GetProperty("model").GetString());
        }

        (exit, stdout, stderr) = RunProcess(vendors, "run", "squeezenet", "--component", "opencl!", "--iterations", "1", "--warmup", "0", "--json");
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Empty(stdout);
        Assert.Contains("kernels: error: opencl:0! cannot run squeezenet: no OpenCL device: ", stderr);
    }

    private static (int ExitCode, string Stdout, string Stderr) RunProcess(string icdVendors, params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "kernels.dll");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["OCL_ICD_VENDORS"] = icdVendors;
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName} {cli}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"kernels {string.Join(' ', args)} did not finish in 2 minutes.");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void TuneClOnAMissingDeviceFails()
    {
        var (exit, _, stderr) = Run("tune-cl", "squeezenet", "--device", "99", "--tuner-file", Path.Combine(_dir, "tuner.json"));
        Assert.Equal(ExitCodes.Failure, exit);
        Assert.Contains("tune-cl: no OpenCL device", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "tuner.json")));
    }
}
