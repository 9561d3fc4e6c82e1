using System.Diagnostics;
using Xunit;

namespace Kernels.Tests.Onnx;

/// <summary>
/// ONNX Runtime as a second runtime for exported models: npm onnxruntime-node, installed by
/// tools/fetch-onnxruntime.sh under the models directory, driven by tools/onnxruntime-run.js through node. Optional
/// and not fetched by CI, so <c>KERNELS_REQUIRE_ALL</c> does not require it.
/// </summary>
internal static class OnnxRuntime
{
    public static string PackageDirectory => Path.Combine(OptionalDependencies.ModelsDirectory, "onnxruntime", "node_modules", "onnxruntime-node");

    public static string? SkipReason =>
        !File.Exists(Path.Combine(PackageDirectory, "package.json"))
            ? $"ONNX Runtime for node not in {PackageDirectory}: run bash tools/fetch-onnxruntime.sh (needs npm)"
            : Script is null ? "tools/onnxruntime-run.js not found above the test directory" : null;

    private static string? Script
    {
        get
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "tools", "onnxruntime-run.js");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// Runs <paramref name="model"/> on the float32 file <paramref name="input"/> of dimensions <paramref name="dims"/>
    /// (converted to <paramref name="inputType"/>: float32, uint8 or int8); writes its first output to <paramref name="output"/> as float32.
    /// </summary>
    public static void Run(string model, string input, long[] dims, string output, string inputType = "float32")
    {
        var start = new ProcessStartInfo("node") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { Script!, PackageDirectory, model, input, string.Join(',', dims), output, inputType })
        {
            start.ArgumentList.Add(a);
        }

        using Process p = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        string stderr = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"ONNX Runtime failed on {Path.GetFileName(model)}: {stderr}");
    }
}

/// <summary>A theory that needs ONNX Runtime for node (<see cref="OnnxRuntime"/>); skipped with the reason when it is absent.</summary>
public sealed class OnnxRuntimeTheoryAttribute : TheoryAttribute
{
    public OnnxRuntimeTheoryAttribute() => Skip = OnnxRuntime.SkipReason;
}
