using BenchmarkDotNet.Configs;

namespace Kernels.Benchmarks;

/// <summary>Adds <see cref="GflopsColumn"/> to the default columns.</summary>
public sealed class GemmBenchmarkConfig : ManualConfig
{
    public GemmBenchmarkConfig()
    {
        AddColumn(new GflopsColumn());
    }
}
