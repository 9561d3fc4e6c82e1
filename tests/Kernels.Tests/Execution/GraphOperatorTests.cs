using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Reference;
using Xunit;

namespace Kernels.Tests.Execution;

/// <summary>
/// Multi-input/multi-output sessions and the operators ONNX import maps to (Mul, ChannelAffine, ConstantTensor, Reshape,
/// Pad) on the optimized executor, each against the float64 <see cref="ReferenceExecutor"/>, with the passes that rewrite
/// them (affine and pad folding into convolutions).
/// </summary>
public sealed class GraphOperatorTests
{
    private const double Tolerance = 1e-5;

    private static float[] Random(long count, int seed)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }

    private static Constant Const(string name, ConstantRole role, int[] dims, int seed)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        return new Constant(name, role, dims, Random(count, seed));
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double num = 0, den = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }

        return Math.Sqrt(num / Math.Max(den, 1e-30));
    }

    /// <summary>Runs every output of a graph on the session and on the reference; returns the session for its counters.</summary>
    private static void AssertMatches(NetworkGraph graph, Action<InferenceSession>? check = null)
    {
        var feeds = graph.Inputs.Select((v, i) => (v.Name, Data: Random(v.Shape.ElementCount, 11 + i))).ToDictionary(e => e.Name, e => e.Data);
        IReadOnlyDictionary<string, double[]> expected = ReferenceExecutor.RunAll(graph, feeds);
        using var session = InferenceSession.Create(graph, new InferenceOptions());
        float[][] outputs = graph.Outputs.Select(v => Enumerable.Repeat(float.NaN, (int)v.Shape.ElementCount).ToArray()).ToArray();
        session.Run(
            graph.Inputs.Select(v => (ReadOnlyMemory<float>)feeds[v.Name]).ToArray(),
            outputs.Select(o => (Memory<float>)o).ToArray());
        for (int k = 0; k < outputs.Length; k++)
        {
            double error = RelativeL2(outputs[k], expected[graph.Outputs[k].Name]);
            Assert.True(error <= Tolerance, $"output {k} '{graph.Outputs[k].Name}': relative L2 error {error:E3}");
        }

        check?.Invoke(session);
    }

    [Fact]
    public void TwoInputsFourOutputs_IncludingAnInputAndARepeatedOutput()
    {
        var b = new GraphBuilder("multi");
        var shape = new TensorShape(1, 5, 6, 3);
        Value x = b.Input("x", shape), y = b.Input("y", shape);
        Value sum = b.Relu(b.Add(x, y, "sum"), "sum_relu");
        Value product = b.Mul(x, y, "product");
        AssertMatches(b.Build(sum, product, x, sum), s =>
        {
            Assert.Equal(2, s.InputShapes.Count);
            Assert.Equal(4, s.OutputShapes.Count);
            Assert.Equal(["x", "y"], s.InputNames);
        });
    }

    [Fact]
    public void WrongInputCountsAndLengthsAreRejectedBeforeRunning()
    {
        var b = new GraphBuilder("multi");
        var shape = new TensorShape(1, 2, 2, 3);
        Value x = b.Input("x", shape), y = b.Input("y", shape);
        using var session = InferenceSession.Create(b.Build(b.Add(x, y), b.Mul(x, y)), new InferenceOptions());
        var ok = new float[12];
        var e = Assert.Throws<ArgumentException>(() => session.Run([ok], [new float[12], new float[12]]));
        Assert.Contains("2 inputs and 2 outputs; 1 and 2 were given", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => session.Run([ok, new float[11]], [new float[12], new float[12]]));
        Assert.Contains("input 'y' must be 1x2x2x3 (12 floats); 11 floats were given", e.Message, StringComparison.Ordinal);
        var single = Assert.Throws<InvalidOperationException>(() => session.Run(ok, new float[12]));
        Assert.Contains("2 inputs and 2 outputs", single.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChannelAffineAloneAndFoldedIntoAConvolution()
    {
        var b = new GraphBuilder("affine");
        Value x = b.Input("x", new TensorShape(1, 7, 5, 4));
        Value alone = b.ChannelAffine(x, Const("s0", ConstantRole.Scale, [4], 1), Const("t0", ConstantRole.Shift, [4], 2), "alone");
        Value conv = b.Conv(alone, 6, 3, 1, 1, Const("w", ConstantRole.Weights, [6, 3, 3, 4], 3), Const("bias", ConstantRole.Bias, [6], 4), name: "conv");
        Value folded = b.ChannelAffine(conv, Const("s1", ConstantRole.Scale, [6], 5), Const("t1", ConstantRole.Shift, [6], 6), "folded");
        AssertMatches(b.Build(b.Relu(folded)), s =>
        {
            Assert.Equal(1, s.FoldedBatchNorms);
            Assert.Equal(2, s.LayerCount);
        });
    }

    [Theory]
    [InlineData(PadMode.Constant)]
    [InlineData(PadMode.Edge)]
    [InlineData(PadMode.Reflect)]
    public void PadOfHeightWidthAndChannels(PadMode mode)
    {
        var b = new GraphBuilder("pad");
        Value x = b.Input("x", new TensorShape(2, 4, 5, 3));
        AssertMatches(b.Build(b.Pad(x, new PadAttributes(1, 2, 3, 1, 2, 1, mode, 0.5f))));
    }

    [Fact]
    public void ZeroPadFoldsIntoTheConvolutionThatReadsIt()
    {
        var b = new GraphBuilder("padconv");
        Value x = b.Input("x", new TensorShape(1, 9, 8, 5));
        Value padded = b.Pad(x, new PadAttributes(1, 0, 0, 1, 0, 0));
        Value y = b.Conv(padded, 4, 3, 2, 0, Const("w", ConstantRole.Weights, [4, 3, 3, 5], 7));
        AssertMatches(b.Build(y), s => Assert.Equal(1, s.LayerCount));
    }

    [Fact]
    public void ConstantTensorConcatenatedAndReshapedValues()
    {
        var b = new GraphBuilder("constants");
        Value x = b.Input("x", new TensorShape(1, 4, 4, 6));
        Value zeros = b.ConstantTensor(Const("k", ConstantRole.Tensor, [1, 4, 4, 2], 8), new TensorShape(1, 4, 4, 2));
        Value concat = b.Concat([b.Relu(x), zeros]);
        Value rows = b.Reshape(concat, new TensorShape(1, 1, 16, 8));
        Value softmax = b.Softmax(rows);
        Value back = b.Reshape(softmax, new TensorShape(1, 4, 4, 8));
        AssertMatches(b.Build(b.Add(back, concat), softmax));
    }

    [Fact]
    public void ClusterOptionPinsTheSessionsWorkersAndRejectsAnUnknownCluster()
    {
        var b = new GraphBuilder("cluster");
        Value x = b.Input("x", new TensorShape(1, 6, 6, 8));
        NetworkGraph graph = b.Build(b.Relu(b.Conv(x, 8, 3, 1, 1, Const("w", ConstantRole.Weights, [8, 3, 3, 8], 9))));
        var cluster = Kernels.Core.Topology.CpuTopology.Detect().Clusters[0];
        float[] input = Random(x.Shape.ElementCount, 4);
        using (var session = InferenceSession.Create(graph, new InferenceOptions { Cluster = cluster.Id, Threads = Math.Min(2, cluster.Cores.Count) }))
        {
            double error = RelativeL2(session.Run(input), ReferenceExecutor.Run(graph, input));
            Assert.True(error <= Tolerance, $"relative L2 error {error:E3}");
        }

        var e = Assert.Throws<ArgumentException>(() => InferenceSession.Create(graph, new InferenceOptions { Cluster = 999 }));
        Assert.Contains("No CPU cluster 999", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => InferenceSession.Create(graph, new InferenceOptions { Cluster = cluster.Id, Threads = cluster.Cores.Count + 1 }));
        Assert.Contains($"which has {cluster.Cores.Count} cores", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PadAttributesRejectNegativeAndOversizedReflectPads()
    {
        var b = new GraphBuilder("bad");
        Value x = b.Input("x", new TensorShape(1, 3, 3, 2));
        var e = Assert.Throws<ArgumentException>(() => b.Pad(x, new PadAttributes(-1, 0, 0, 0, 0, 0)));
        Assert.Contains("Top must be non-negative", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ArgumentException>(() => b.Pad(x, new PadAttributes(0, 0, 0, 0, 2, 0, PadMode.Reflect)));
        Assert.Contains("Reflect padding needs every pad smaller than its axis", e.Message, StringComparison.Ordinal);
    }
}

/// <summary>
/// The allocation check with <see cref="GC.GetTotalAllocatedBytes"/>: `kernels run --json` measures the whole
/// process's allocations over its timed runs, in a process of its own (inside the test host, its runner threads
/// allocate while any test runs), after enough warm-up runs for tiered compilation to settle.
/// </summary>
public sealed class ProcessWideAllocationTests
{
    [Theory]
    [InlineData("squeezenet", 1)]
    [InlineData("mobilenetv2", 2)]
    public async Task WarmRunsAllocateNothingInTheProcess(string zoo, int threads)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "kernels.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { cli, "run", zoo, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--warmup", "250", "--iterations", "30", "--json" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        Task<string> stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        string stdout = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"kernels run exited {process.ExitCode}: {await stderr}");
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        double bytes = json.RootElement.GetProperty("allocatedBytesPerRun").GetDouble();
        Assert.True(bytes == 0, $"{zoo} on {threads} thread(s): {bytes} bytes allocated per warm run in the process");
    }
}

/// <summary>Step by step, no layer of a warm zoo network allocates on the calling thread (with two threads: the dispatch paths too).</summary>
public sealed class StepAllocationTests
{
    public static TheoryData<string> ZooNames => [.. Kernels.Graph.Zoo.ModelZoo.Names];

    [Theory]
    [MemberData(nameof(ZooNames))]
    public void NoStepAllocatesWhenWarm(string zoo)
    {
        using var session = InferenceSession.FromZoo(zoo, new InferenceOptions { Threads = 2 });
        var input = new float[session.InputShape.ElementCount];
        var output = new float[session.OutputShape.ElementCount];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 40; i++)
            {
                session.AllocationsPerStep(input, output);
            }

            Thread.Sleep(150);
        }

        // The least each step allocated over five runs: a step that allocates on every call shows in all of them,
        // a one-off (tier-1 code installed late on a loaded machine) in one.
        long[] bytes = session.AllocationsPerStep(input, output);
        for (int run = 0; run < 4; run++)
        {
            long[] again = session.AllocationsPerStep(input, output);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] = Math.Min(bytes[i], again[i]);
            }
        }

        var layers = session.Layers;
        var allocating = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] != 0).Select(i => $"{layers[i].Name} ({layers[i].Algorithm}): {bytes[i]} B").ToList();
        Assert.True(allocating.Count == 0, $"{zoo}: " + string.Join("; ", allocating));
    }
}
