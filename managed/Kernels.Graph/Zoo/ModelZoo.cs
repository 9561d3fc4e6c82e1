namespace Kernels.Graph.Zoo;

/// <summary>
/// The networks of the paper's Table I (and SqueezeNet 1.0 beside 1.1), built in code with deterministic synthetic
/// weights, so every run, test and benchmark is reproducible without a model file. Inputs are N×H×W×3 NHWC values
/// named "data"; the output is the N×1×1×1000 softmax "prob".
/// </summary>
public static class ModelZoo
{
    /// <summary>The seed <see cref="Create"/> uses unless told otherwise.</summary>
    public const int DefaultSeed = 20170616;

    private static readonly (string Name, Func<int, int, NetworkGraph> Create)[] Networks =
    [
        ("alexnet", AlexNet.Create),
        ("googlenet", GoogLeNet.Create),
        ("mobilenet", MobileNetV1.Create),
        ("mobilenetv2", MobileNetV2.Create),
        ("resnet50", ResNet50.Create),
        ("squeezenet", SqueezeNet.CreateV11),
        ("squeezenet1.0", SqueezeNet.CreateV10),
    ];

    /// <summary>
    /// The zoo names: alexnet (227, LRN), googlenet (Inception v1, 224, LRN), mobilenet (v1 1.0 224), mobilenetv2
    /// (1.0 224), resnet50 (v1 224, batch norm), squeezenet (1.1, 227) and squeezenet1.0 (227).
    /// </summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly(Networks.Select(n => n.Name).ToArray());

    /// <summary>
    /// Builds a zoo network. Weights are generated lazily on first read of each constant, from the seed and the
    /// constant's name, so building is fast and the same seed always gives the same values.
    /// </summary>
    /// <param name="name">A name from <see cref="Names"/> (case-insensitive).</param>
    /// <param name="seed">Seed of the synthetic weights.</param>
    /// <param name="batch">Images per inference (the input's N).</param>
    /// <exception cref="ArgumentException">The name is not a zoo name (the message lists them), or the batch is not positive.</exception>
    public static NetworkGraph Create(string name, int seed = DefaultSeed, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        foreach (var network in Networks)
        {
            if (string.Equals(network.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return network.Create(seed, batch);
            }
        }

        throw new ArgumentException($"'{name}' is not a zoo network; the zoo has: {string.Join(", ", Names)}.", nameof(name));
    }
}
