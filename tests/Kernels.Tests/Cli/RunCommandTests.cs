using System.Text.Json;
using Kernels.Cli;
using Kernels.Core;
using Kernels.Graph.Execution;
using Kernels.Graph.IO;
using Xunit;

namespace Kernels.Tests.Cli;

/// <summary><c>kernels run</c> and <c>kernels bench models</c>, in process.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "kernels-run-" + Guid.NewGuid().ToString("N"));

    public RunCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = Program.Run(args, stdout, stderr);
        return (exitCode, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void RunZooNetworkReportsLatencyProfileAndWritesTheOutputThatTheSessionComputes()
    {
        string input = Path.Combine(_dir, "in.npy");
        string output = Path.Combine(_dir, "out.npy");
        var image = TestData.RandomFloats(new Random(5), 227 * 227 * 3);
        NpyArray.FromFloats([1, 227, 227, 3], image).Save(input);

        var (exit, stdout, stderr) = Run("run", "squeezenet", "--input", input, "--output", output, "--iterations", "3", "--warmup", "1", "--profile", "--json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("squeezenet", root.GetProperty("model").GetString());
        Assert.True(root.GetProperty("medianMs").GetDouble() > 0);
        Assert.True(root.GetProperty("p90Ms").GetDouble() >= root.GetProperty("minMs").GetDouble());
        Assert.True(root.GetProperty("imagesPerSecond").GetDouble() > 0);
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.NotEmpty(layers);
        Assert.InRange(layers.Sum(static l => l.GetProperty("share").GetDouble()), 0.999, 1.001);

        var written = NpyArray.Load(output);
        Assert.Equal([1L, 1000], written.Shape);
        using var session = InferenceSession.FromZoo("squeezenet");
        Assert.Equal(session.Run(image), written.ToFloats());
        Assert.Equal(Array.IndexOf(written.ToFloats(), written.ToFloats().Max()), root.GetProperty("topClass").GetInt32());
    }

    /// <summary>
    /// An ONNX model with four outputs (BlazeFace, NHWC input): --input in the ONNX shape, every output written in its
    /// ONNX shape (output k &gt; 0 as out.k.npy), each equal to the session's result converted to ONNX order.
    /// </summary>
    [BlazeFaceFact]
    public void RunOnnxModelReadsItsInputAndWritesEveryOutputInOnnxShapes()
    {
        string model = Path.Combine(OptionalDependencies.ModelsDirectory, "blazeface", "face_detection_front_128x128_barracuda.onnx");
        string input = Path.Combine(_dir, "in.npy");
        string output = Path.Combine(_dir, "out.npy");
        var image = TestData.RandomFloats(new Random(6), 128 * 128 * 3);
        NpyArray.FromFloats([1, 128, 128, 3], image).Save(input);

        var (exit, stdout, stderr) = Run("run", model, "--input", input, "--output", output, "--iterations", "2", "--warmup", "1", "--json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.True(json.RootElement.GetProperty("medianMs").GetDouble() > 0);

        var imported = Kernels.Graph.Onnx.OnnxImporter.LoadModel(model);
        using var session = InferenceSession.Create(imported.Graph, new InferenceOptions());
        float[][] outputs = imported.Outputs.Select(o => new float[o.Value.Shape.ElementCount]).ToArray();
        session.Run([imported.Inputs[0].ToInternal(image)], outputs.Select(o => (Memory<float>)o).ToArray());
        for (int k = 0; k < outputs.Length; k++)
        {
            var written = NpyArray.Load(k == 0 ? output : Path.Combine(_dir, $"out.{k}.npy"));
            Assert.Equal(imported.Outputs[k].OnnxDims, written.Shape);
            Assert.Equal(imported.Outputs[k].ToOnnx(outputs[k]), written.ToFloats());
        }

        // The wrong input shape: one line naming the expected ONNX shape, exit code 2.
        NpyArray.FromFloats([1, 3, 128, 128], image).Save(input);
        (exit, _, stderr) = Run("run", model, "--input", input, "--iterations", "1", "--warmup", "0");
        Assert.Equal(2, exit);
        Assert.Contains("[1, 128, 128, 3]", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TuneMeasuresIntoTheCacheDirectory()
    {
        string? saved = Environment.GetEnvironmentVariable("KERNELS_CACHE_DIR");
        Environment.SetEnvironmentVariable("KERNELS_CACHE_DIR", _dir);
        try
        {
            var (exit, _, stderr) = Run("run", "squeezenet", "--tune", "--iterations", "1", "--warmup", "0", "--json");
            Assert.True(exit == 0, stderr);
            Assert.Contains("measuring", stderr, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(_dir, "conv-algorithms.json")));
        }
        finally
        {
            Environment.SetEnvironmentVariable("KERNELS_CACHE_DIR", saved);
        }
    }

    [Fact]
    public void NchwInputGivesTheSameOutputAsNhwc()
    {
        var image = TestData.RandomFloats(new Random(6), 227 * 227 * 3);
        var nchw = new float[image.Length];
        for (int p = 0; p < 227 * 227; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                nchw[(c * 227 * 227) + p] = image[(p * 3) + c];
            }
        }

        string a = Path.Combine(_dir, "nhwc.npy"), b = Path.Combine(_dir, "nchw.npy");
        NpyArray.FromFloats([1, 227, 227, 3], image).Save(a);
        NpyArray.FromFloats([1, 3, 227, 227], nchw).Save(b);
        Assert.Equal(0, Run("run", "squeezenet", "--input", a, "--output", a + ".out.npy", "--iterations", "1", "--warmup", "0", "--json").ExitCode);
        Assert.Equal(0, Run("run", "squeezenet", "--input", b, "--output", b + ".out.npy", "--iterations", "1", "--warmup", "0", "--json").ExitCode);
        Assert.Equal(NpyArray.Load(a + ".out.npy").ToFloats(), NpyArray.Load(b + ".out.npy").ToFloats());
    }

    [Theory]
    [InlineData("no such model file", "run", "/nonexistent/model.onnx")]
    [InlineData("neither a zoo network", "run", "lenet")]
    [InlineData("no such input file", "run", "squeezenet", "--input", "/nonexistent/x.npy")]
    [InlineData("--iterations", "run", "squeezenet", "--iterations", "0")]
    [InlineData("--models: unknown network", "bench", "models", "--models", "squeezenet,vgg16")]
    public void BadInputIsOneLineAndExitCode2(string message, params string[] args)
    {
        var (exit, _, stderr) = Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongInputShapeStatesExpectedAndGiven()
    {
        string input = Path.Combine(_dir, "bad.npy");
        NpyArray.FromFloats([1, 224, 224, 3], new float[224 * 224 * 3]).Save(input);
        var (exit, _, stderr) = Run("run", "squeezenet", "--input", input, "--iterations", "1");
        Assert.Equal(2, exit);
        Assert.Contains("(1, 224, 224, 3)", stderr, StringComparison.Ordinal);
        Assert.Contains("[1, 227, 227, 3]", stderr, StringComparison.Ordinal);

        string bytes = Path.Combine(_dir, "u8.npy");
        new NpyArray([1, 227, 227, 3], DataType.UInt8, new byte[227 * 227 * 3]).Save(bytes);
        Assert.Contains("float32", Run("run", "squeezenet", "--input", bytes).Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void BenchModelsJsonIsOneObjectPerNetwork()
    {
        var (exit, stdout, stderr) = Run("bench", "models", "--models", "squeezenet,mobilenetv2", "--iterations", "2", "--warmup", "1", "--json");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        var rows = json.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["squeezenet", "mobilenetv2"], rows.Select(static r => r.GetProperty("name").GetString()));
        Assert.All(rows, static r =>
        {
            Assert.True(r.GetProperty("medianMs").GetDouble() >= r.GetProperty("minMs").GetDouble());
            Assert.True(r.GetProperty("minMs").GetDouble() > 0);
            Assert.True(r.GetProperty("arenaBytes").GetInt64() < r.GetProperty("intermediateBytes").GetInt64());
        });
    }
}
