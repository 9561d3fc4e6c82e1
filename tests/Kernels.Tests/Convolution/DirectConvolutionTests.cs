using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Convolution.Direct;
using Xunit;

namespace Kernels.Tests.Convolution;

/// <summary>
/// The direct first-layer convolution beyond the shared table: the first layers of MobileNet, ResNet and AlexNet
/// (spatially reduced where the float64 reference would be slow), output channels that end mid-block, thread
/// splits, no allocation, and the reason it gives for layers with many input channels.
/// </summary>
public sealed class DirectConvolutionTests
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

    [Theory]
    [MemberData(nameof(Isas))]
    public void FirstLayersMatchReference(KernelIsa isa)
    {
        // MobileNet conv1 at full size; ResNet-50 (7x7 s2 p3) and AlexNet (11x11 s4) conv1 on smaller images.
        ConvolutionTester.Check(ConvolutionAlgorithm.Direct, isa, Conv2DDescriptor.Create(224, 224, 3, 32, 3, 2, 1, activation: Activation.Relu6), seed: 1);
        ConvolutionTester.Check(ConvolutionAlgorithm.Direct, isa, Conv2DDescriptor.Create(61, 59, 3, 64, 7, 2, 3, activation: Activation.Relu), seed: 2);
        ConvolutionTester.Check(ConvolutionAlgorithm.Direct, isa, Conv2DDescriptor.Create(67, 67, 3, 96, 11, 4, 0, activation: Activation.Relu), seed: 3);
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void OutputChannelTailsAndInputChannelCountsMatchReference(KernelIsa isa)
    {
        int seed = 10;
        foreach (int ic in new[] { 1, 2, 3, 4 })
        {
            foreach (int oc in new[] { 1, 5, 8, 20, 33, 40 })
            {
                var d = new Conv2DDescriptor
                {
                    InputHeight = 13,
                    InputWidth = 15 + (seed % 4),
                    InputChannels = ic,
                    OutputChannels = oc,
                    KernelHeight = 3 + (seed % 3),
                    KernelWidth = 3,
                    StrideHeight = 1 + (seed % 2),
                    StrideWidth = 1 + (seed % 3 % 2),
                    DilationWidth = seed % 5 == 0 ? 2 : 1,
                    PadTop = seed % 3,
                    PadLeft = 1,
                    PadBottom = 2,
                    PadRight = seed % 2,
                    Activation = seed % 4 == 0 ? new FusedActivation(Activation.LeakyRelu, 0.1f) : Activation.Relu6,
                    OutputPixelStride = seed % 3 == 0 ? oc + 7 : 0,
                    Batch = seed % 7 == 0 ? 2 : 1,
                };
                ConvolutionTester.Check(ConvolutionAlgorithm.Direct, isa, d, seed++);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void MultithreadedSplitsMatchReference(KernelIsa isa)
    {
        var d = Conv2DDescriptor.Create(45, 38, 3, 40, 3, 2, 1, activation: Activation.Relu6) with { Batch = 2, OutputPixelStride = 48 };
        foreach (int threads in new[] { 2, 3, 4 })
        {
            using var workers = new WorkerGroup(threads);
            ConvolutionTester.Check(ConvolutionAlgorithm.Direct, isa, d, seed: threads, workers);
        }
    }

    [Fact]
    public void NamesTheKernelAndExplainsWhenItDoesNotApply()
    {
        var d = Conv2DDescriptor.Create(9, 9, 3, 8, 3, 1, 1);
        Assert.Null(Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Direct, d));
        string? why = Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Direct, d with { InputChannels = 16 });
        Assert.Contains("16 input channels", why, StringComparison.Ordinal);
        Assert.Contains("at most 4", why, StringComparison.Ordinal);
        Assert.Contains("groups", Convolutions.WhyNotApplicable(ConvolutionAlgorithm.Direct, d with { InputChannels = 4, OutputChannels = 8, Groups = 2 }), StringComparison.Ordinal);
        var error = Assert.Throws<ArgumentException>(() => Convolutions.Create(d with { InputChannels = 16 }, new float[8 * 9 * 16], default, ConvolutionAlgorithm.Direct));
        Assert.Contains("input channels", error.Message, StringComparison.Ordinal);

        foreach (var isa in KernelIsas.Executable)
        {
            using var kernel = Convolutions.Create(d, new float[d.WeightsLength], default, ConvolutionAlgorithm.Direct, isa);
            Assert.IsType<DirectConvolutionKernel>(kernel);
            Assert.StartsWith("f32-conv-direct-6x", kernel.Name, StringComparison.Ordinal);
            Assert.EndsWith(isa.ToName(), kernel.Name, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SteadyStateCallsAllocateNothing()
    {
        var d = Conv2DDescriptor.Create(30, 30, 3, 40, 3, 2, 1, activation: Activation.Relu);
        var rng = new Random(3);
        var input = TestData.RandomFloats(rng, (int)d.InputLength);
        var weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
        var output = new float[d.OutputLength];
        using var workers = new WorkerGroup(2);
        foreach (var isa in KernelIsas.Executable)
        {
            using var kernel = Convolutions.Create(d, weights, default, ConvolutionAlgorithm.Direct, isa);
            SteadyState.AssertAllocatesNothing(
                () =>
                {
                    kernel.Run(input, output);
                    kernel.Run(input, output, workers);
                },
                kernel.Name);
        }
    }
}
