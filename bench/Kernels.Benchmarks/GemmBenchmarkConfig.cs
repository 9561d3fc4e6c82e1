using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;

namespace Kernels.Benchmarks;

/// <summary>
/// Adds <see cref="GflopsColumn"/>, and widens the parameter column so that layer names such as
/// "resnet50.res2a_branch2b 3x3 56x56x64->64 (M=3136 N=64 K=576)" are not cut to 20 characters.
/// Note BenchmarkDotNet's Ratio is time / baseline time (below 1 is faster than OpenBLAS), the inverse
/// of <c>kernels bench gemm</c>'s ratio.
/// </summary>
public sealed class GemmBenchmarkConfig : ManualConfig
{
    public GemmBenchmarkConfig()
    {
        AddColumn(new GflopsColumn());
        SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(80);
    }
}
