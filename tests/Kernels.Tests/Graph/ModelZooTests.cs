namespace Kernels.Tests.Graphs;

using System.Diagnostics;
using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Zoo;
using Xunit;

/// <summary>Every zoo network: output shape, node counts, parameter counts against the published figures, determinism.</summary>
public sealed class ModelZooTests
{
    public static TheoryData<string> Names => [.. ModelZoo.Names];

    [Theory]
    //           name,            published, exact count (torchvision / Caffe models), nodes, conv, inputSize
    [InlineData("alexnet", 61.0e6, 60_965_224L, 24, 5, 227)]
    [InlineData("googlenet", 7.0e6, 6_998_552L, 142, 57, 224)]
    [InlineData("mobilenet", 4.23e6, 4_231_976L, 85, 27, 224)]
    [InlineData("mobilenetv2", 3.50e6, 3_504_872L, 153, 52, 224)]
    [InlineData("resnet50", 25.6e6, 25_557_032L, 175, 53, 224)]
    [InlineData("squeezenet", 1.235e6, 1_235_496L, 66, 26, 227)]
    [InlineData("squeezenet1.0", 1.248e6, 1_248_424L, 66, 26, 227)]
    public void MatchesThePublishedArchitecture(string name, double published, long exact, int nodes, int convolutions, int inputSize)
    {
        NetworkGraph g = ModelZoo.Create(name);
        Assert.Equal(name, g.Name);
        Assert.Equal(new TensorShape(1, inputSize, inputSize, 3), Assert.Single(g.Inputs).Shape);
        Assert.Equal(new TensorShape(1, 1, 1, 1000), Assert.Single(g.Outputs).Shape);
        Assert.Equal(OperatorKind.Softmax, g.Nodes[^1].Kind);
        Assert.InRange(Math.Abs(g.ParameterCount - published) / published, 0, 0.005);
        Assert.Equal(exact, g.ParameterCount);
        Assert.Equal(nodes, g.Nodes.Count);
        Assert.Equal(convolutions, g.CountNodes(OperatorKind.Conv));
    }

    [Fact]
    public void OperatorMixMatchesEachNetwork()
    {
        NetworkGraph alexnet = ModelZoo.Create("alexnet");
        Assert.Equal(2, alexnet.CountNodes(OperatorKind.Lrn));
        Assert.Equal(3, alexnet.CountNodes(OperatorKind.FullyConnected));
        Assert.Equal(2, alexnet.GetNode("conv2").GetAttributes<Conv2DDescriptor>().Groups);

        NetworkGraph googlenet = ModelZoo.Create("googlenet");
        Assert.Equal(2, googlenet.CountNodes(OperatorKind.Lrn));
        Assert.Equal(9, googlenet.CountNodes(OperatorKind.Concat));
        Assert.Equal(new TensorShape(1, 7, 7, 1024), googlenet.GetNode("inception_5b/output").Output.Shape);

        NetworkGraph mobilenet = ModelZoo.Create("mobilenet");
        Assert.Equal(13, mobilenet.Nodes.Count(n => n.Kind == OperatorKind.Conv && n.GetAttributes<Conv2DDescriptor>().IsDepthwise));
        Assert.Equal(27, mobilenet.CountNodes(OperatorKind.Relu6));

        NetworkGraph mobilenetv2 = ModelZoo.Create("mobilenetv2");
        Assert.Equal(10, mobilenetv2.CountNodes(OperatorKind.Add));
        Assert.Equal(17, mobilenetv2.Nodes.Count(n => n.Kind == OperatorKind.Conv && n.GetAttributes<Conv2DDescriptor>().IsDepthwise));
        Assert.Equal(new TensorShape(1, 7, 7, 1280), mobilenetv2.GetNode("conv_last").Output.Shape);

        NetworkGraph resnet = ModelZoo.Create("resnet50");
        Assert.Equal(53, resnet.CountNodes(OperatorKind.BatchNormalization));
        Assert.Equal(16, resnet.CountNodes(OperatorKind.Add));
        Assert.Equal(new TensorShape(1, 7, 7, 2048), resnet.GetNode("res5c").Output.Shape);
        Assert.Equal(new TensorShape(1, 56, 56, 256), resnet.GetNode("res2a").Output.Shape);

        NetworkGraph squeezenet = ModelZoo.Create("squeezenet");
        // 227 with ceil-mode pools: 113 → 56 → 28 → 14 (torchvision's 224 gives 13).
        Assert.Equal(new TensorShape(1, 14, 14, 512), squeezenet.GetNode("fire9/concat").Output.Shape);
        NetworkGraph squeezenet10 = ModelZoo.Create("squeezenet1.0");
        Assert.Equal(new TensorShape(1, 13, 13, 512), squeezenet10.GetNode("fire9/concat").Output.Shape);
        Assert.Equal(new TensorShape(1, 111, 111, 96), squeezenet10.GetNode("conv1").Output.Shape);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndAnotherSeedDifferentOnes()
    {
        NetworkGraph a = ModelZoo.Create("squeezenet", seed: 7);
        NetworkGraph b = ModelZoo.Create("squeezenet", seed: 7);
        NetworkGraph c = ModelZoo.Create("squeezenet", seed: 8);
        Assert.Equal(a.Constants.Count, b.Constants.Count);

        // Read b's constants in reverse: a constant's values must not depend on the order constants are generated in.
        for (int i = b.Constants.Count - 1; i >= 0; i--)
        {
            _ = b.Constants[i].Data;
        }

        for (int i = 0; i < a.Constants.Count; i++)
        {
            Assert.Equal(a.Constants[i].Name, b.Constants[i].Name);
            Assert.True(a.Constants[i].Data.Span.SequenceEqual(b.Constants[i].Data.Span), a.Constants[i].Name);
        }

        Assert.False(a.Constants[0].Data.Span.SequenceEqual(c.Constants[0].Data.Span));
    }

    [Fact]
    public void WeightsFollowHeScaling()
    {
        NetworkGraph g = ModelZoo.Create("resnet50");
        Constant w = g.GetNode("res3a/branch2b").Constants[0];
        Assert.Equal([128, 3, 3, 128], w.Dimensions);
        ReadOnlySpan<float> values = w.Data.Span;
        double sum = 0, squares = 0;
        foreach (float v in values)
        {
            sum += v;
            squares += (double)v * v;
        }

        double fanIn = 3 * 3 * 128;
        Assert.InRange(sum / values.Length, -0.01, 0.01);
        Assert.InRange(squares / values.Length, 0.97 * 2 / fanIn, 1.03 * 2 / fanIn);
        Assert.InRange(MaxAbs(values), 0.95 * Math.Sqrt(6 / fanIn), Math.Sqrt(6 / fanIn));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void BuildsLazily(string name)
    {
        // Building a zoo graph generates no weights (their speed is the plan-time benchmark's business, not a test's).
        NetworkGraph g = ModelZoo.Create(name);
        Assert.All(g.Constants, c => Assert.False(c.IsMaterialized));
        foreach (Constant c in g.Constants)
        {
            Assert.All(c.Data.ToArray(), v => Assert.True(float.IsFinite(v)));
            Assert.True(c.IsMaterialized);
        }
    }

    [Fact]
    public void UnknownNameListsTheZoo()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("vgg16"));
        Assert.Contains("'vgg16'", e.Message, StringComparison.Ordinal);
        foreach (string name in ModelZoo.Names)
        {
            Assert.Contains(name, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(["alexnet", "googlenet", "mobilenet", "mobilenetv2", "resnet50", "squeezenet", "squeezenet1.0"], ModelZoo.Names);
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("alexnet", batch: 0));
    }

    [Fact]
    public void NamesAreCaseInsensitiveAndBatchSetsN()
    {
        NetworkGraph g = ModelZoo.Create("ResNet50", batch: 4);
        Assert.Equal(new TensorShape(4, 224, 224, 3), g.Inputs[0].Shape);
        Assert.Equal(new TensorShape(4, 1, 1, 1000), g.Outputs[0].Shape);
    }

    private static double MaxAbs(ReadOnlySpan<float> values)
    {
        float max = 0;
        foreach (float v in values)
        {
            max = MathF.Max(max, MathF.Abs(v));
        }

        return max;
    }
}
