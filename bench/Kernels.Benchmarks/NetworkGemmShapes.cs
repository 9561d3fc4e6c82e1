namespace Kernels.Benchmarks;

/// <summary>
/// The GEMMs of the five networks of Wang et al. (Table I): AlexNet, GoogLeNet, MobileNet v1, ResNet50,
/// SqueezeNet 1.1, at batch 1 with the input sizes and layer names of their Caffe models. Built from
/// the architectures rather than typed in, so the arithmetic of output sizes cannot drift.
/// Depthwise convolutions are not GEMMs and are left out; grouped ones contribute one group's GEMM.
/// </summary>
public static class NetworkGemmShapes
{
    public static IReadOnlyList<GemmShape> AlexNet { get; } = BuildAlexNet();

    public static IReadOnlyList<GemmShape> GoogLeNet { get; } = BuildGoogLeNet();

    public static IReadOnlyList<GemmShape> MobileNetV1 { get; } = BuildMobileNetV1();

    public static IReadOnlyList<GemmShape> ResNet50 { get; } = BuildResNet50();

    public static IReadOnlyList<GemmShape> SqueezeNet11 { get; } = BuildSqueezeNet11();

    /// <summary>Every layer's GEMM of the five networks, in network order.</summary>
    public static IReadOnlyList<GemmShape> All { get; } = [.. AlexNet, .. GoogLeNet, .. MobileNetV1, .. ResNet50, .. SqueezeNet11];

    /// <summary>
    /// Distinct shapes that span the space the GEMM must handle: huge M with tiny K (first layers),
    /// square-ish middle layers, small M with large N·K (late layers), and M = 1 (fully connected).
    /// </summary>
    public static IReadOnlyList<GemmShape> Representative { get; } = Pick(
        "alexnet.conv1",               // 3025x96x363: strided 11x11, odd K
        "alexnet.fc6",                 // 1x4096x9216: GEMV, memory-bound
        "googlenet.conv2/3x3",         // 3136x192x576
        "googlenet.inception_3a/1x1",  // 784x64x192
        "googlenet.inception_4a/3x3",  // 196x208x864: N not a multiple of 16 or 32
        "googlenet.inception_5b/1x1",  // 49x384x832
        "mobilenet_v1.conv1",          // 12544x32x27: tiny K
        "mobilenet_v1.conv3_1/sep",    // 3136x128x128
        "mobilenet_v1.conv5_1/sep",    // 196x512x512
        "mobilenet_v1.conv6/sep",      // 49x1024x1024
        "resnet50.res2a_branch2b",     // 3136x64x576: the layer oneDNN is compared on (PLATFORM.md)
        "resnet50.res4a_branch2b",     // 196x256x2304
        "resnet50.res5a_branch2c",     // 49x2048x512
        "resnet50.fc1000",             // 1x1000x2048
        "squeezenet1_1.fire2/expand3x3", // 3025x64x144
        "squeezenet1_1.conv10");       // 169x1000x512

    private static IReadOnlyList<GemmShape> Pick(params string[] keys)
    {
        var picked = keys.Select(key => All.FirstOrDefault(s => s.Key == key)
            ?? throw new InvalidOperationException($"No layer '{key}' in the network table.")).ToArray();
        if (picked.DistinctBy(s => (s.M, s.N, s.K)).Count() != picked.Length)
        {
            throw new InvalidOperationException("The representative shapes must be distinct.");
        }

        return picked;
    }

    private static IReadOnlyList<GemmShape> BuildAlexNet()
    {
        // Caffe's bvlc_alexnet: 227x227 input, conv2/4/5 in two groups (the original two GPUs).
        var net = new Builder("alexnet");
        int h = net.Conv("conv1", 227, 3, 96, kernel: 11, stride: 4);
        h = Builder.Pool(h, 3, 2);
        h = net.Conv("conv2", h, 96, 256, kernel: 5, pad: 2, groups: 2);
        h = Builder.Pool(h, 3, 2);
        h = net.Conv("conv3", h, 256, 384, kernel: 3, pad: 1);
        h = net.Conv("conv4", h, 384, 384, kernel: 3, pad: 1, groups: 2);
        h = net.Conv("conv5", h, 384, 256, kernel: 3, pad: 1, groups: 2);
        h = Builder.Pool(h, 3, 2);
        net.FullyConnected("fc6", h * h * 256, 4096);
        net.FullyConnected("fc7", 4096, 4096);
        net.FullyConnected("fc8", 4096, 1000);
        return net.Shapes;
    }

    private static IReadOnlyList<GemmShape> BuildGoogLeNet()
    {
        // Caffe's bvlc_googlenet (Inception v1), 224x224.
        var net = new Builder("googlenet");
        int h = net.Conv("conv1/7x7_s2", 224, 3, 64, kernel: 7, stride: 2, pad: 3);
        h = Builder.Pool(h, 3, 2);
        h = net.Conv("conv2/3x3_reduce", h, 64, 64, kernel: 1);
        h = net.Conv("conv2/3x3", h, 64, 192, kernel: 3, pad: 1);
        h = Builder.Pool(h, 3, 2);
        int c = net.Inception("inception_3a", h, 192, 64, 96, 128, 16, 32, 32);
        c = net.Inception("inception_3b", h, c, 128, 128, 192, 32, 96, 64);
        h = Builder.Pool(h, 3, 2);
        c = net.Inception("inception_4a", h, c, 192, 96, 208, 16, 48, 64);
        c = net.Inception("inception_4b", h, c, 160, 112, 224, 24, 64, 64);
        c = net.Inception("inception_4c", h, c, 128, 128, 256, 24, 64, 64);
        c = net.Inception("inception_4d", h, c, 112, 144, 288, 32, 64, 64);
        c = net.Inception("inception_4e", h, c, 256, 160, 320, 32, 128, 128);
        h = Builder.Pool(h, 3, 2);
        c = net.Inception("inception_5a", h, c, 256, 160, 320, 32, 128, 128);
        c = net.Inception("inception_5b", h, c, 384, 192, 384, 48, 128, 128);
        net.FullyConnected("loss3/classifier", c, 1000);
        return net.Shapes;
    }

    private static IReadOnlyList<GemmShape> BuildMobileNetV1()
    {
        // MobileNet v1 1.0-224 with the layer names of the Caffe port (shicai/MobileNet-Caffe).
        var net = new Builder("mobilenet_v1");
        int h = net.Conv("conv1", 224, 3, 32, kernel: 3, stride: 2, pad: 1);
        int c = 32;
        (string Name, int Stride, int Out)[] blocks =
        [
            ("conv2_1", 1, 64), ("conv2_2", 2, 128), ("conv3_1", 1, 128), ("conv3_2", 2, 256),
            ("conv4_1", 1, 256), ("conv4_2", 2, 512), ("conv5_1", 1, 512), ("conv5_2", 1, 512),
            ("conv5_3", 1, 512), ("conv5_4", 1, 512), ("conv5_5", 1, 512), ("conv5_6", 2, 1024),
            ("conv6", 1, 1024),
        ];
        foreach ((string name, int stride, int output) in blocks)
        {
            h = net.Conv($"{name}/dw", h, c, c, kernel: 3, stride: stride, pad: 1, groups: c);
            h = net.Conv($"{name}/sep", h, c, output, kernel: 1);
            c = output;
        }

        net.FullyConnected("fc7", c, 1000);
        return net.Shapes;
    }

    private static IReadOnlyList<GemmShape> BuildResNet50()
    {
        // Caffe's ResNet-50 (He et al.): the stride-2 of stages 3-5 sits in the first 1x1 (branch2a).
        var net = new Builder("resnet50");
        int h = net.Conv("conv1", 224, 3, 64, kernel: 7, stride: 2, pad: 3);
        h = Builder.Pool(h, 3, 2);
        int c = 64;
        (string Name, int Blocks, int Mid, int Out, int Stride)[] stages =
        [
            ("res2", 3, 64, 256, 1), ("res3", 4, 128, 512, 2), ("res4", 6, 256, 1024, 2), ("res5", 3, 512, 2048, 2),
        ];
        foreach ((string stage, int blocks, int mid, int output, int stride) in stages)
        {
            for (int block = 0; block < blocks; block++)
            {
                string name = $"{stage}{(char)('a' + block)}";
                int s = block == 0 ? stride : 1;
                if (block == 0)
                {
                    net.Conv($"{name}_branch1", h, c, output, kernel: 1, stride: s);
                }

                int hOut = net.Conv($"{name}_branch2a", h, c, mid, kernel: 1, stride: s);
                net.Conv($"{name}_branch2b", hOut, mid, mid, kernel: 3, pad: 1);
                net.Conv($"{name}_branch2c", hOut, mid, output, kernel: 1);
                (h, c) = (hOut, output);
            }
        }

        net.FullyConnected("fc1000", c, 1000);
        return net.Shapes;
    }

    private static IReadOnlyList<GemmShape> BuildSqueezeNet11()
    {
        // SqueezeNet v1.1 (DeepScale's Caffe model), 224x224: no padding in conv1, pooling rounds up.
        var net = new Builder("squeezenet1_1");
        int h = net.Conv("conv1", 224, 3, 64, kernel: 3, stride: 2);
        h = Builder.Pool(h, 3, 2);
        int c = net.Fire("fire2", h, 64, 16, 64);
        c = net.Fire("fire3", h, c, 16, 64);
        h = Builder.Pool(h, 3, 2);
        c = net.Fire("fire4", h, c, 32, 128);
        c = net.Fire("fire5", h, c, 32, 128);
        h = Builder.Pool(h, 3, 2);
        c = net.Fire("fire6", h, c, 48, 192);
        c = net.Fire("fire7", h, c, 48, 192);
        c = net.Fire("fire8", h, c, 64, 256);
        c = net.Fire("fire9", h, c, 64, 256);
        net.Conv("conv10", h, c, 1000, kernel: 1);
        return net.Shapes;
    }

    /// <summary>Square inputs only: every network here has them.</summary>
    private sealed class Builder(string network)
    {
        public List<GemmShape> Shapes { get; } = [];

        /// <summary>Adds the convolution's GEMM (unless depthwise) and returns the output height.</summary>
        public int Conv(string name, int h, int inChannels, int outChannels, int kernel, int stride = 1, int pad = 0, int groups = 1)
        {
            int output = ((h + (2 * pad) - kernel) / stride) + 1;
            bool depthwise = groups > 1 && groups == inChannels && groups == outChannels;
            if (!depthwise)
            {
                string description = $"{kernel}x{kernel}{(stride > 1 ? $"/{stride}" : string.Empty)} {h}x{h}x{inChannels}->{outChannels}"
                    + (groups > 1 ? $" g{groups}" : string.Empty);
                Shapes.Add(new GemmShape(network, name, description, output * output, outChannels / groups, kernel * kernel * inChannels / groups));
            }

            return output;
        }

        public void FullyConnected(string name, int inFeatures, int outFeatures)
            => Shapes.Add(new GemmShape(network, name, $"fc {inFeatures}->{outFeatures}", 1, outFeatures, inFeatures));

        /// <summary>GoogLeNet's module; returns its output channels.</summary>
        public int Inception(string name, int h, int input, int c1, int c3Reduce, int c3, int c5Reduce, int c5, int poolProjection)
        {
            Conv($"{name}/1x1", h, input, c1, kernel: 1);
            Conv($"{name}/3x3_reduce", h, input, c3Reduce, kernel: 1);
            Conv($"{name}/3x3", h, c3Reduce, c3, kernel: 3, pad: 1);
            Conv($"{name}/5x5_reduce", h, input, c5Reduce, kernel: 1);
            Conv($"{name}/5x5", h, c5Reduce, c5, kernel: 5, pad: 2);
            Conv($"{name}/pool_proj", h, input, poolProjection, kernel: 1);
            return c1 + c3 + c5 + poolProjection;
        }

        /// <summary>SqueezeNet's module; returns its output channels.</summary>
        public int Fire(string name, int h, int input, int squeeze, int expand)
        {
            Conv($"{name}/squeeze1x1", h, input, squeeze, kernel: 1);
            Conv($"{name}/expand1x1", h, squeeze, expand, kernel: 1);
            Conv($"{name}/expand3x3", h, squeeze, expand, kernel: 3, pad: 1);
            return 2 * expand;
        }

        /// <summary>Caffe pooling rounds the output size up.</summary>
        public static int Pool(int h, int kernel, int stride) => (int)Math.Ceiling((h - kernel) / (double)stride) + 1;
    }
}
