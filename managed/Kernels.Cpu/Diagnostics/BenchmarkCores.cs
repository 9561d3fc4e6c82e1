using Kernels.Core.Topology;

namespace Kernels.Cpu.Diagnostics;

/// <summary>Which cores a T-thread measurement runs on.</summary>
public static class BenchmarkCores
{
    /// <summary>
    /// The first <paramref name="threads"/> cores, taking the fastest cluster first (highest capacity,
    /// then highest frequency) so that a 1-thread figure on big.LITTLE is a big-core figure; on a
    /// machine with one cluster this is cores 0..T-1.
    /// </summary>
    public static IReadOnlyList<int> Select(CpuTopology topology, int threads)
    {
        ArgumentNullException.ThrowIfNull(topology);
        if (threads < 1 || threads > topology.CoreCount)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads must be between 1 and the {topology.CoreCount} cores of this machine.");
        }

        // CpuTopology.Clusters is ordered fastest first already.
        return topology.Clusters
            .SelectMany(cluster => cluster.Cores.Order())
            .Take(threads)
            .ToArray();
    }
}
