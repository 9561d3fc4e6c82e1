namespace Kernels.Graph.Zoo;

/// <summary>
/// ResNet-50 v1 (He et al. 2015, the original Caffe model): 7x7 stride-2 convolution and max pool, 3-4-6-3 bottleneck
/// blocks (1x1, 3x3, 1x1 ×4) with the stride on the first 1x1 as in v1, projection shortcuts where the shape changes,
/// global pooling and a 1000-way classifier. Every convolution is followed by a BatchNormalization node (folding is a
/// later pass); 25,557,032 learned parameters.
/// </summary>
internal static class ResNet50
{
    public static NetworkGraph Create(int seed, int batch)
    {
        var z = new ZooBuilder("resnet50", seed, batch, inputSize: 224);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu(z.ConvBn(x, "conv1", 64, kernel: 7, stride: 2, padding: 3), "conv1/relu");
        x = b.MaxPool(x, kernel: 3, stride: 2, padding: 1, name: "pool1");
        (int Width, int Blocks, int Stride)[] stages = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)];
        for (int s = 0; s < stages.Length; s++)
        {
            for (int i = 0; i < stages[s].Blocks; i++)
            {
                x = Bottleneck(z, x, $"res{s + 2}{(char)('a' + i)}", stages[s].Width, i == 0 ? stages[s].Stride : 1);
            }
        }

        x = b.GlobalAveragePool(x, "pool5");
        return z.Finish(z.FullyConnected(x, "fc1000", 1000, classifier: true));
    }

    private static Value Bottleneck(ZooBuilder z, Value x, string name, int width, int stride)
    {
        GraphBuilder b = z.Builder;
        int outChannels = width * 4;
        Value shortcut = stride != 1 || x.Shape.C != outChannels
            ? z.ConvBn(x, $"{name}/branch1", outChannels, kernel: 1, stride: stride, gammaScale: 0.7f)
            : x;
        Value y = b.Relu(z.ConvBn(x, $"{name}/branch2a", width, kernel: 1, stride: stride), $"{name}/branch2a/relu");
        y = b.Relu(z.ConvBn(y, $"{name}/branch2b", width, kernel: 3, padding: 1), $"{name}/branch2b/relu");

        // A smaller γ on the branch's last batch norm keeps 16 shortcut sums from growing the variance 17-fold, and
        // 0.7 ≈ 1/√2 on the projection undoes He's factor 2, meant for a zero-mean input, on the post-ReLU stream.
        y = z.ConvBn(y, $"{name}/branch2c", outChannels, kernel: 1, gammaScale: 0.3f);
        return b.Relu(b.Add(shortcut, y, name), $"{name}/relu");
    }
}
