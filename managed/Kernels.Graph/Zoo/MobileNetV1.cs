namespace Kernels.Graph.Zoo;

/// <summary>
/// MobileNet v1, width 1.0, 224×224 (Howard et al. 2017): a 3x3 stride-2 convolution, 13 depthwise-separable blocks,
/// global pooling and a 1000-way classifier; every convolution followed by batch norm and ReLU6 (the TensorFlow
/// model), 4,231,976 learned parameters.
/// </summary>
internal static class MobileNetV1
{
    public static NetworkGraph Create(int seed, int batch)
    {
        var z = new ZooBuilder("mobilenet", seed, batch, inputSize: 224);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu6(z.ConvBn(x, "conv0", 32, kernel: 3, stride: 2, padding: 1), "conv0/relu6");
        (int Channels, int Stride)[] blocks =
        [
            (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
        ];
        for (int i = 0; i < blocks.Length; i++)
        {
            string dw = $"conv{i + 1}/dw";
            string pw = $"conv{i + 1}/pw";
            int channels = x.Shape.C;
            x = b.Relu6(z.ConvBn(x, dw, channels, kernel: 3, stride: blocks[i].Stride, padding: 1, groups: channels), $"{dw}/relu6");
            x = b.Relu6(z.ConvBn(x, pw, blocks[i].Channels, kernel: 1), $"{pw}/relu6");
        }

        x = b.GlobalAveragePool(x, "pool");
        x = b.Dropout(x, 0.001f, "dropout");
        return z.Finish(z.FullyConnected(x, "fc", 1000, classifier: true));
    }
}
