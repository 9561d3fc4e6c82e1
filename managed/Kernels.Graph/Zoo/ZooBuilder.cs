using Kernels.Core;

namespace Kernels.Graph.Zoo;

/// <summary>
/// The layer idioms the zoo networks share (conv + bias, conv + batch norm, fully connected), each creating its
/// constants as lazy seeded synthetic values:
/// <list type="bullet">
/// <item>weights uniform in ±√(6/fan_in), i.e. He initialization's variance 2/fan_in, which keeps the second moment
/// of activations constant through ReLU layers;</item>
/// <item>biases small (±0.05) so a pre-activation is not centred exactly on the ReLU kink;</item>
/// <item>batch norm γ in [0.8, 1.2] (scaled down on the last layer of a residual branch, so 16 shortcuts do not
/// multiply the variance by 17), β and running mean in ±0.1, running variance in [0.8, 1.2]: close to the identity,
/// as a trained network's statistics are for activations in the range the He weights keep them in.</item>
/// </list>
/// </summary>
internal sealed class ZooBuilder(string name, int seed, int batch, int inputSize)
{
    public GraphBuilder Builder { get; } = new(name);

    public int Seed { get; } = seed;

    public Value Input() => Builder.Input("data", new TensorShape(batch, inputSize, inputSize, 3));

    /// <summary>Convolution with bias (networks without batch norm: AlexNet, GoogLeNet, SqueezeNet).</summary>
    public Value Conv(Value x, string name, int outChannels, int kernel, int stride = 1, int padding = 0, int groups = 1)
    {
        Constant weights = ConvWeights(name, x.Shape.C, outChannels, kernel, groups);
        Constant bias = Uniform($"{name}/bias", ConstantRole.Bias, [outChannels], -0.05f, 0.05f);
        return Builder.Conv(x, outChannels, kernel, stride, padding, weights, bias, groups, name: name);
    }

    /// <summary>Convolution (no bias, as in the published models) followed by batch normalization named "{name}/bn".</summary>
    public Value ConvBn(Value x, string name, int outChannels, int kernel, int stride = 1, int padding = 0, int groups = 1, float gammaScale = 1f)
    {
        Constant weights = ConvWeights(name, x.Shape.C, outChannels, kernel, groups);
        Value y = Builder.Conv(x, outChannels, kernel, stride, padding, weights, bias: null, groups, name: name);
        string bn = $"{name}/bn";
        int[] c = [outChannels];
        return Builder.BatchNormalization(
            y,
            Uniform($"{bn}/scale", ConstantRole.BatchNormScale, c, 0.8f * gammaScale, 1.2f * gammaScale),
            Uniform($"{bn}/bias", ConstantRole.BatchNormBias, c, -0.1f, 0.1f),
            Uniform($"{bn}/mean", ConstantRole.BatchNormMean, c, -0.1f, 0.1f),
            Uniform($"{bn}/variance", ConstantRole.BatchNormVariance, c, 0.8f, 1.2f),
            name: bn);
    }

    /// <summary>
    /// Fully connected with bias over an N×1×1×C input. A hidden layer (followed by ReLU) gets He scaling; the
    /// classifier gets LeCun's variance 1/fan_in, since He's factor 2 only makes up for a ReLU that halves the second
    /// moment, and without it the logits of a deep synthetic network come out so spread that the softmax saturates.
    /// </summary>
    public Value FullyConnected(Value x, string name, int outChannels, bool classifier = false)
    {
        int fanIn = x.Shape.C;
        Constant weights = classifier
            ? Uniform($"{name}/weights", ConstantRole.Weights, [outChannels, fanIn], -MathF.Sqrt(3f / fanIn), MathF.Sqrt(3f / fanIn))
            : HeUniform($"{name}/weights", [outChannels, fanIn], fanIn);
        Constant bias = Uniform($"{name}/bias", ConstantRole.Bias, [outChannels], -0.05f, 0.05f);
        return Builder.FullyConnected(x, outChannels, weights, bias, name);
    }

    /// <summary>The softmax "prob" head every zoo network ends with, and the finished graph.</summary>
    public NetworkGraph Finish(Value logits) => Builder.Build(Builder.Softmax(logits, "prob"));

    private Constant ConvWeights(string name, int inChannels, int outChannels, int kernel, int groups)
    {
        int groupInputs = inChannels / groups; // a bad split is reported by the builder's shape inference, naming the node
        int fanIn = kernel * kernel * Math.Max(groupInputs, 1);
        return HeUniform($"{name}/weights", [outChannels, kernel, kernel, groupInputs], fanIn);
    }

    private Constant HeUniform(string name, int[] dimensions, int fanIn)
    {
        float bound = MathF.Sqrt(6f / fanIn);
        return Uniform(name, ConstantRole.Weights, dimensions, -bound, bound);
    }

    private Constant Uniform(string name, ConstantRole role, int[] dimensions, float low, float high)
    {
        ulong stream = SyntheticWeights.StreamSeed(Seed, name);
        long count = dimensions.Aggregate(1L, (p, d) => p * d);
        return new Constant(name, role, dimensions, () => SyntheticWeights.Uniform(stream, count, low, high));
    }
}
