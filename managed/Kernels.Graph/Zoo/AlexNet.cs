namespace Kernels.Graph.Zoo;

/// <summary>
/// AlexNet as in Caffe's bvlc_alexnet (Krizhevsky et al. 2012, the paper's Table I network): 227×227 input, LRN
/// after conv1 and conv2, conv2/4/5 split into two groups (the original two-GPU layout), 60,965,224 parameters.
/// </summary>
internal static class AlexNet
{
    public static NetworkGraph Create(int seed, int batch)
    {
        var z = new ZooBuilder("alexnet", seed, batch, inputSize: 227);
        GraphBuilder b = z.Builder;
        Value x = z.Input();
        x = b.Relu(z.Conv(x, "conv1", 96, kernel: 11, stride: 4), "relu1");
        x = b.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f, name: "norm1");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool1");
        x = b.Relu(z.Conv(x, "conv2", 256, kernel: 5, padding: 2, groups: 2), "relu2");
        x = b.Lrn(x, size: 5, alpha: 1e-4f, beta: 0.75f, name: "norm2");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool2");
        x = b.Relu(z.Conv(x, "conv3", 384, kernel: 3, padding: 1), "relu3");
        x = b.Relu(z.Conv(x, "conv4", 384, kernel: 3, padding: 1, groups: 2), "relu4");
        x = b.Relu(z.Conv(x, "conv5", 256, kernel: 3, padding: 1, groups: 2), "relu5");
        x = b.MaxPool(x, kernel: 3, stride: 2, ceilMode: true, name: "pool5");
        x = b.Flatten(x, "flatten");
        x = b.Dropout(b.Relu(z.FullyConnected(x, "fc6", 4096), "relu6"), 0.5f, "drop6");
        x = b.Dropout(b.Relu(z.FullyConnected(x, "fc7", 4096), "relu7"), 0.5f, "drop7");
        return z.Finish(z.FullyConnected(x, "fc8", 1000, classifier: true));
    }
}
