namespace Kernels.Tests.Graphs;

// Inside the namespace: from Kernels.Tests.*, a bare "NetworkGraph" would otherwise find the namespace Kernels.Graph first.
using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.Graph;
using Xunit;

/// <summary>Shape inference at each builder call, and errors that name the node and the mismatch.</summary>
public sealed class GraphBuilderTests
{
    private static Constant Weights(string name, params int[] dims) =>
        new(name, ConstantRole.Weights, dims, new float[dims.Aggregate(1, (p, d) => p * d)]);

    private static Constant Bias(string name, int n) => new(name, ConstantRole.Bias, [n], new float[n]);

    [Fact]
    public void InfersShapesThroughConvPoolConcatAddAndFullyConnected()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("data", new TensorShape(2, 224, 224, 3));
        Value c1 = b.Conv(x, outChannels: 64, kernel: 7, stride: 2, padding: 3, Weights("c1/w", 64, 7, 7, 3), Bias("c1/b", 64), name: "c1");
        Assert.Equal(new TensorShape(2, 112, 112, 64), c1.Shape);
        Value r = b.Relu(c1);
        Value p = b.MaxPool(r, kernel: 3, stride: 2, padding: 1);
        Assert.Equal(new TensorShape(2, 56, 56, 64), p.Shape);
        Value pc = b.MaxPool(r, kernel: 3, stride: 2, ceilMode: true, name: "ceil");
        Assert.Equal(new TensorShape(2, 56, 56, 64), pc.Shape); // (112 - 3) / 2 = 54.5 rounds up
        Value pf = b.AveragePool(r, kernel: 3, stride: 2, name: "floor");
        Assert.Equal(new TensorShape(2, 55, 55, 64), pf.Shape);
        Value dw = b.Conv(p, outChannels: 64, kernel: 3, stride: 1, padding: 1, Weights("dw/w", 64, 3, 3, 1), groups: 64, name: "dw");
        Assert.Equal(p.Shape, dw.Shape);
        Value cat = b.Concat([p, dw]);
        Assert.Equal(new TensorShape(2, 56, 56, 128), cat.Shape);
        Value sum = b.Add(p, dw);
        Assert.Equal(p.Shape, sum.Shape);
        Value gap = b.GlobalAveragePool(cat);
        Assert.Equal(new TensorShape(2, 1, 1, 128), gap.Shape);
        Value flat = b.Flatten(p);
        Assert.Equal(new TensorShape(2, 1, 1, 56 * 56 * 64), flat.Shape);
        Value fc = b.FullyConnected(gap, 10, Weights("fc/w", 10, 128), Bias("fc/b", 10), "fc");
        Assert.Equal(new TensorShape(2, 1, 1, 10), fc.Shape);
        Value prob = b.Softmax(b.Dropout(b.Lrn(fc)));
        NetworkGraph g = b.Build(prob, sum);

        Assert.Equal(2, g.Outputs.Count);
        Assert.Equal(1, g.CountNodes(OperatorKind.Lrn));
        Assert.Equal("c1", g.Nodes[0].Name);
        Assert.Equal(64, g.GetNode("c1").GetAttributes<Conv2DDescriptor>().OutputChannels);
        Assert.Equal((64 * 7 * 7 * 3) + 64 + (64 * 9) + (10 * 128) + 10, g.ParameterCount);
        Assert.StartsWith("relu_", g.Nodes[1].Name, StringComparison.Ordinal);
    }

    [Fact]
    public void AddNamesTheNodeAndTheChannelMismatch()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 8, 8, 16));
        Value y = b.Input("y", new TensorShape(1, 8, 8, 32));
        var e = Assert.Throws<ArgumentException>(() => b.Add(x, y, "res2a"));
        Assert.Contains("'res2a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("channel mismatch", e.Message, StringComparison.Ordinal);
        Assert.Contains("1x8x8x16", e.Message, StringComparison.Ordinal);
        Assert.Contains("1x8x8x32", e.Message, StringComparison.Ordinal);
        Assert.Empty(b.Nodes);
    }

    [Fact]
    public void ConcatNamesTheNodeAndTheSpatialMismatch()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 8, 8, 16));
        Value y = b.Input("y", new TensorShape(1, 7, 8, 16));
        var e = Assert.Throws<ArgumentException>(() => b.Concat([x, y], "fire2/concat"));
        Assert.Contains("'fire2/concat'", e.Message, StringComparison.Ordinal);
        Assert.Contains("1x7x8x16", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvRejectsAKernelLargerThanThePaddedInput()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 4, 4, 3));
        var e = Assert.Throws<ArgumentException>(() => b.Conv(x, 8, kernel: 7, stride: 1, padding: 1, Weights("w", 8, 7, 7, 3), name: "conv1"));
        Assert.Contains("'conv1' (Conv)", e.Message, StringComparison.Ordinal);
        Assert.Contains("larger than the padded input", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvRejectsWeightsOfTheWrongShape()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 8, 8, 3));
        var e = Assert.Throws<ArgumentException>(() => b.Conv(x, 8, kernel: 3, stride: 1, padding: 1, Weights("w", 8, 3, 3, 4), name: "conv1"));
        Assert.Contains("'conv1'", e.Message, StringComparison.Ordinal);
        Assert.Contains("[8, 3, 3, 4]", e.Message, StringComparison.Ordinal);
        Assert.Contains("[8, 3, 3, 3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvRejectsGroupsThatDoNotDivideTheChannels()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 8, 8, 6));
        var e = Assert.Throws<ArgumentException>(() => b.Conv(x, 8, kernel: 1, stride: 1, padding: 0, Weights("w", 8, 1, 1, 1), groups: 4, name: "g"));
        Assert.Contains("'g'", e.Message, StringComparison.Ordinal);
        Assert.Contains("divisible", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FullyConnectedNeedsAFlatInput()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 3));
        var e = Assert.Throws<ArgumentException>(() => b.FullyConnected(x, 4, Weights("w", 4, 12), name: "fc"));
        Assert.Contains("'fc'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Flatten", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RejectsDuplicateNamesAndForeignValues()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 3));
        b.Relu(x, "r");
        Assert.Contains("'r'", Assert.Throws<ArgumentException>(() => b.Relu(x, "r")).Message, StringComparison.Ordinal);
        Value foreign = new GraphBuilder("other").Input("z", new TensorShape(1, 2, 2, 3));
        Assert.Contains("not a value", Assert.Throws<ArgumentException>(() => b.Relu(foreign, "r2")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GraphValidationNamesTheNodeWithAWrongDeclaredShape()
    {
        var x = new Value("x", new TensorShape(1, 4, 4, 8));
        var wrong = new Value("y", new TensorShape(1, 4, 4, 9));
        var node = new Node("relu_bad", OperatorKind.Relu, [x], [], new ActivationDescriptor(1, 4, 4, 8, ActivationKind.Relu), wrong);
        var e = Assert.Throws<ArgumentException>(() => new NetworkGraph("g", [x], [wrong], [node]));
        Assert.Contains("'relu_bad'", e.Message, StringComparison.Ordinal);
        Assert.Contains("1x4x4x9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GraphValidationRejectsNodesOutOfTopologicalOrder()
    {
        var x = new Value("x", new TensorShape(1, 4, 4, 8));
        var a = new Value("a", x.Shape);
        var c = new Value("c", x.Shape);
        var first = new Node("a", OperatorKind.Relu, [c], [], new ActivationDescriptor(1, 4, 4, 8, ActivationKind.Relu), a);
        var second = new Node("c", OperatorKind.Relu, [x], [], new ActivationDescriptor(1, 4, 4, 8, ActivationKind.Relu), c);
        var e = Assert.Throws<ArgumentException>(() => new NetworkGraph("g", [x], [a], [first, second]));
        Assert.Contains("Node 'a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("topological", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ActivationAttributesMustMatchTheOperator()
    {
        var x = new Value("x", new TensorShape(1, 4, 4, 8));
        var y = new Value("y", x.Shape);
        var node = new Node("act", OperatorKind.Relu6, [x], [], new ActivationDescriptor(1, 4, 4, 8, ActivationKind.Relu), y);
        var e = Assert.Throws<ArgumentException>(() => new NetworkGraph("g", [x], [y], [node]));
        Assert.Contains("'act' (Relu6)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClipAndLeakyReluKeepTheirParameters()
    {
        var b = new GraphBuilder("t");
        Value x = b.Input("x", new TensorShape(1, 2, 2, 3));
        b.Clip(x, -1f, 2f, "clip");
        b.LeakyRelu(x, 0.2f, "leaky");
        Assert.Throws<ArgumentException>(() => b.Clip(x, 3f, 2f, "bad"));
        NetworkGraph g = b.Build(x);
        Assert.Equal(2f, g.GetNode("clip").GetAttributes<ActivationDescriptor>().Max);
        Assert.Equal(0.2f, g.GetNode("leaky").GetAttributes<ActivationDescriptor>().LeakySlope);
    }
}
