namespace Kernels.Tests.Graphs;

using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Reference;
using Kernels.Graph.Zoo;
using Xunit;

/// <summary>The float64 reference executor on small graphs whose outputs are computed by hand in the comments.</summary>
public sealed class ReferenceExecutorTests
{
    private static Constant Const(string name, ConstantRole role, int[] dims, params float[] values) => new(name, role, dims, values);

    public static TheoryData<string> ZooNames => [.. ModelZoo.Names];

    private static float[] OneToNine() => [1, 2, 3, 4, 5, 6, 7, 8, 9];

    [Fact]
    public void ConvWithBiasThenRelu()
    {
        // 3x3 image 1..9, 2x2 kernel of ones, bias -20: window sums 12, 16, 24, 28 → -8, -4, 4, 8 → ReLU 0, 0, 4, 8.
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 3, 3, 1));
        Value y = b.Conv(x, 1, kernel: 2, stride: 1, padding: 0, Const("w", ConstantRole.Weights, [1, 2, 2, 1], 1, 1, 1, 1), Const("b", ConstantRole.Bias, [1], -20));
        double[] result = ReferenceExecutor.Run(b.Build(b.Relu(y)), OneToNine());
        Assert.Equal([0, 0, 4, 8], result);
    }

    [Fact]
    public void DepthwiseConvWithPadding()
    {
        // 2x2x2 image, channel 0 = 1,2,3,4 and channel 1 = 10,20,30,40; 3x3 depthwise with pad 1 covers the whole
        // image from every output pixel: channel 0 (weights 1) → 10, channel 1 (weights 2) → 200.
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 2));
        float[] w = [.. Enumerable.Repeat(1f, 9), .. Enumerable.Repeat(2f, 9)];
        Value y = b.Conv(x, 2, kernel: 3, stride: 1, padding: 1, new Constant("w", ConstantRole.Weights, [2, 3, 3, 1], w), groups: 2);
        double[] result = ReferenceExecutor.Run(b.Build(y), [1, 10, 2, 20, 3, 30, 4, 40]);
        Assert.Equal([10, 200, 10, 200, 10, 200, 10, 200], result);
    }

    [Fact]
    public void PoolingWindowsPaddingAndCeilMode()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 3, 3, 1));

        // Ceil mode 2x2/2 on 3x3: the overhanging windows average only what exists: (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9.
        Value ceil = b.AveragePool(x, kernel: 2, stride: 2, ceilMode: true, countIncludePad: true, name: "ceil");

        // 3x3/2 with pad 1: the top-left window holds 1, 2, 4, 5 (sum 12) and five zeros: 12/9 counting the pad, 12/4 not;
        // the others hold {2, 3, 5, 6}, {4, 5, 7, 8}, {5, 6, 8, 9}.
        Value incl = b.AveragePool(x, kernel: 3, stride: 2, padding: 1, countIncludePad: true, name: "incl");
        Value excl = b.AveragePool(x, kernel: 3, stride: 2, padding: 1, name: "excl");
        Value max = b.MaxPool(x, kernel: 2, stride: 1, name: "max");
        Value gap = b.GlobalAveragePool(x, "gap");
        var outputs = ReferenceExecutor.Run(b.Build(ceil, incl, excl, max, gap), new Dictionary<string, float[]> { ["x"] = OneToNine() });
        Assert.Equal([3, 4.5, 7.5, 9], outputs["ceil"]);
        Assert.Equal([12.0 / 9, 16.0 / 9, 24.0 / 9, 28.0 / 9], outputs["incl"], new Tolerance(1e-12));
        Assert.Equal([3, 4, 6, 7], outputs["excl"]);
        Assert.Equal([5, 6, 8, 9], outputs["max"]);
        Assert.Equal([5], outputs["gap"]);
    }

    [Fact]
    public void LrnBatchNormSoftmaxAndFullyConnected()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 1, 1, 3));

        // size 3, alpha/size = 1, beta 1, k 1: 1/(1+1+4), 2/(1+1+4+9), 3/(1+4+9).
        Value lrn = b.Lrn(x, size: 3, alpha: 3f, beta: 1f, bias: 1f, name: "lrn");

        // W = [[1, 0, -1], [2, 2, 2]], bias [0.5, -12] on [1, 2, 3]: [1 - 3 + 0.5, 12 - 12] = [-1.5, 0].
        Value fc = b.FullyConnected(
            x, 2, Const("fc/w", ConstantRole.Weights, [2, 3], 1, 0, -1, 2, 2, 2), Const("fc/b", ConstantRole.Bias, [2], 0.5f, -12f), "fc");

        // (x - mean)/√(var + 1)·γ + β on [-1.5, 0] with mean [0.5, 0], var [3, 8], γ [2, 3], β [0.5, ln 3]:
        // [-2/2·2 + 0.5, 0 + ln 3] = [-1.5, ln 3].
        Value bn = b.BatchNormalization(
            fc,
            Const("bn/scale", ConstantRole.BatchNormScale, [2], 2, 3),
            Const("bn/bias", ConstantRole.BatchNormBias, [2], 0.5f, (float)Math.Log(3)),
            Const("bn/mean", ConstantRole.BatchNormMean, [2], 0.5f, 0),
            Const("bn/var", ConstantRole.BatchNormVariance, [2], 3, 8),
            epsilon: 1f,
            name: "bn");

        // Concat of Clip(7, 1.5, 1.5) = 1.5 and ReLU(-5) = 0 gives [1.5, 0]; added to bn: [0, ln 3]; softmax [1/4, 3/4].
        Value prob = b.Softmax(b.Add(bn, b.Concat([b.Clip(b.Flatten(b.Input("one", new TensorShape(1, 1, 1, 1))), 1.5f, 1.5f), b.Relu(b.Input("zero", new TensorShape(1, 1, 1, 1)))])), "prob");
        var outputs = ReferenceExecutor.Run(
            b.Build(lrn, fc, bn, prob),
            new Dictionary<string, float[]> { ["x"] = [1, 2, 3], ["one"] = [7], ["zero"] = [-5] });
        Assert.Equal([1.0 / 6, 2.0 / 15, 3.0 / 14], outputs["lrn"], new Tolerance(1e-7));
        Assert.Equal([-1.5, 0], outputs["fc"]);
        Assert.Equal([-1.5, Math.Log(3)], outputs["bn"], new Tolerance(1e-7));

        // bn + [1.5, 0] = [0, ln 3] → softmax [1/4, 3/4].
        Assert.Equal([0.25, 0.75], outputs["prob"], new Tolerance(1e-7));
    }

    [Fact]
    public void RejectsMissingOrMisSizedInputs()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 1));
        NetworkGraph g = b.Build(b.Relu(x));
        Assert.Contains("1x2x2x1", Assert.Throws<ArgumentException>(() => ReferenceExecutor.Run(g, new float[3])).Message, StringComparison.Ordinal);
        Assert.Contains("'x'", Assert.Throws<ArgumentException>(() => ReferenceExecutor.Run(g, new Dictionary<string, float[]>())).Message, StringComparison.Ordinal);
    }

    /// <summary>The synthetic weights keep activations in a realistic range: no explosion or collapse through the network.</summary>
    /// <remarks>Every zoo network (ResNet50's 4 GFLOP in plain float64 loops is the slowest, about 10 s).</remarks>
    [Theory]
    [MemberData(nameof(ZooNames))]
    public void ZooActivationsStayInARealisticRange(string name)
    {
        NetworkGraph g = ModelZoo.Create(name);
        var rng = new Random(1);
        float[] input = new float[g.Inputs[0].Shape.ElementCount];
        for (int i = 0; i < input.Length; i++)
        {
            input[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        var values = ReferenceExecutor.RunAll(g, new Dictionary<string, float[]> { ["data"] = input });
        foreach (Node node in g.Nodes.Where(n => n.Kind is OperatorKind.Conv or OperatorKind.Add or OperatorKind.FullyConnected))
        {
            double[] v = values[node.Output.Name];
            double rms = Math.Sqrt(v.Sum(e => e * e) / v.Length);
            Assert.True(rms is > 0.05 and < 20, $"{name} {node.Name}: RMS {rms}");
        }

        double[] prob = values["prob"];
        Assert.Equal(1.0, prob.Sum(), 9);
        Assert.True(prob.Max() < 0.5, $"{name}: one class takes {prob.Max()} of the probability");
    }

    private sealed class Tolerance(double epsilon) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= epsilon;

        public int GetHashCode(double value) => 0;
    }
}
