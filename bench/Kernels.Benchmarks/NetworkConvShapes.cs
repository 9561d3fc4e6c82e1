using Kernels.Core;

namespace Kernels.Benchmarks;

/// <summary>One convolution layer of a network, at batch 1, as the descriptor every backend takes.</summary>
/// <param name="Network">alexnet, googlenet, mobilenet_v1, mobilenet_v2, resnet50, squeezenet1_0, squeezenet1_1.</param>
/// <param name="Layer">The layer's name in the original (Caffe) model where it has one, e.g. res2a_branch2b.</param>
public sealed record ConvLayer(string Network, string Layer, Conv2DDescriptor Descriptor)
{
    public string Key => $"{Network}.{Layer}";

    /// <summary>"3x3/2 56x56x64->64 g2" style: kernel, stride, input, output, groups (dw for depthwise).</summary>
    public string Description
    {
        get
        {
            var d = Descriptor;
            string stride = d.StrideHeight > 1 ? $"/{d.StrideHeight}" : string.Empty;
            string groups = d.IsDepthwise ? " dw" : d.Groups > 1 ? $" g{d.Groups}" : string.Empty;
            return $"{d.KernelHeight}x{d.KernelWidth}{stride} {d.InputHeight}x{d.InputWidth}x{d.InputChannels}->{d.OutputChannels}{groups}";
        }
    }

    public override string ToString() => $"{Key} {Description}";
}

/// <summary>
/// Every convolution layer of the five networks of Wang et al. (Table I: AlexNet, GoogLeNet, MobileNet v1,
/// ResNet50, SqueezeNet 1.1), plus SqueezeNet 1.0 and MobileNet v2, at batch 1 with the input sizes of
/// their Caffe models. Built from the architectures rather than typed in (as <see cref="NetworkGemmShapes"/>),
/// so output sizes cannot drift. <see cref="Distinct"/> keeps one entry per distinct descriptor, named after
/// the first layer (in the order above) that has it.
/// </summary>
public static class NetworkConvShapes
{
    public static IReadOnlyList<ConvLayer> AlexNet { get; } = BuildAlexNet();

    public static IReadOnlyList<ConvLayer> GoogLeNet { get; } = BuildGoogLeNet();

    public static IReadOnlyList<ConvLayer> MobileNetV1 { get; } = BuildMobileNetV1();

    public static IReadOnlyList<ConvLayer> ResNet50 { get; } = BuildResNet50();

    public static IReadOnlyList<ConvLayer> SqueezeNet10 { get; } = BuildSqueezeNet("squeezenet1_0");

    public static IReadOnlyList<ConvLayer> SqueezeNet11 { get; } = BuildSqueezeNet("squeezenet1_1");

    public static IReadOnlyList<ConvLayer> MobileNetV2 { get; } = BuildMobileNetV2();

    /// <summary>Every convolution layer of the seven networks, in network order.</summary>
    public static IReadOnlyList<ConvLayer> All { get; } =
        [.. AlexNet, .. GoogLeNet, .. MobileNetV1, .. ResNet50, .. SqueezeNet10, .. SqueezeNet11, .. MobileNetV2];

    /// <summary>One layer per distinct descriptor (records compare by value), the first that has it.</summary>
    public static IReadOnlyList<ConvLayer> Distinct { get; } = All.DistinctBy(static l => l.Descriptor).ToArray();

    private static IReadOnlyList<ConvLayer> BuildAlexNet()
    {
        // Caffe's bvlc_alexnet: 227x227 input, conv2/4/5 in two groups (the original two GPUs).
        var net = new Builder("alexnet");
        int h = net.Conv("conv1", 227, 3, 96, kernel: 11, stride: 4);
        h = Builder.Pool(h, 3, 2);
        h = net.Conv("conv2", h, 96, 256, kernel: 5, pad: 2, groups: 2);
        h = Builder.Pool(h, 3, 2);
        h = net.Conv("conv3", h, 256, 384, kernel: 3, pad: 1);
        h = net.Conv("conv4", h, 384, 384, kernel: 3, pad: 1, groups: 2);
        net.Conv("conv5", h, 384, 256, kernel: 3, pad: 1, groups: 2);
        return net.Layers;
    }

    private static IReadOnlyList<ConvLayer> BuildGoogLeNet()
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
        net.Inception("inception_5b", h, c, 384, 192, 384, 48, 128, 128);
        return net.Layers;
    }

    private static IReadOnlyList<ConvLayer> BuildMobileNetV1()
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

        return net.Layers;
    }

    private static IReadOnlyList<ConvLayer> BuildResNet50()
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

        return net.Layers;
    }

    private static IReadOnlyList<ConvLayer> BuildSqueezeNet(string network)
    {
        // DeepScale's Caffe models. v1.0: 227x227, conv1 7x7/2 96, pools after conv1, fire4 and fire8.
        // v1.1: 224x224, conv1 3x3/2 64 (no padding), pools after conv1, fire3 and fire5. Pooling rounds up.
        bool v10 = network == "squeezenet1_0";
        var net = new Builder(network);
        int h = v10 ? net.Conv("conv1", 227, 3, 96, kernel: 7, stride: 2) : net.Conv("conv1", 224, 3, 64, kernel: 3, stride: 2);
        int c = v10 ? 96 : 64;
        h = Builder.Pool(h, 3, 2);
        (string Name, int Squeeze, int Expand)[] fires =
        [
            ("fire2", 16, 64), ("fire3", 16, 64), ("fire4", 32, 128), ("fire5", 32, 128),
            ("fire6", 48, 192), ("fire7", 48, 192), ("fire8", 64, 256), ("fire9", 64, 256),
        ];
        string[] poolAfter = v10 ? ["fire4", "fire8"] : ["fire3", "fire5"];
        foreach ((string name, int squeeze, int expand) in fires)
        {
            c = net.Fire(name, h, c, squeeze, expand);
            if (poolAfter.Contains(name))
            {
                h = Builder.Pool(h, 3, 2);
            }
        }

        net.Conv("conv10", h, c, 1000, kernel: 1);
        return net.Layers;
    }

    private static IReadOnlyList<ConvLayer> BuildMobileNetV2()
    {
        // MobileNet v2 1.0-224 (Sandler et al., Table 2): inverted residual blocks (expansion t, output c,
        // repeats n, first stride s); a block with t = 1 has no expansion 1x1. Layers are named
        // block{stage}_{repeat}/expand|dw|project after the table's rows.
        var net = new Builder("mobilenet_v2");
        int h = net.Conv("conv1", 224, 3, 32, kernel: 3, stride: 2, pad: 1);
        int c = 32;
        (int T, int C, int N, int S)[] table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
        for (int stage = 0; stage < table.Length; stage++)
        {
            (int t, int output, int repeats, int stride) = table[stage];
            for (int r = 0; r < repeats; r++)
            {
                string name = $"block{stage + 1}_{r + 1}";
                int expanded = c * t;
                if (t != 1)
                {
                    net.Conv($"{name}/expand", h, c, expanded, kernel: 1);
                }

                h = net.Conv($"{name}/dw", h, expanded, expanded, kernel: 3, stride: r == 0 ? stride : 1, pad: 1, groups: expanded);
                net.Conv($"{name}/project", h, expanded, output, kernel: 1);
                c = output;
            }
        }

        net.Conv("conv_last", h, c, 1280, kernel: 1);
        return net.Layers;
    }

    /// <summary>Square inputs only: every network here has them.</summary>
    private sealed class Builder(string network)
    {
        public List<ConvLayer> Layers { get; } = [];

        /// <summary>Adds the layer and returns its output height.</summary>
        public int Conv(string name, int h, int inChannels, int outChannels, int kernel, int stride = 1, int pad = 0, int groups = 1)
        {
            var d = Conv2DDescriptor.Create(h, h, inChannels, outChannels, kernel, stride, pad, groups);
            d.Validate();
            Layers.Add(new ConvLayer(network, name, d));
            return d.OutputHeight;
        }

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
