namespace Kernels.Core.Topology;

/// <summary>
/// A set of cores that run at the same speed (a big.LITTLE cluster, or a virtual slice of a uniform CPU):
/// the unit a worker group is pinned to and a layer is placed on.
/// </summary>
/// <param name="Id">Index in <see cref="CpuTopology.Clusters"/>; 0 is the fastest.</param>
/// <param name="Cores">Logical CPU ids, ascending.</param>
/// <param name="MaxFrequencyKHz">cpuinfo_max_freq in kHz; 0 when the kernel does not expose cpufreq (VMs).</param>
/// <param name="Capacity">Scheduler capacity (1024 = the biggest core); 1024 when not exposed.</param>
/// <param name="CpuPart">"CPU part" on ARM (e.g. 0xd05 = Cortex-A55), "model name" on x86; "unknown" when absent.</param>
/// <param name="IsVirtual">Made by <see cref="CpuTopology.SplitIntoVirtualClusters"/> rather than found in hardware.</param>
public sealed record CpuCluster(int Id, IReadOnlyList<int> Cores, long MaxFrequencyKHz, int Capacity, string CpuPart, bool IsVirtual)
{
    /// <summary>e.g. "cluster 0: cores 4-7, 2800000 kHz, capacity 1024, 0xd0d".</summary>
    public override string ToString() =>
        $"cluster {Id}{(IsVirtual ? " (virtual)" : "")}: cores {CpuList.Format(Cores)}, {MaxFrequencyKHz} kHz, capacity {Capacity}, {CpuPart}";
}
