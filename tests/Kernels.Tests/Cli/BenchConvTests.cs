using System.Text.Json;
using Kernels.Baselines;
using Kernels.Cli;
using Kernels.Core;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Xunit;

namespace Kernels.Tests.Cli;

/// <summary><c>kernels bench conv</c> run in-process: its JSON, the ratio's direction, its errors, the oneDNN baseline.</summary>
public sealed class BenchConvTests
{
    private const string Tiny = "9x7x8,3x3,8,1,1";

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = Program.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    private static JsonElement RunJson(params string[] args)
    {
        var (exitCode, stdout, stderr) = Run(args);
        Assert.True(exitCode == 0, stderr);
        using JsonDocument document = JsonDocument.Parse(stdout); // throws on anything after the object
        return document.RootElement.Clone();
    }

    [Fact]
    public void Json_WithoutBaseline_ReportsOneConsistentObject()
    {
        JsonElement root = RunJson("bench", "conv", "--shape", Tiny, "--baseline", "none", "--min-time-ms", "20", "--json");

        var d = Conv2DDescriptor.Parse(Tiny);
        Assert.Equal(d.ToString(), root.GetProperty("shape").GetString());
        Assert.Equal(d.Flops, root.GetProperty("flops").GetDouble());
        Assert.Equal("auto", root.GetProperty("requestedAlgorithm").GetString());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(KernelIsas.Best.ToName(), root.GetProperty("isa").GetString());
        double ms = root.GetProperty("ms").GetDouble();
        Assert.True(ms > 0);
        Assert.Equal(d.Flops / ms / 1e6, root.GetProperty("gflops").GetDouble(), 9);
        Assert.True(root.GetProperty("maxRelativeError").GetDouble() <= 1e-3);
        foreach (string field in new[] { "baseline", "baselineAlgorithm", "baselineMs", "baselineGflops", "ratio", "baselineCandidates" })
        {
            Assert.Equal(JsonValueKind.Null, root.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public void Auto_MeasuresEveryApplicableAlgorithmAndReportsTheFastest()
    {
        const string Shape = "18x17x16,1x1,24";
        JsonElement root = RunJson("bench", "conv", "--shape", Shape, "--algorithm", "auto", "--baseline", "none", "--min-time-ms", "10", "--json");

        string[] expected = Convolutions.ApplicableAlgorithms(Conv2DDescriptor.Parse(Shape)).Select(a => a.ToName()).Order().ToArray();
        JsonElement[] candidates = root.GetProperty("candidates").EnumerateArray().ToArray();
        Assert.Equal(expected, candidates.Select(c => c.GetProperty("algorithm").GetString()).Order().ToArray());
        JsonElement fastest = candidates.MinBy(c => c.GetProperty("ms").GetDouble());
        Assert.Equal(fastest.GetProperty("algorithm").GetString(), root.GetProperty("algorithm").GetString());
        Assert.Equal(fastest.GetProperty("ms").GetDouble(), root.GetProperty("ms").GetDouble());
    }

    [Fact]
    public void Table_ShowsOursAndTheRatioLine()
    {
        var (exitCode, stdout, stderr) = Run("bench", "conv", "--shape", Tiny, "--algorithm", "im2col", "--min-time-ms", "10");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("f32-conv-im2col-", stdout);
        Assert.Contains(OneDnn.IsAvailable ? "ratio onednn-" : "no baseline", stdout);
    }

    [OneDnnFact]
    public void OneDnnBaseline_RatioIsBaselineTimeOverOurs()
    {
        JsonElement root = RunJson("bench", "conv", "--shape", Tiny, "--baseline", "onednn", "--min-time-ms", "20", "--json");

        Assert.Equal("onednn", root.GetProperty("baseline").GetString());
        Assert.Equal(OneDnn.Version, root.GetProperty("baselineVersion").GetString());
        double ms = root.GetProperty("ms").GetDouble();
        double baselineMs = root.GetProperty("baselineMs").GetDouble();
        double ratio = root.GetProperty("ratio").GetDouble();
        Assert.True(baselineMs > 0);
        Assert.Equal(baselineMs / ms, ratio, 12);
        Assert.Equal(ms < baselineMs, ratio > 1); // above 1: ours is faster, as in bench gemm
        Assert.True(root.GetProperty("baselineMaxRelativeError").GetDouble() <= 1e-3);

        // Every oneDNN kind is listed, timed or with the reason it has none; the baseline is the fastest timed one.
        JsonElement[] candidates = root.GetProperty("baselineCandidates").EnumerateArray().ToArray();
        Assert.Equal(new[] { "auto", "direct", "winograd" }, candidates.Select(c => c.GetProperty("algorithm").GetString()!).Order().ToArray());
        JsonElement[] timed = candidates.Where(c => c.GetProperty("ms").ValueKind == JsonValueKind.Number).ToArray();
        Assert.All(candidates.Except(timed), c => Assert.False(string.IsNullOrEmpty(c.GetProperty("unsupported").GetString())));
        JsonElement fastest = timed.MinBy(c => c.GetProperty("ms").GetDouble());
        Assert.Equal(fastest.GetProperty("algorithm").GetString(), root.GetProperty("baselineAlgorithm").GetString());
        Assert.Equal(fastest.GetProperty("ms").GetDouble(), baselineMs);
        Assert.Contains(root.GetProperty("baselineLayout").GetString(), new[] { "nhwc", "blocked" });
    }

    [Fact]
    public void BaselineOneDnn_WhenMissing_IsUsageError()
    {
        if (OneDnn.IsAvailable)
        {
            return; // covered on machines without libdnnl; the message is OneDnn.UnavailableReason
        }

        var (exitCode, _, stderr) = Run("bench", "conv", "--shape", Tiny, "--baseline", "onednn", "--json");
        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("libdnnl", stderr);
    }

    [Theory]
    [InlineData("--shape", "56x56", "--shape")]
    [InlineData("--shape", "0x5x5,3x3,8", "--shape")]
    [InlineData("--shape", "9x7x8,3x3,8,1,1,3", "--shape")]   // groups do not divide the channels
    [InlineData("--shape", "9x7x8,11x11,8", "--shape")]       // kernel larger than the input
    [InlineData("--algorithm", "fft", "--algorithm")]
    [InlineData("--algorithm", "winograd-f4", "does not apply")]
    [InlineData("--isa", "sse2", "--isa")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--baseline", "mkl", "--baseline")]
    [InlineData("--min-time-ms", "-1", "--min-time-ms")]
    public void BadInput_IsOneLineNamingTheOptionWithExitCode2(string option, string value, string named)
    {
        string shape = option == "--shape" ? value : "9x7x8,1x1,8,2,0";
        string[] args = option == "--shape"
            ? ["bench", "conv", "--shape", shape, "--json"]
            : ["bench", "conv", "--shape", shape, option, value, "--json"];

        var (exitCode, stdout, stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kernels: error: ", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain("Exception", line);
    }

    [Fact]
    public void MissingShape_IsUsageError()
    {
        var (exitCode, _, stderr) = Run("bench", "conv", "--json");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains("--shape", stderr);
    }

    [Fact]
    public void NotApplicable_GivesTheAlgorithmsReason()
    {
        var d = Conv2DDescriptor.Parse("9x7x8,1x1,8,2,0");
        string? why = Convolutions.WhyNotApplicable(ConvolutionAlgorithm.WinogradF2, d);
        Assert.NotNull(why);

        var (exitCode, _, stderr) = Run("bench", "conv", "--shape", "9x7x8,1x1,8,2,0", "--algorithm", "winograd-f2");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Contains(why, stderr);
    }

    [Theory]
    [InlineData("9x7x8,3x3,8,1,1")]
    [InlineData("23x23x3,3x3,16,2,0")] // a first layer: three input channels, stride 2
    public void Int8_Json_ReportsTheInt8LayerAgainstTheFastestFp32Layer(string shape)
    {
        JsonElement root = RunJson("bench", "conv", "--shape", shape, "--precision", "int8", "--min-time-ms", "20", "--json");

        var d = Conv2DDescriptor.Parse(shape);
        Assert.Equal(d.ToString(), root.GetProperty("shape").GetString());
        Assert.Equal("int8", root.GetProperty("precision").GetString());
        Assert.StartsWith("qu8-conv-", root.GetProperty("algorithm").GetString());
        Assert.Equal(KernelIsas.Best.ToName(), root.GetProperty("isa").GetString());
        double ms = root.GetProperty("ms").GetDouble();
        Assert.True(ms > 0);
        Assert.Equal(d.Flops / ms / 1e6, root.GetProperty("gops").GetDouble(), 9);

        // The baseline is our own fp32 layer: the fastest of every candidate auto measures.
        Assert.Equal("fp32", root.GetProperty("baseline").GetString());
        string[] expected = Convolutions.ApplicableAlgorithms(d).Select(a => a.ToName()).Order().ToArray();
        JsonElement[] candidates = root.GetProperty("baselineCandidates").EnumerateArray().ToArray();
        Assert.Equal(expected, candidates.Select(c => c.GetProperty("algorithm").GetString()).Order().ToArray());
        JsonElement fastest = candidates.MinBy(c => c.GetProperty("ms").GetDouble());
        Assert.Equal(fastest.GetProperty("algorithm").GetString(), root.GetProperty("baselineAlgorithm").GetString());
        double baselineMs = root.GetProperty("baselineMs").GetDouble();
        Assert.Equal(fastest.GetProperty("ms").GetDouble(), baselineMs);
        Assert.Equal(baselineMs / ms, root.GetProperty("ratio").GetDouble(), 12); // above 1: int8 is faster
        Assert.True(root.GetProperty("baselineMaxRelativeError").GetDouble() <= 1e-3);

        double steps = root.GetProperty("maxErrorSteps").GetDouble();
        Assert.InRange(steps, 0, 2);
        Assert.True(steps <= root.GetProperty("maxErrorBoundSteps").GetDouble());
        Assert.True(root.GetProperty("outputScale").GetDouble() > 0);
    }

    [Fact]
    public void Int8_Depthwise_RunsTheInt8DepthwiseLayer()
    {
        JsonElement root = RunJson("bench", "conv", "--shape", "10x9x16,3x3,16,1,1,16", "--precision", "int8", "--min-time-ms", "10", "--json");

        Assert.StartsWith("qu8-dwconv-", root.GetProperty("algorithm").GetString());
        Assert.InRange(root.GetProperty("maxErrorSteps").GetDouble(), 0, 2);
    }

    [Fact]
    public void Int8_Table_ShowsBothLayersAndTheRatioLine()
    {
        var (exitCode, stdout, stderr) = Run("bench", "conv", "--shape", Tiny, "--precision", "int8", "--min-time-ms", "10");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("qu8-conv-", stdout);
        Assert.Contains("f32-conv-", stdout);
        Assert.Contains("fp32 baseline", stdout);
        Assert.Contains("ratio fp32-", stdout);
        Assert.Contains("output steps", stdout);
    }

    [Theory]
    [InlineData("--algorithm", "im2col", "--algorithm")]
    [InlineData("--algorithm", "winograd", "--algorithm")]
    [InlineData("--baseline", "onednn", "--baseline onednn")]
    [InlineData("--baseline", "mkl", "--baseline")]
    [InlineData("--isa", "sse2", "--isa")]
    [InlineData("--threads", "0", "--threads")]
    [InlineData("--min-time-ms", "-1", "--min-time-ms")]
    [InlineData("--shape", "9x7x8,3x3,8,1,1,3", "--shape")]
    public void Int8_BadInput_IsOneLineWithExitCode2(string option, string value, string named)
    {
        string[] args = option == "--shape"
            ? ["bench", "conv", "--shape", value, "--precision", "int8", "--json"]
            : ["bench", "conv", "--shape", Tiny, "--precision", "int8", option, value, "--json"];

        var (exitCode, stdout, stderr) = Run(args);

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kernels: error: ", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain("Exception", line);
    }

    [Theory]
    [InlineData("fp16", "--component opencl")]
    [InlineData("int4", "--precision")]
    public void CpuPrecision_OtherThanFp32OrInt8_IsUsageError(string precision, string named)
    {
        var (exitCode, stdout, stderr) = Run("bench", "conv", "--shape", Tiny, "--precision", precision, "--json");

        Assert.Equal(ExitCodes.Usage, exitCode);
        Assert.Equal(string.Empty, stdout);
        string line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("kernels: error: ", line);
        Assert.Contains(named, line);
    }
}
