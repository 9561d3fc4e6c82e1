using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Kernels.Benchmarks;

/// <summary>
/// GFLOP/s at the median time: 2·M·N·K from the benchmark's <see cref="GemmShape"/> parameter, the layer's
/// <see cref="Kernels.Core.Conv2DDescriptor.Flops"/> from a <see cref="ConvCase"/>, or
/// 2·Size³ from an <c>int Size</c> parameter (square GEMMs).
/// </summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);

    public string ColumnName => "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Floating-point operations per second at the median time, in 10^9 (2·M·N·K per GEMM, 2·OH·OW·OC·KH·KW·IC/groups per convolution)";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? flops = FlopsOf(benchmarkCase);
        double? medianNs = summary[benchmarkCase]?.ResultStatistics?.Median;
        return flops is double f && medianNs is double ns && ns > 0 ? (f / ns).ToString("0.0") : "NA";
    }

    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => FlopsOf(c) is not null);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    private static double? FlopsOf(BenchmarkCase benchmarkCase)
    {
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            switch (parameter.Value)
            {
                case GemmShape shape:
                    return shape.Flops;
                case ConvCase layer:
                    return layer.Flops;
                case int size when parameter.Name == "Size":
                    return 2.0 * size * size * size;
            }
        }

        return null;
    }
}
