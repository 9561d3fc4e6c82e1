namespace Kernels.Graph.Zoo;

/// <summary>
/// GoogLeNet / Inception v1 as in Caffe's bvlc_googlenet (Szegedy et al. 2015), 224×224, with its two LRN layers and
/// without the training-only auxiliary heads: 6,998,552 parameters. Caffe pools round up (ceil mode), which is what
/// takes 112 → 56 → 28 → 14 → 7.
/// </summary>
internal static class GoogLeNet
{
    public static NetworkGraph Create(int seed, int batch)
    {
        var z = new ZooBuilder("googlenet", seed, batch, inputSize: 224);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu(z.Conv(x, "conv1/7x7_s2", 64, kernel: 7, stride: 2, padding: 3), "conv1/relu_7x7");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool1/3x3_s2");
        x = b.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f, name: "pool1/norm1");
        x = b.Relu(z.Conv(x, "conv2/3x3_reduce", 64, kernel: 1), "conv2/relu_3x3_reduce");
        x = b.Relu(z.Conv(x, "conv2/3x3", 192, kernel: 3, padding: 1), "conv2/relu_3x3");
        x = b.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f, name: "conv2/norm2");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool2/3x3_s2");
        x = Inception(z, x, "inception_3a", 64, 96, 128, 16, 32, 32);
        x = Inception(z, x, "inception_3b", 128, 128, 192, 32, 96, 64);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool3/3x3_s2");
        x = Inception(z, x, "inception_4a", 192, 96, 208, 16, 48, 64);
        x = Inception(z, x, "inception_4b", 160, 112, 224, 24, 64, 64);
        x = Inception(z, x, "inception_4c", 128, 128, 256, 24, 64, 64);
        x = Inception(z, x, "inception_4d", 112, 144, 288, 32, 64, 64);
        x = Inception(z, x, "inception_4e", 256, 160, 320, 32, 128, 128);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool4/3x3_s2");
        x = Inception(z, x, "inception_5a", 256, 160, 320, 32, 128, 128);
        x = Inception(z, x, "inception_5b", 384, 192, 384, 48, 128, 128);
        x = b.GlobalAveragePool(x, "pool5/7x7_s1");
        x = b.Dropout(x, 0.4f, "pool5/drop_7x7_s1");
        return z.Finish(z.FullyConnected(x, "loss3/classifier", 1000, classifier: true));
    }

    /// <summary>One inception module: 1x1, 1x1→3x3, 1x1→5x5 and 3x3 max pool→1x1 branches, concatenated in that order.</summary>
    private static Value Inception(ZooBuilder z, Value x, string name, int c1, int r3, int c3, int r5, int c5, int pool)
    {
        GraphBuilder b = z.Builder;
        Value b1 = b.Relu(z.Conv(x, $"{name}/1x1", c1, kernel: 1), $"{name}/relu_1x1");
        Value b3 = b.Relu(z.Conv(x, $"{name}/3x3_reduce", r3, kernel: 1), $"{name}/relu_3x3_reduce");
        b3 = b.Relu(z.Conv(b3, $"{name}/3x3", c3, kernel: 3, padding: 1), $"{name}/relu_3x3");
        Value b5 = b.Relu(z.Conv(x, $"{name}/5x5_reduce", r5, kernel: 1), $"{name}/relu_5x5_reduce");
        b5 = b.Relu(z.Conv(b5, $"{name}/5x5", c5, kernel: 5, padding: 2), $"{name}/relu_5x5");
        Value bp = b.MaxPool(x, kernel: 3, stride: 1, padding: 1, name: $"{name}/pool");
        bp = b.Relu(z.Conv(bp, $"{name}/pool_proj", pool, kernel: 1), $"{name}/relu_pool_proj");
        return b.Concat([b1, b3, b5, bp], $"{name}/output");
    }
}
