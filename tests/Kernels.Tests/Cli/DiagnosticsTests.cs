using Kernels.Core.Topology;
using Kernels.Cpu.Diagnostics;
using Xunit;

namespace Kernels.Tests.Cli;

public sealed class DiagnosticsTests
{
    [Fact]
    public void FmaPeak_MeasuresAPositiveRate()
    {
        FmaPeakResult result = FmaPeak.Measure(1, TimeSpan.FromMilliseconds(50));

        Assert.True(result.Gflops > 0);
        Assert.Equal(1, result.Threads);
        Assert.Equal(FmaPeak.Isa, result.Isa);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(int.MaxValue)]
    public void FmaPeak_RejectsThreadsOutsideTheMachine(int threads)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.Measure(threads, TimeSpan.FromMilliseconds(10)));
        Assert.Equal("threads", exception.ParamName);
    }

    [Fact]
    public void BenchmarkCores_TakesDistinctCoresOfTheMachine()
    {
        CpuTopology topology = CpuTopology.Detect();
        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, topology.CoreCount);

        Assert.Equal(topology.CoreCount, cores.Distinct().Count());
        Assert.Equal(topology.Clusters.SelectMany(c => c.Cores).Order(), cores.Order());
    }

    [Fact]
    public void GemmTimer_TimesEveryCallAtLeastFiveTimes()
    {
        int first = 0, second = 0;
        TimingResult[] results = GemmTimer.MeasureInterleaved([() => first++, () => second++], TimeSpan.Zero);

        Assert.Equal(2, results.Length);
        Assert.All(results, r => Assert.True(r.Repetitions >= 5 && r.BestMs <= r.MedianMs));
        Assert.Equal(first, second);
    }
}
