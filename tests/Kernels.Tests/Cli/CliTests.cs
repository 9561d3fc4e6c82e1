using System.Text.Json;
using Kernels.Cli;
using Xunit;

namespace Kernels.Tests.Cli;

/// <summary>The <c>kernels</c> command run in-process through <see cref="Program.Run"/>.</summary>
public sealed class CliTests
{
    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = Program.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Devices_Json_DescribesClustersKernelsAndLibraries()
    {
        var (exitCode, stdout, stderr) = Run("devices", "--json");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        int coreCount = root.GetProperty("coreCount").GetInt32();
        Assert.True(coreCount >= 1);
        JsonElement clusters = root.GetProperty("clusters");
        Assert.True(clusters.GetArrayLength() >= 1);
        int cores = 0;
        foreach (JsonElement cluster in clusters.EnumerateArray())
        {
            cores += cluster.GetProperty("cores").GetArrayLength();
            _ = cluster.GetProperty("id").GetInt32();
            _ = cluster.GetProperty("maxFrequencyKHz").GetInt64();
            _ = cluster.GetProperty("capacity").GetInt32();
            _ = cluster.GetProperty("cpuPart").GetString();
            _ = cluster.GetProperty("isVirtual").GetBoolean();
        }

        Assert.Equal(coreCount, cores);
        Assert.Equal(JsonValueKind.Array, root.GetProperty("isa").ValueKind);
        string? selected = root.GetProperty("sgemm").GetProperty("selected").GetString();
        Assert.Contains(
            root.GetProperty("sgemm").GetProperty("kernels").EnumerateArray(),
            kernel => kernel.GetProperty("name").GetString() == selected && kernel.GetProperty("executable").GetBoolean());
        string? int8Selected = root.GetProperty("int8Gemm").GetProperty("selected").GetString();
        Assert.Equal(Kernels.Cpu.Quantized.QuantizedGemmKernels.Best.Name, int8Selected);
        Assert.Contains(
            root.GetProperty("int8Gemm").GetProperty("kernels").EnumerateArray(),
            kernel => kernel.GetProperty("name").GetString() == int8Selected && kernel.GetProperty("executable").GetBoolean());
        _ = root.GetProperty("native").GetProperty("available").GetBoolean();
        Assert.Equal(Kernels.Baselines.OpenBlas.IsAvailable, root.GetProperty("openBlas").GetProperty("available").GetBoolean());
    }

    [Fact]
    public void Devices_Table_ListsKernels()
    {
        var (exitCode, stdout, stderr) = Run("devices");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("SGEMM micro-kernels", stdout);
        Assert.Contains("int8 GEMM micro-kernels", stdout);
        Assert.Contains("OpenBLAS:", stdout);
    }

    [Fact]
    public void Devices_VirtualClusters_SplitsCores()
    {
        var (exitCode, stdout, stderr) = Run("devices", "--json", "--virtual-clusters", "1");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement cluster = Assert.Single(document.RootElement.GetProperty("clusters").EnumerateArray());
        Assert.True(cluster.GetProperty("isVirtual").GetBoolean());
    }

    [Fact]
    public void BenchGemm_Json_ReportsOneConsistentObject()
    {
        bool openBlas = Kernels.Baselines.OpenBlas.IsAvailable || OptionalDependencies.RequireAll;

        var (exitCode, stdout, stderr) = Run("bench", "gemm", "--m", "64", "--n", "48", "--k", "32", "--json");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout); // throws on anything after the object
        JsonElement root = document.RootElement;
        Assert.Equal(64, root.GetProperty("m").GetInt32());
        Assert.Equal(48, root.GetProperty("n").GetInt32());
        Assert.Equal(32, root.GetProperty("k").GetInt32());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("kernel").GetString()));
        double gflops = root.GetProperty("gflops").GetDouble();
        double medianMs = root.GetProperty("medianMs").GetDouble();
        double peak = root.GetProperty("peakGflops").GetDouble();
        Assert.True(gflops > 0 && medianMs > 0 && peak > 0);
        Assert.Equal(2.0 * 64 * 48 * 32 / medianMs / 1e6, gflops, 9);
        Assert.Equal(gflops / peak, root.GetProperty("peakFraction").GetDouble(), 12);
        Assert.True(root.GetProperty("maxRelativeError").GetDouble() <= 1e-3);

        if (openBlas)
        {
            Assert.Equal("openblas", root.GetProperty("baseline").GetString());
            double baselineGflops = root.GetProperty("baselineGflops").GetDouble();
            Assert.True(baselineGflops > 0 && root.GetProperty("baselineMs").GetDouble() > 0);
            Assert.Equal(gflops / baselineGflops, root.GetProperty("ratio").GetDouble(), 12);
        }
        else
        {
            foreach (string field in new[] { "baseline", "baselineGflops", "baselineMs", "ratio" })
            {
                Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
            }
        }

        Assert.DoesNotContain("error", stderr);
    }

    [Fact]
    public void BenchGemm_WithoutBaseline_ChecksAgainstReferenceAndReportsNulls()
    {
        var (exitCode, stdout, stderr) = Run(
            "bench", "gemm", "--m", "37", "--n", "29", "--k", "71", "--baseline", "none", "--packed", "false", "--min-time-ms", "20", "--json");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("reference", root.GetProperty("verifiedAgainst").GetString());
        Assert.False(root.GetProperty("packed").GetBoolean());
        foreach (string field in new[] { "baseline", "baselineGflops", "baselineMs", "ratio" })
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public void BenchPeak_Json_ReportsGflopsAndIsa()
    {
        var (exitCode, stdout, stderr) = Run("bench", "peak", "--threads", "1", "--duration-ms", "50", "--json");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        Assert.True(document.RootElement.GetProperty("gflops").GetDouble() > 0);
        Assert.Equal(1, document.RootElement.GetProperty("threads").GetInt32());
        Assert.False(string.IsNullOrEmpty(document.RootElement.GetProperty("isa").GetString()));
        JsonElement int8 = document.RootElement.GetProperty("int8Gops");
        Assert.Equal(Kernels.Cpu.Diagnostics.Int8DotPeak.IsAvailable, int8.ValueKind == JsonValueKind.Number);
        if (int8.ValueKind == JsonValueKind.Number)
        {
            Assert.True(int8.GetDouble() > 0);
            Assert.Equal(Kernels.Cpu.Diagnostics.Int8DotPeak.Isa, document.RootElement.GetProperty("int8Isa").GetString());
        }
    }

    [Fact]
    public void BenchGemmInt8_Json_IsBitExactAndReportsTheInt8Peak()
    {
        var (exitCode, stdout, stderr) = Run(
            "bench", "gemm", "--precision", "int8", "--m", "37", "--n", "29", "--k", "71", "--min-time-ms", "20", "--json");

        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout);
        JsonElement root = document.RootElement;
        Assert.Equal("int8", root.GetProperty("precision").GetString());
        Assert.Equal(Kernels.Cpu.Quantized.QuantizedGemmKernels.Best.Name, root.GetProperty("kernel").GetString());
        Assert.True(root.GetProperty("gops").GetDouble() > 0);
        Assert.Equal(16, root.GetProperty("verifiedRows").GetInt32());
        Assert.Equal(Kernels.Cpu.Diagnostics.Int8DotPeak.IsAvailable, root.GetProperty("peakGops").ValueKind == JsonValueKind.Number);
    }

    [Theory]
    [InlineData("bench", "gemm", "--m", "0")]
    [InlineData("bench", "gemm", "--n", "-3")]
    [InlineData("bench", "gemm", "--k", "0")]
    [InlineData("bench", "gemm", "--m", "abc")]
    [InlineData("bench", "gemm", "--threads", "0")]
    [InlineData("bench", "gemm", "--threads", "100000")]
    [InlineData("bench", "gemm", "--kernel", "f32-gemm-no-such-kernel")]
    [InlineData("bench", "gemm", "--baseline", "mkl")]
    [InlineData("bench", "gemm", "--m", "100000", "--k", "100000")]
    [InlineData("bench", "gemm", "--no-such-option")]
    [InlineData("bench", "gemm", "--precision", "int4")]
    [InlineData("bench", "gemm", "--precision", "int8", "--baseline", "openblas")]
    [InlineData("bench", "gemm", "--precision", "int8", "--kernel", "qu8s8-gemm-no-such-kernel")]
    [InlineData("bench", "gemm", "--precision", "int8", "--k", "70000", "--m", "4", "--n", "4")]
    [InlineData("bench", "peak", "--threads", "0")]
    [InlineData("run", "squeezenet", "--precision", "int8", "--equalize", "1.5")]
    [InlineData("run", "squeezenet", "--equalize", "0.5")]
    [InlineData("quantize", "squeezenet", "--out", "x.onnx", "--equalize", "-1")]
    [InlineData("tune-quant", "squeezenet", "--budget", "0.01", "--equalize", "abc")]
    [InlineData("devices", "--virtual-clusters", "0")]
    [InlineData("frobnicate")]
    [InlineData]
    public void BadInput_IsOneLineOnStderrWithExitCode2(params string[] args)
    {
        var (exitCode, stdout, stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kernels: error: ", line);
        Assert.DoesNotContain("Exception", line); // a message, not a stack trace
    }

    [Fact]
    public void UnknownKernel_NamesTheKnownOnes()
    {
        var (_, _, stderr) = Run("bench", "gemm", "--kernel", "f32-gemm-no-such-kernel");

        Assert.Contains("f32-gemm-no-such-kernel", stderr);
        Assert.Contains(Kernels.Cpu.Gemm.SgemmKernels.Best.Name, stderr);
    }
}
