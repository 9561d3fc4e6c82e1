using System.Text.Json;
using Kernels.Cli;
using Kernels.Graph.Execution;
using Kernels.Graph.IO;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary><c>kernels bench conv --component opencl --precision fp16|int8</c> and <c>kernels run --component opencl --cl-precision fp16</c>, in process.</summary>
public sealed class DevicePrecisionCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kernels-precision-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = Program.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [OpenCLTheory]
    [InlineData("9x7x5,3x3,6,2,1", "auto", "conv2d_int8_direct_nhwc_4x4")]
    [InlineData("9x7x8,1x1,13", "auto", "conv2d_int8_1x1_nhwc_4x4")]
    [InlineData("9x7x8,3x3,8,1,1,8", "auto", "conv2d_int8_depthwise_nhwc_4x4")]
    [InlineData("9x7x8,3x3,16,1,1,4", "direct", "conv2d_int8_direct_nhwc_4x4")]
    public void BenchConvInt8IsBitExactWithTheCpuAndTimed(string shape, string algorithm, string kernel)
    {
        var (exit, stdout, stderr) = Run("bench", "conv", "--shape", shape, "--algorithm", algorithm, "--component", "opencl", "--precision", "int8", "--min-time-ms", "20", "--json");
        Assert.True(exit == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("int8", root.GetProperty("precision").GetString());
        Assert.Equal(kernel, root.GetProperty("kernel").GetString());
        Assert.Equal(0, root.GetProperty("mismatchedBytes").GetInt32());
        Assert.Equal(OpenCLDiscovery.Current.Devices[0].HasIntegerDot8, root.GetProperty("integerDotProduct").GetBoolean());
        double ms = root.GetProperty("ms").GetDouble();
        Assert.True(ms > 0 && root.GetProperty("repetitions").GetInt32() >= 3);
        Assert.Contains("bit-exact against the CPU int8 layer", stderr);
    }

    [OpenCLFact]
    public void BenchConvFp16ChecksHalfStorageAgainstTheReference()
    {
        var (exit, stdout, stderr) = Run("bench", "conv", "--shape", "12x10x16,3x3,20,1,1", "--component", "opencl", "--cl-precision", "fp16", "--min-time-ms", "20", "--json");
        Assert.True(exit == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("fp16", root.GetProperty("precision").GetString());
        Assert.Equal(OpenCLDiscovery.Current.Devices[0].HasFp16, root.GetProperty("halfArithmetic").GetBoolean());
        Assert.Equal("conv2d_direct_nhwc_4x4", root.GetProperty("kernel").GetString());
        double error = root.GetProperty("maxRelativeError").GetDouble();
        Assert.True(error is > 0 and <= 5e-3, $"fp16 error {error}");
    }

    [OpenCLFact]
    public void RunInFp16OnTheDeviceMatchesTheCpu()
    {
        string input = Path.Combine(_dir, "in.npy");
        string output = Path.Combine(_dir, "out.npy");
        float[] image = DeviceSessionTests.Random(227 * 227 * 3, 41);
        NpyArray.FromFloats([1, 227, 227, 3], image).Save(input);
        var (exit, stdout, stderr) = Run("run", "squeezenet", "--component", "opencl!", "--cl-precision", "fp16", "--iterations", "1", "--warmup", "0", "--input", input, "--output", output, "--json");
        Assert.True(exit == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        Assert.Equal("fp16", json.RootElement.GetProperty("precision").GetString());
        Assert.StartsWith("opencl:0", json.RootElement.GetProperty("component").GetString());

        using var cpu = InferenceSession.FromZoo("squeezenet");
        float[] expected = cpu.Run(image);
        float[] actual = NpyArray.Load(output).ToFloats();
        double error = DeviceSessionTests.RelativeL2(actual, expected.Select(v => (double)v).ToArray());
        Assert.True(error <= 1e-2, $"squeezenet fp16 on the device: relative L2 {error:E3} against the CPU");
    }

    [Theory]
    [InlineData("applies to --component opencl[:N] only", "bench", "conv", "--shape", "9x7x8,3x3,8,1,1", "--precision", "fp16")]
    [InlineData("unknown --precision 'fp8'", "bench", "conv", "--shape", "9x7x8,3x3,8,1,1", "--component", "opencl", "--precision", "fp8")]
    [InlineData("has no int8 OpenCL kernel", "bench", "conv", "--shape", "9x7x8,3x3,8,1,1", "--component", "opencl", "--precision", "int8", "--algorithm", "winograd")]
    [InlineData("applies to --component opencl[:N] only", "run", "squeezenet", "--cl-precision", "fp16")]
    [InlineData("unknown --cl-precision 'fp8'", "run", "squeezenet", "--component", "opencl", "--cl-precision", "fp8")]
    [InlineData("unknown --cl-precision 'fp8'", "tune-cl", "squeezenet", "--cl-precision", "fp8")]
    public void BadPrecisionUsageIsOneLineAndExitCode2(string message, params string[] args)
    {
        if (args.Contains("opencl") && OpenCLAvailability.SkipReason is not null && args[0] == "bench")
        {
            return; // bench conv checks the device before the algorithm
        }

        var (exit, _, stderr) = Run(args);
        Assert.Equal(ExitCodes.Usage, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }
}
