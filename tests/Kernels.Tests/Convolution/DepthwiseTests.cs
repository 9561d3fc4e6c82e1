using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Convolution.Depthwise;
using Xunit;

namespace Kernels.Tests.Convolution;

/// <summary>
/// The depthwise algorithm beyond the shared shape table: the hand-written 3x3 kernels are the ones that run
/// on MobileNet layers, full-size layers, channel tails past a vector, thread splits and no allocation.
/// </summary>
public sealed class DepthwiseTests
{
    public static TheoryData<KernelIsa> Isas()
    {
        var data = new TheoryData<KernelIsa>();
        foreach (var isa in KernelIsas.Executable)
        {
            data.Add(isa);
        }

        return data;
    }

    private static Conv2DDescriptor Layer(int size, int channels, int kernel, int stride, int pad, FusedActivation activation = default)
        => Conv2DDescriptor.Create(size, size, channels, channels, kernel, stride, pad, groups: channels, activation: activation);

    [Theory]
    [MemberData(nameof(Isas))]
    public void MobileNetLayersRunTheHandWritten3x3Kernels(KernelIsa isa)
    {
        Assert.Equal(DepthwiseVariant.Conv3x3Stride1, VariantOf(Layer(112, 32, 3, 1, 1), isa, out string s1));
        Assert.Equal($"f32-dwconv-3x3s1-{isa.ToName()}", s1);
        Assert.Equal(DepthwiseVariant.Conv3x3Stride2, VariantOf(Layer(112, 64, 3, 2, 1), isa, out string s2));
        Assert.Equal($"f32-dwconv-3x3s2-{isa.ToName()}", s2);
        Assert.Equal(DepthwiseVariant.Conv3x3Stride1, VariantOf(Layer(7, 1024, 3, 1, 1), isa, out _));

        // TensorFlow "same" padding of a stride-2 layer is asymmetric (0 before, 1 after); still the 3x3 kernel.
        var same = Layer(112, 64, 3, 2, 0) with { PadBottom = 1, PadRight = 1 };
        Assert.Equal(DepthwiseVariant.Conv3x3Stride2, VariantOf(same, isa, out _));

        Assert.Equal(DepthwiseVariant.General, VariantOf(Layer(28, 32, 5, 1, 2), isa, out string general));
        Assert.Equal($"f32-dwconv-general-{isa.ToName()}", general);
        Assert.Equal(DepthwiseVariant.General, VariantOf(Layer(28, 32, 3, 1, 2) with { DilationHeight = 2, DilationWidth = 2 }, isa, out _));
        Assert.Equal(DepthwiseVariant.Scalar, VariantOf(Layer(28, 3, 3, 1, 1), isa, out _));
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void FullSizeMobileNetLayersMatchReference(KernelIsa isa)
    {
        ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(112, 32, 3, 1, 1, Activation.Relu6), seed: 1);
        ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(112, 32, 3, 2, 1), seed: 2);
        ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(112, 64, 3, 2, 0) with { PadBottom = 1, PadRight = 1 }, seed: 4);
        ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(14, 512, 3, 1, 1, new FusedActivation(Activation.LeakyRelu, 0.2f)), seed: 5);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void ChannelTailsAndNarrowMapsMatchReference(KernelIsa isa)
    {
        // 17, 20, 37 and 50 channels end mid-vector on every ISA (the overlapping last block); widths 1–6
        // leave no interior, only interior, or fewer than one four-pixel step.
        int seed = 10;
        foreach (int channels in new[] { 17, 20, 37, 50 })
        {
            foreach (int width in new[] { 1, 2, 3, 5, 6, 9, 13 })
            {
                foreach (int stride in new[] { 1, 2 })
                {
                    var d = new Conv2DDescriptor
                    {
                        InputHeight = 5,
                        InputWidth = width,
                        InputChannels = channels,
                        OutputChannels = channels,
                        Groups = channels,
                        KernelHeight = 3,
                        KernelWidth = 3,
                        StrideHeight = stride,
                        StrideWidth = stride,
                        PadTop = 1,
                        PadLeft = width < 3 ? 1 : seed % 2,
                        PadBottom = 1,
                        PadRight = 1,
                        Activation = seed % 3 == 0 ? Activation.Relu : Activation.None,
                        OutputPixelStride = seed % 4 == 0 ? channels + 3 : 0,
                    };
                    ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, d, seed++);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void MultithreadedSplitsMatchReference(KernelIsa isa)
    {
        var strided = Layer(57, 40, 3, 2, 1, Activation.Relu6) with { Batch = 2, OutputPixelStride = 64 };
        foreach (int threads in new[] { 2, 3, 4 })
        {
            using var workers = new WorkerGroup(threads);
            ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(56, 32, 3, 1, 1), seed: threads, workers);
            ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, strided, seed: threads + 10, workers);
            ConvolutionTester.Check(ConvolutionAlgorithm.Depthwise, isa, Layer(3, 24, 5, 1, 2), seed: threads + 20, workers);
        }
    }

    [Fact]
    public void AppliesOnlyToMultiplierOne()
    {
        Assert.Null(Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Depthwise, Layer(9, 8, 3, 1, 1)));
        var multiplier2 = Conv2DDescriptor.Create(9, 9, 8, 16, 3, 1, 1, groups: 8);
        Assert.Contains("multiplier", Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Depthwise, multiplier2), StringComparison.Ordinal);
        Assert.NotNull(Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Depthwise, Conv2DDescriptor.Create(9, 9, 8, 8, 3, 1, 1)));
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var d = Layer(28, 37, 3, 1, 1, Activation.Relu6);
        var rng = new Random(3);
        var input = TestData.RandomFloats(rng, (int)d.InputLength);
        var weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        var output = new float[d.OutputLength];
        using var workers = new WorkerGroup(2);
        foreach (var isa in KernelIsas.Executable)
        {
            using var kernel = Convolutions.Create(d, weights, default, ConvolutionAlgorithm.Depthwise, isa);
            SteadyState.AssertAllocatesNothing(
                () =>
                {
                    kernel.Run(input, output);
                    kernel.Run(input, output, workers);
                },
                kernel.Name);
        }
    }

    private static DepthwiseVariant VariantOf(Conv2DDescriptor d, KernelIsa isa, out string name)
    {
        var weights = new float[d.WeightsLength];
        using var kernel = Assert.IsType<DepthwiseConvolutionKernel>(Convolutions.Create(d, weights, default, ConvolutionAlgorithm.Depthwise, isa));
        name = kernel.Name;
        return kernel.Variant;
    }
}
