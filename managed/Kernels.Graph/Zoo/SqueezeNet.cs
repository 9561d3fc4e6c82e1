namespace Kernels.Graph.Zoo;

/// <summary>
/// SqueezeNet 1.0 and 1.1 (Iandola et al. 2016; DeepScale's Caffe models), 227×227: fire modules (1x1 squeeze, then
/// 1x1 and 3x3 expands concatenated), a 1x1 convolution to 1000 classes, ReLU and global pooling. 1.1 starts with a
/// 3x3/64 convolution instead of 7x7/96 and pools earlier, for 2.4x less computation at the same accuracy.
/// Caffe pools round up (ceil mode). 1,248,424 (1.0) and 1,235,496 (1.1) parameters.
/// </summary>
internal static class SqueezeNet
{
    public static NetworkGraph CreateV10(int seed, int batch)
    {
        var z = new ZooBuilder("squeezenet1.0", seed, batch, inputSize: 227);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu(z.Conv(x, "conv1", 96, kernel: 7, stride: 2), "relu_conv1");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool1");
        x = Fire(z, x, "fire2", 16, 64);
        x = Fire(z, x, "fire3", 16, 64);
        x = Fire(z, x, "fire4", 32, 128);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool4");
        x = Fire(z, x, "fire5", 32, 128);
        x = Fire(z, x, "fire6", 48, 192);
        x = Fire(z, x, "fire7", 48, 192);
        x = Fire(z, x, "fire8", 64, 256);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool8");
        x = Fire(z, x, "fire9", 64, 256);
        return Head(z, x);
    }

    public static NetworkGraph CreateV11(int seed, int batch)
    {
        var z = new ZooBuilder("squeezenet", seed, batch, inputSize: 227);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu(z.Conv(x, "conv1", 64, kernel: 3, stride: 2), "relu_conv1");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool1");
        x = Fire(z, x, "fire2", 16, 64);
        x = Fire(z, x, "fire3", 16, 64);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool3");
        x = Fire(z, x, "fire4", 32, 128);
        x = Fire(z, x, "fire5", 32, 128);
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool5");
        x = Fire(z, x, "fire6", 48, 192);
        x = Fire(z, x, "fire7", 48, 192);
        x = Fire(z, x, "fire8", 64, 256);
        x = Fire(z, x, "fire9", 64, 256);
        return Head(z, x);
    }

    private static NetworkGraph Head(ZooBuilder z, Value x)
    {
        GraphBuilder b = z.Builder;
        x = b.Dropout(x, 0.5f, "drop9");
        x = b.Relu(z.Conv(x, "conv10", 1000, kernel: 1), "relu_conv10");
        return z.Finish(b.GlobalAveragePool(x, "pool10"));
    }

    /// <summary>A fire module: 1x1 squeeze + ReLU, then 1x1 and 3x3 expands (each + ReLU), concatenated.</summary>
    private static Value Fire(ZooBuilder z, Value x, string name, int squeeze, int expand)
    {
        GraphBuilder b = z.Builder;
        Value s = b.Relu(z.Conv(x, $"{name}/squeeze1x1", squeeze, kernel: 1), $"{name}/relu_squeeze1x1");
        Value e1 = b.Relu(z.Conv(s, $"{name}/expand1x1", expand, kernel: 1), $"{name}/relu_expand1x1");
        Value e3 = b.Relu(z.Conv(s, $"{name}/expand3x3", expand, kernel: 3, padding: 1), $"{name}/relu_expand3x3");
        return b.Concat([e1, e3], $"{name}/concat");
    }
}
