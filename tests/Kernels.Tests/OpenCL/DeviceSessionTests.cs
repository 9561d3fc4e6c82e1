using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.Graph.Reference;
using Kernels.OpenCL.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// Whole networks on the OpenCL executor (PoCL here): small graphs built from the zoo networks' blocks (SqueezeNet
/// fire modules, MobileNet depthwise separable blocks, ResNet bottlenecks, a GoogLeNet inception with LRN, AlexNet's
/// grouped convolution), each against the float64 <see cref="ReferenceExecutor"/>, with every layer on the device.
/// </summary>
public sealed class DeviceSessionTests(OpenCLFixture fixture, ITestOutputHelper output) : IClassFixture<OpenCLFixture>
{
    private const double Tolerance = 1e-4;

    internal static float[] Random(long count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1) * scale;
        }

        return values;
    }

    internal static double RelativeL2(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected)
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

    [OpenCLFact]
    public void SqueezeNetFireModulesMatchTheReference()
    {
        var b = new Blocks("fire-net", seed: 1);
        Value x = b.Input(48, 48, 3);
        x = b.G.Relu(b.Conv(x, 32, 3, stride: 2));
        x = b.G.MaxPool(x, kernel: 3, stride: 2, ceilMode: true);
        x = b.Fire(x, 8, 16);
        x = b.Fire(x, 8, 16);
        x = b.G.MaxPool(x, kernel: 3, stride: 2, ceilMode: true);
        x = b.Fire(x, 16, 32);
        x = b.G.Dropout(x);
        x = b.G.Relu(b.Conv(x, 10, 1));
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.G.GlobalAveragePool(x)));

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(3, session.InPlaceConcats);
        Assert.Equal(0, session.CopiedConcats);
        Assert.Contains(session.Layers, l => l.Algorithm == "winograd_f2x3");
        Assert.Contains(session.Layers, l => l.Algorithm == "conv2d_1x1_nhwc_4x4");
        Assert.True(session.IntermediateBytes < session.TotalIntermediateBytes, $"{session.IntermediateBytes} of {session.TotalIntermediateBytes} bytes: no buffer was reused");
    }

    [OpenCLFact]
    public void MobileNetBlocksMatchTheReference()
    {
        var b = new Blocks("mobilenet-net", seed: 2);
        Value x = b.Input(40, 40, 3);
        x = b.G.Clip(b.ConvBn(x, 16, 3, stride: 2, padding: 1), 0f, 6f);
        foreach ((int channels, int stride) in new[] { (24, 1), (32, 2), (32, 1), (48, 2) })
        {
            x = b.G.Relu6(b.ConvBn(x, x.Shape.C, 3, stride, padding: 1, groups: x.Shape.C));
            x = b.G.Relu6(b.ConvBn(x, channels, 1));
        }

        x = b.G.Flatten(b.G.GlobalAveragePool(x));
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.Fc(x, 12)));

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(9, session.FoldedBatchNorms);
        Assert.Equal(9, session.FusedActivations);
        Assert.Equal(4, session.Layers.Count(l => l.Algorithm == "conv2d_depthwise_nhwc_4x4"));
        Assert.Contains(session.Layers, l => l.Algorithm.StartsWith("fully_connected", StringComparison.Ordinal));
    }

    [OpenCLFact]
    public void ResNetBottlenecksMatchTheReference()
    {
        var b = new Blocks("resnet-net", seed: 3);
        Value x = b.Input(32, 32, 3);
        x = b.G.Relu(b.ConvBn(x, 16, 7, stride: 2, padding: 3));
        x = b.G.MaxPool(x, kernel: 3, stride: 2, padding: 1);
        x = b.Bottleneck(x, 16, 64, stride: 1, project: true);
        x = b.Bottleneck(x, 16, 64, stride: 1, project: false);
        x = b.Bottleneck(x, 32, 128, stride: 2, project: true);
        x = b.G.Flatten(b.G.GlobalAveragePool(x));
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.Fc(x, 10)));

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(3, session.Layers.Count(l => l.Operator == "Add+Relu"));
        Assert.Contains(session.Layers, l => l.Algorithm == "winograd_f2x3");
        Assert.Contains(session.Layers, l => l.Algorithm == "conv2d_direct_nhwc_4x4");
    }

    [OpenCLFact]
    public void GoogLeNetInceptionWithLrnAndAlexNetGroupsMatchTheReference()
    {
        var b = new Blocks("inception-net", seed: 4);
        Value x = b.Input(48, 48, 3);
        x = b.G.Relu(b.Conv(x, 32, 7, stride: 2, padding: 3));
        x = b.G.MaxPool(x, kernel: 3, stride: 2, ceilMode: true);
        x = b.G.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f);
        x = b.G.Relu(b.Conv(x, 32, 3, padding: 1, groups: 2));
        x = b.G.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f);
        x = b.Inception(x, 16, (12, 24), (4, 8), 8);
        x = b.Inception(x, 24, (16, 32), (8, 12), 12);
        x = b.G.MaxPool(x, kernel: 3, stride: 2, ceilMode: true);
        x = b.G.AveragePool(x, kernel: 3, stride: 1);
        x = b.G.Dropout(b.G.Flatten(x));
        x = b.G.Relu(b.Fc(x, 24));
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.Fc(x, 10)));

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(2, session.Layers.Count(l => l.Operator == "Lrn"));
        Assert.Equal(2, session.InPlaceConcats);
    }

    [OpenCLFact]
    public void ConcatsThatCannotBeWrittenInPlaceAreCopiedOnTheDevice()
    {
        // An add (no output stride on the device), a value read twice, a constant (channel padding as BlazeFace's
        // importer makes it) and the graph input itself: all copied into the concat's channel slices.
        var b = new Blocks("copied-concats", seed: 5);
        Value x = b.Input(9, 7, 5);
        Value c1 = b.G.Relu(b.Conv(x, 6, 3, padding: 1));
        Value c2 = b.Conv(x, 6, 1);
        Value sum = b.G.Add(c1, c2);
        Value pad = b.G.ConstantTensor(new Constant("zeros", ConstantRole.Tensor, [1, 9, 7, 3], Random(9 * 7 * 3, 6)), new TensorShape(1, 9, 7, 3));
        Value concat = b.G.Concat([sum, c1, pad, x]);
        Value y = b.Conv(concat, 8, 3, padding: 1);
        NetworkGraph graph = b.G.Build(y, sum);

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(0, session.InPlaceConcats);
        Assert.Equal(1, session.CopiedConcats);
        Assert.Contains(session.Layers, l => l.Algorithm == "copy_channels_nhwc_c4");
    }

    [OpenCLFact]
    public void TwoInputsAndAnOutputThatIsAnInputRunInTheGraphsOrder()
    {
        var b = new Blocks("two-inputs", seed: 13);
        Value a = b.G.Input("a", new TensorShape(1, 7, 5, 6));
        Value c = b.G.Input("c", new TensorShape(1, 7, 5, 3));
        Value sum = b.G.Add(b.Conv(a, 8, 3, padding: 1), b.Conv(c, 8, 1));
        NetworkGraph graph = b.G.Build(b.G.MaxPool(sum, kernel: 2, stride: 2, ceilMode: true), c, sum);

        using DeviceSession session = AssertMatchesReference(graph);
        Assert.Equal(["a", "c"], session.InputNames);
        Assert.Equal(3, session.OutputShapes.Count);
    }

    [OpenCLFact]
    public void ProfileHasOneDeviceTimePerLayer()
    {
        var b = new Blocks("profiled", seed: 7);
        Value x = b.Input(16, 16, 8);
        x = b.Fire(b.G.Relu(b.Conv(x, 16, 3, padding: 1)), 8, 16);
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.G.GlobalAveragePool(x)));
        using DeviceSession session = DeviceSession.Create(graph, fixture.Context, new DeviceSessionOptions { Profile = true });
        Assert.Empty(session.Profile);
        float[] input = Random(graph.Inputs[0].Shape.ElementCount, 8);
        session.Run(input);
        session.Run(input);
        IReadOnlyList<LayerProfile> profile = session.Profile;
        Assert.Equal(session.LayerCount, profile.Count);
        Assert.All(profile, l => Assert.True(l.Milliseconds > 0, $"{l.Name} ({l.Algorithm}): {l.Milliseconds} ms"));
        Assert.Equal(session.Layers.Select(l => l.Algorithm), profile.Select(l => l.Algorithm));
        session.ResetProfile();
        Assert.Empty(session.Profile);
    }

    [OpenCLFact]
    public void TunedLocalSizesAreSavedAndReadBackBySessionsOnTheDevice()
    {
        var b = new Blocks("tuned", seed: 11);
        Value x = b.Input(12, 12, 8);
        x = b.Fire(b.G.Relu(b.Conv(x, 16, 3, padding: 1)), 8, 16);
        NetworkGraph graph = b.G.Build(b.G.Softmax(b.G.GlobalAveragePool(x)));
        float[] input = Random(graph.Inputs[0].Shape.ElementCount, 12);
        double[] expected = ReferenceExecutor.Run(graph, input);
        string file = Path.Combine(fixture.Folder, "session-tuner.json");
        OpenCLDevice device = fixture.Context.Device;

        var tuning = new WorkSizeTuner(file, TunerMode.Normal);
        using (DeviceSession session = DeviceSession.Create(graph, device, new DeviceSessionOptions { Tuner = tuning, ProgramCache = fixture.Context.ProgramCache }))
        {
            Assert.True(RelativeL2(session.Run(input), expected) <= Tolerance);
        }

        Assert.True(tuning.Measurements > 0);
        tuning.Save();

        var reading = new WorkSizeTuner(file, TunerMode.Normal);
        using (DeviceSession session = DeviceSession.Create(graph, device, new DeviceSessionOptions { Tuner = reading, ProgramCache = fixture.Context.ProgramCache }))
        {
            Assert.True(RelativeL2(session.Run(input), expected) <= Tolerance);
        }

        Assert.Equal(0, reading.Measurements);
        Assert.Equal(tuning.Entries.Count, reading.Entries.Count);
    }

    [OpenCLFact]
    public void ANodeWithoutADeviceKernelIsNamedAtPlanTime()
    {
        var b = new Blocks("with-sigmoid", seed: 9);
        Value x = b.Input(8, 8, 4);
        NetworkGraph graph = b.G.Build(b.G.Sigmoid(b.Conv(x, 4, 3, padding: 1), name: "gate"));
        var e = Assert.Throws<NotSupportedException>(() => DeviceSession.Create(graph, fixture.Context));
        Assert.Contains("'gate'", e.Message);
        Assert.Contains("Sigmoid", e.Message);
        Assert.Contains(fixture.Context.Device.Name, e.Message);
    }

    [OpenCLFact]
    public void WrongInputAndOutputLengthsAreRejectedWithBothCounts()
    {
        var b = new Blocks("lengths", seed: 10);
        NetworkGraph graph = b.G.Build(b.Conv(b.Input(6, 6, 4), 4, 1));
        using DeviceSession session = DeviceSession.Create(graph, fixture.Context);
        var e = Assert.Throws<ArgumentException>(() => session.Run(new float[10], new float[144]));
        Assert.Contains("144 floats); 10 floats were given", e.Message);
    }

    /// <summary>Runs every output on the device and on the float64 reference executor; returns the session for its counters.</summary>
    private DeviceSession AssertMatchesReference(NetworkGraph graph)
    {
        var feeds = graph.Inputs.Select((v, i) => (v.Name, Data: Random(v.Shape.ElementCount, 11 + i))).ToDictionary(e => e.Name, e => e.Data);
        IReadOnlyDictionary<string, double[]> expected = ReferenceExecutor.RunAll(graph, feeds);
        DeviceSession session = DeviceSession.Create(graph, fixture.Context);
        try
        {
            float[][] outputs = graph.Outputs.Select(v => Enumerable.Repeat(float.NaN, (int)v.Shape.ElementCount).ToArray()).ToArray();
            for (int run = 0; run < 2; run++)
            {
                // Twice: the second run reuses every buffer, so a layer that depends on stale contents shows.
                session.Run(graph.Inputs.Select(v => (ReadOnlyMemory<float>)feeds[v.Name]).ToArray(), outputs.Select(o => (Memory<float>)o).ToArray());
                for (int k = 0; k < outputs.Length; k++)
                {
                    double error = RelativeL2(outputs[k], expected[graph.Outputs[k].Name]);
                    output.WriteLine($"{graph.Name} output {graph.Outputs[k].Name}: relative L2 {error:E2} (run {run})");
                    Assert.True(error <= Tolerance, $"{graph.Name} output {graph.Outputs[k].Name}: relative L2 error {error:E3} > {Tolerance:E0}");
                }
            }

            output.WriteLine($"{graph.Name}: {session.LayerCount} layers on {session.Device.Name}: {string.Join(", ", session.Layers.Select(l => l.Algorithm).Distinct())}; "
                + $"{session.IntermediateBuffers} intermediate buffers, {session.IntermediateBytes / 1024} of {session.TotalIntermediateBytes / 1024} KiB");
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The zoo networks' blocks with seeded He-scaled weights.</summary>
    private sealed class Blocks(string name, int seed)
    {
        private int _next = seed * 1000;

        public GraphBuilder G { get; } = new(name);

        public Value Input(int h, int w, int c) => G.Input("data", new TensorShape(1, h, w, c));

        public Value Conv(Value x, int outChannels, int kernel, int stride = 1, int padding = 0, int groups = 1) =>
            G.Conv(x, outChannels, kernel, stride, padding, Weights([outChannels, kernel, kernel, x.Shape.C / groups]), Bias(outChannels), groups);

        public Value ConvBn(Value x, int outChannels, int kernel, int stride = 1, int padding = 0, int groups = 1)
        {
            Value y = G.Conv(x, outChannels, kernel, stride, padding, Weights([outChannels, kernel, kernel, x.Shape.C / groups]), null, groups);
            return G.BatchNormalization(
                y,
                Near(outChannels, 1f, ConstantRole.BatchNormScale),
                Near(outChannels, 0f, ConstantRole.BatchNormBias),
                Near(outChannels, 0f, ConstantRole.BatchNormMean),
                Near(outChannels, 1f, ConstantRole.BatchNormVariance));
        }

        public Value Fc(Value x, int outChannels) => G.FullyConnected(x, outChannels, Weights([outChannels, x.Shape.C]), Bias(outChannels));

        public Value Fire(Value x, int squeeze, int expand)
        {
            Value s = G.Relu(Conv(x, squeeze, 1));
            return G.Concat([G.Relu(Conv(s, expand, 1)), G.Relu(Conv(s, expand, 3, padding: 1))]);
        }

        public Value Bottleneck(Value x, int width, int outChannels, int stride, bool project)
        {
            Value y = G.Relu(ConvBn(x, width, 1));
            y = G.Relu(ConvBn(y, width, 3, stride, padding: 1));
            y = ConvBn(y, outChannels, 1);
            Value shortcut = project ? ConvBn(x, outChannels, 1, stride) : x;
            return G.Relu(G.Add(y, shortcut));
        }

        public Value Inception(Value x, int c1, (int Reduce, int Out) c3, (int Reduce, int Out) c5, int poolProjection)
        {
            Value a = G.Relu(Conv(x, c1, 1));
            Value b = G.Relu(Conv(G.Relu(Conv(x, c3.Reduce, 1)), c3.Out, 3, padding: 1));
            Value c = G.Relu(Conv(G.Relu(Conv(x, c5.Reduce, 1)), c5.Out, 5, padding: 2));
            Value d = G.Relu(Conv(G.MaxPool(x, kernel: 3, stride: 1, padding: 1), poolProjection, 1));
            return G.Concat([a, b, c, d]);
        }

        private Constant Weights(int[] dims)
        {
            int fanIn = dims.Skip(1).Aggregate(1, (p, d) => p * d);
            long count = dims.Aggregate(1L, (p, d) => p * d);
            return new Constant($"w{_next}", ConstantRole.Weights, dims, Random(count, _next++, MathF.Sqrt(6f / fanIn)));
        }

        private Constant Bias(int channels) => new($"b{_next}", ConstantRole.Bias, [channels], Random(channels, _next++, 0.05f));

        private Constant Near(int channels, float centre, ConstantRole role)
        {
            float[] values = Random(channels, _next++, 0.2f).Select(v => v + centre).ToArray();
            return new Constant($"c{_next}", role, [channels], values);
        }
    }
}
