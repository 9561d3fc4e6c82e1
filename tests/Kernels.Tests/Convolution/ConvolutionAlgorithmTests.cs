using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Xunit;

namespace Kernels.Tests.Convolution;

/// <summary>Every registered algorithm, every executable ISA variant, over the awkward-shape table.</summary>
public sealed class ConvolutionAlgorithmTests
{
    public static TheoryData<ConvolutionAlgorithm, KernelIsa> AlgorithmsAndIsas() => ConvolutionTester.AlgorithmsAndIsas();

    [Theory]
    [MemberData(nameof(AlgorithmsAndIsas))]
    public void MatchesDirectReferenceOnShapeTable(ConvolutionAlgorithm algorithm, KernelIsa isa)
    {
        int ran = ConvolutionTester.CheckTable(algorithm, isa, ConvShapes.All());
        Assert.True(ran > 0, $"{algorithm.ToName()} applies to none of the table's shapes.");
    }

    [Theory]
    [MemberData(nameof(AlgorithmsAndIsas))]
    public void MultithreadedMatchesReference(ConvolutionAlgorithm algorithm, KernelIsa isa)
    {
        foreach (int threads in new[] { 2, 3 })
        {
            using var workers = new WorkerGroup(threads);
            int ran = ConvolutionTester.CheckTable(algorithm, isa, ConvShapes.All().Where(static (_, i) => i % 9 == 0), workers);
            Assert.True(ran > 0, $"{algorithm.ToName()} applies to none of the sampled shapes.");
        }
    }
}
