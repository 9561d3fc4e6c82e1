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
}
