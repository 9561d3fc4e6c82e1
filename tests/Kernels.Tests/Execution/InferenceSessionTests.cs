namespace Kernels.Tests.Execution;

using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Reference;
using Kernels.Graph.Zoo;
using Xunit;
using Xunit.Abstractions;

/// <summary>Whole networks through <see cref="InferenceSession"/> against the float64 reference executor, plus the plan's figures.</summary>
public sealed class InferenceSessionTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> ZooNames => [.. ModelZoo.Names];

    private static float[] RandomInput(TensorShape shape, int seed)
    {
        var random = new Random(seed);
        var x = new float[shape.ElementCount];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return x;
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }

        return Math.Sqrt(diff / norm);
    }

    private static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        var e = new double[expected.Length];
        for (int i = 0; i < e.Length; i++)
        {
            e[i] = expected[i];
        }

        return RelativeL2(actual, e);
    }

    // Every network runs once per thread count: the reference is the slow part, so one input serves both checks.
    [Theory]
    [MemberData(nameof(ZooNames))]
    public void ZooNetworkMatchesReferenceWithOneAndTwoThreads(string name)
    {
        NetworkGraph graph = ModelZoo.Create(name);
        float[] input = RandomInput(graph.Inputs[0].Shape, seed: 11);
        double[] expected = ReferenceExecutor.Run(graph, input);

        using var one = InferenceSession.Create(graph, new InferenceOptions { Threads = 1 });
        float[] y1 = one.Run(input);
        double error = RelativeL2(y1, expected);
        output.WriteLine($"{name}: relative L2 {error:E2}; {one.LayerCount} layers; folded {one.FoldedBatchNorms} BN, fused {one.FusedActivations} activations, "
            + $"{one.InPlaceConcats} in-place / {one.CopiedConcats} copied concats; arena {one.ArenaBytes / 1048576.0:F2} MiB of {one.TotalIntermediateBytes / 1048576.0:F2} MiB; plan {one.PlanBuildTime.TotalMilliseconds:F0} ms");
        Assert.True(error <= Tolerance, $"{name}: relative L2 error {error:E3} > {Tolerance:E0}.");

        using var two = InferenceSession.Create(graph, new InferenceOptions { Threads = 2 });
        float[] y2 = two.Run(input);
        double threadError = RelativeL2(y2, y1);
        Assert.True(threadError <= Tolerance, $"{name}: 2 threads differ from 1 thread by relative L2 {threadError:E3}.");
    }

    [Fact]
    public void ResNet50ArenaIsAtMostSixtyPercentOfTheIntermediates()
    {
        using var session = InferenceSession.FromZoo("resnet50");
        double ratio = (double)session.ArenaBytes / session.TotalIntermediateBytes;
        output.WriteLine($"resnet50: arena {session.ArenaBytes} B, intermediates {session.TotalIntermediateBytes} B, ratio {ratio:P1}; plan build {session.PlanBuildTime.TotalMilliseconds:F0} ms; folded {session.FoldedBatchNorms} BN");
        Assert.Equal(53, session.FoldedBatchNorms);
        Assert.True(ratio <= 0.60, $"resnet50 arena is {ratio:P1} of the intermediates.");
    }

    [Fact]
    public void GoogLeNetAndSqueezeNetConcatsAreInPlace()
    {
        using var google = InferenceSession.FromZoo("googlenet");
        using var squeeze = InferenceSession.FromZoo("squeezenet");
        Assert.Equal(9, google.InPlaceConcats);
        Assert.Equal(0, google.CopiedConcats);
        Assert.Equal(8, squeeze.InPlaceConcats);
        Assert.Equal(0, squeeze.CopiedConcats);
    }

    [Fact]
    public void RunAllocatesNothingAfterWarmUp()
    {
        using var session = InferenceSession.FromZoo("squeezenet");
        float[] input = RandomInput(session.InputShape, seed: 3);
        var result = new float[session.OutputShape.ElementCount];
        SteadyState.AssertAllocatesNothing(() => session.Run(input, result), "InferenceSession.Run (squeezenet)");
    }

    [Fact]
    public void ProfiledTwoThreadRunAllocatesNothingAfterWarmUp()
    {
        using var session = InferenceSession.FromZoo("mobilenetv2", new InferenceOptions { Threads = 2, Profile = true });
        float[] input = RandomInput(session.InputShape, seed: 3);
        var result = new float[session.OutputShape.ElementCount];
        SteadyState.AssertAllocatesNothing(() => session.Run(input, result), "InferenceSession.Run (mobilenetv2, 2 threads, profiled)");
        IReadOnlyList<LayerProfile> profile = session.Profile;
        Assert.Equal(session.LayerCount, profile.Count);
        Assert.All(profile, p => Assert.True(p.Milliseconds >= 0));
        Assert.Contains(profile, p => p.Operator.StartsWith("Conv+", StringComparison.Ordinal) && p.Algorithm.StartsWith("f32-conv-", StringComparison.Ordinal));
    }

    [Fact]
    public void CallerOwnedWorkerGroupIsUsedAndNotDisposed()
    {
        using var workers = new Kernels.Core.Threading.WorkerGroup(2);
        float[] input = RandomInput(new TensorShape(1, 227, 227, 3), seed: 4);
        float[] shared, own;
        using (var session = InferenceSession.FromZoo("squeezenet", new InferenceOptions { Workers = workers }))
        {
            Assert.Equal(2, session.Threads);
            shared = session.Run(input);
        }

        using (var session = InferenceSession.FromZoo("squeezenet"))
        {
            own = session.Run(input);
        }

        // The group still works after the session is gone: the session did not dispose it.
        using (var again = InferenceSession.FromZoo("squeezenet", new InferenceOptions { Workers = workers }))
        {
            Assert.True(RelativeL2(again.Run(input), own) <= Tolerance);
        }

        Assert.True(RelativeL2(shared, own) <= Tolerance);
    }

    [Fact]
    public void WrongInputOrOutputLengthStatesExpectedAndGiven()
    {
        using var session = InferenceSession.FromZoo("squeezenet");
        var ok = new float[session.OutputShape.ElementCount];
        var e = Assert.Throws<ArgumentException>(() => session.Run(new float[10], ok));
        Assert.Contains(session.InputShape.ElementCount.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Contains("10 floats were given", e.Message, StringComparison.Ordinal);
        var e2 = Assert.Throws<ArgumentException>(() => session.Run(new float[session.InputShape.ElementCount], new float[3]));
        Assert.Contains("3 floats", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnfusableShapesFallBack()
    {
        // A concat input also read by another node must be copied; a BN after a pool has no conv to fold into;
        // a ReLU whose input is also a graph-visible branch stays a separate step; Dropout and Flatten vanish.
        var b = new GraphBuilder("fallbacks");
        Value x = b.Input("x", new TensorShape(1, 6, 6, 3));
        var random = new Random(5);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        Value c1 = b.Conv(x, 4, kernel: 3, stride: 1, padding: 1, new Constant("w1", ConstantRole.Weights, [4, 3, 3, 3], R(108)));
        Value r1 = b.Relu(c1);
        Value p = b.MaxPool(c1, kernel: 2, stride: 1, padding: 0);
        Value p2 = b.MaxPool(r1, kernel: 2, stride: 1, padding: 0);
        Value bn = b.BatchNormalization(
            p,
            new Constant("g", ConstantRole.BatchNormScale, [4], [1.1f, 0.9f, 1f, 1.2f]),
            new Constant("be", ConstantRole.BatchNormBias, [4], [0.1f, -0.1f, 0f, 0.2f]),
            new Constant("m", ConstantRole.BatchNormMean, [4], [0.05f, 0f, -0.05f, 0.1f]),
            new Constant("v", ConstantRole.BatchNormVariance, [4], [1f, 0.9f, 1.1f, 1.2f]));
        Value cat = b.Concat([bn, p2, b.Dropout(p2)]);
        Value flat = b.Flatten(cat);
        Value fc = b.FullyConnected(flat, 5, new Constant("fw", ConstantRole.Weights, [5, 5 * 5 * 12], R(5 * 5 * 5 * 12)));
        NetworkGraph graph = b.Build(b.Softmax(fc));

        float[] input = RandomInput(graph.Inputs[0].Shape, seed: 9);
        using var session = InferenceSession.Create(graph, new InferenceOptions());
        Assert.Equal(2, session.RemovedIdentities);
        Assert.Equal(0, session.FoldedBatchNorms);
        Assert.Equal(0, session.FusedActivations);
        Assert.Equal(1, session.CopiedConcats);
        double error = RelativeL2(session.Run(input), ReferenceExecutor.Run(graph, input));
        Assert.True(error <= Tolerance, $"relative L2 error {error:E3}");
    }

    [Fact]
    public void ClipAndLeakyReluFuseWhenTheEpilogueCanExpressThem()
    {
        // Clip(0, 6) is Relu6 and LeakyRelu keeps its slope, so both fuse into their convolutions; Clip(-1, 1) after
        // the Add is no epilogue activation and stays a separate step.
        var b = new GraphBuilder("clips");
        Value x = b.Input("x", new TensorShape(1, 5, 5, 4));
        var random = new Random(6);
        Constant W(string name) => new(name, ConstantRole.Weights, [4, 3, 3, 4], Enumerable.Range(0, 144).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray());
        Value a = b.Clip(b.Conv(x, 4, kernel: 3, stride: 1, padding: 1, W("wa")), 0f, 6f);
        Value c = b.LeakyRelu(b.Conv(x, 4, kernel: 3, stride: 1, padding: 1, W("wc")), slope: 0.2f);
        NetworkGraph graph = b.Build(b.Clip(b.Add(a, c), -1f, 1f));

        float[] input = RandomInput(graph.Inputs[0].Shape, seed: 2);
        using var session = InferenceSession.Create(graph, new InferenceOptions());
        Assert.Equal(2, session.FusedActivations);
        Assert.Equal(4, session.LayerCount);
        double error = RelativeL2(session.Run(input), ReferenceExecutor.Run(graph, input));
        Assert.True(error <= Tolerance, $"relative L2 error {error:E3}");
    }

    [Fact]
    public void GraphOfOnlyIdentitiesCopiesTheInput()
    {
        var b = new GraphBuilder("identity");
        Value x = b.Input("x", new TensorShape(1, 2, 3, 4));
        NetworkGraph graph = b.Build(b.Flatten(b.Dropout(x)));
        using var session = InferenceSession.Create(graph, new InferenceOptions());
        float[] input = RandomInput(x.Shape, seed: 1);
        Assert.Equal(input, session.Run(input));
        Assert.Equal(0, session.ArenaBytes);
    }

    [Fact]
    public void SigmoidAndHardSigmoidMatchReferenceIncludingTails()
    {
        // 3·5·7·3 = 315 elements: not a multiple of any vector width, so the scalar tail runs too.
        var b = new GraphBuilder("sigmoids");
        Value x = b.Input("x", new TensorShape(3, 5, 7, 3));
        NetworkGraph graph = b.Build(b.HardSigmoid(b.Sigmoid(x), alpha: 3f, beta: -1.2f));
        float[] input = RandomInput(x.Shape, seed: 3);
        for (int i = 0; i < input.Length; i++)
        {
            input[i] *= 8f;
        }

        using var session = InferenceSession.Create(graph, new InferenceOptions());
        Assert.Equal(2, session.LayerCount);
        double error = RelativeL2(session.Run(input), ReferenceExecutor.Run(graph, input));
        Assert.True(error <= Tolerance, $"relative L2 error {error:E3}");
    }
}
