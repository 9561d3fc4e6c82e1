namespace Kernels.Graph.Zoo;

/// <summary>
/// MobileNet v2, width 1.0, 224×224 (Sandler et al. 2018): 17 inverted-residual blocks (1x1 expand + ReLU6, 3x3
/// depthwise + ReLU6, linear 1x1 projection; a residual add when the stride is 1 and the channels match), a 1x1 to
/// 1280 channels, global pooling and a 1000-way classifier; 3,504,872 learned parameters.
/// </summary>
internal static class MobileNetV2
{
    public static NetworkGraph Create(int seed, int batch)
    {
        var z = new ZooBuilder("mobilenetv2", seed, batch, inputSize: 224);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu6(z.ConvBn(x, "conv0", 32, kernel: 3, stride: 2, padding: 1), "conv0/relu6");

        // (expansion t, output channels c, repeats n, first stride s): Table 2 of the paper.
        (int T, int C, int N, int S)[] stages =
        [
            (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
        ];
        int block = 0;
        foreach (var (t, c, n, s) in stages)
        {
            for (int i = 0; i < n; i++)
            {
                x = InvertedResidual(z, x, $"block{block++}", t, c, i == 0 ? s : 1);
            }
        }

        x = b.Relu6(z.ConvBn(x, "conv_last", 1280, kernel: 1), "conv_last/relu6");
        x = b.GlobalAveragePool(x, "pool");
        x = b.Dropout(x, 0.2f, "dropout");
        return z.Finish(z.FullyConnected(x, "fc", 1000, classifier: true));
    }

    private static Value InvertedResidual(ZooBuilder z, Value x, string name, int expansion, int outChannels, int stride)
    {
        GraphBuilder b = z.Builder;
        int hidden = x.Shape.C * expansion;
        Value y = x;
        if (expansion != 1)
        {
            y = b.Relu6(z.ConvBn(y, $"{name}/expand", hidden, kernel: 1), $"{name}/expand/relu6");
        }

        y = b.Relu6(z.ConvBn(y, $"{name}/dw", hidden, kernel: 3, stride: stride, padding: 1, groups: hidden), $"{name}/dw/relu6");
        bool residual = stride == 1 && x.Shape.C == outChannels;

        // A smaller γ on a projection that feeds a shortcut keeps the sum's variance from growing block after block.
        y = z.ConvBn(y, $"{name}/project", outChannels, kernel: 1, gammaScale: residual ? 0.5f : 1f);
        return residual ? b.Add(x, y, $"{name}/add") : y;
    }
}
