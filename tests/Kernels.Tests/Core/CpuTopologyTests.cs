using Kernels.Core.Topology;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class CpuTopologyTests
{
    private const string A55 = "0xd05";
    private const string A78 = "0xd41";
    private const string X1 = "0xd44";
    private const string A710 = "0xd0d";

    /// <summary>4 LITTLE (A55, 1.8 GHz, capacity 512) at cpu0-3 and 4 big (2.8 GHz, capacity 1024) at cpu4-7.</summary>
    private static FakeSysfs BigLittle()
    {
        var fs = new FakeSysfs().Online("0-7");
        for (int i = 0; i < 4; i++)
        {
            fs.Core(i, 1_800_000, 512, "0-3");
            fs.Core(i + 4, 2_800_000, 1024, "4-7");
        }

        return fs.ArmCpuInfo(A55, A55, A55, A55, A710, A710, A710, A710);
    }

    [Fact]
    public void BigLittle_TwoClusters_BigFirst()
    {
        using var fs = BigLittle();
        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);

        Assert.Equal(8, topology.CoreCount);
        Assert.Equal(2, topology.Clusters.Count);
        var big = topology.Clusters[0];
        var little = topology.Clusters[1];
        Assert.Equal(new CpuCluster(0, big.Cores, 2_800_000, 1024, A710, false), big);
        Assert.Equal([4, 5, 6, 7], big.Cores);
        Assert.Equal(new CpuCluster(1, little.Cores, 1_800_000, 512, A55, false), little);
        Assert.Equal([0, 1, 2, 3], little.Cores);
        Assert.Same(little, topology.GetCluster(1));
        Assert.Same(big, topology.GetCluster(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.GetCluster(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.GetCluster(-1));
    }

    [Fact]
    public void ThreeClusters_OrderedByCapacityThenFrequency()
    {
        // Pixel-6-like: 4 A55 + 2 A78 + 2 X1; the A78 and X1 share capacity so frequency decides.
        using var fs = new FakeSysfs().Online("0-7");
        for (int i = 0; i < 4; i++)
        {
            fs.Core(i, 1_800_000, 160, "0-3");
        }

        fs.Core(4, 2_250_000, 1024, "4-5").Core(5, 2_250_000, 1024, "4-5");
        fs.Core(6, 2_800_000, 1024, "6-7").Core(7, 2_800_000, 1024, "6-7");
        fs.ArmCpuInfo(A55, A55, A55, A55, A78, A78, X1, X1);

        var clusters = CpuTopology.Detect(fs.Root, fs.CpuInfo).Clusters;

        Assert.Equal(["6-7 " + X1, "4-5 " + A78, "0-3 " + A55], clusters.Select(c => $"{c.Cores[0]}-{c.Cores[^1]} {c.CpuPart}"));
        Assert.Equal([0, 1, 2], clusters.Select(c => c.Id));
        Assert.Equal([2, 2, 4], clusters.Select(c => c.Cores.Count));
    }

    [Fact]
    public void IdenticalCores_InSeparateFrequencyDomains_AreSeparateClusters()
    {
        using var fs = new FakeSysfs().Online("0-3")
            .Core(0, 2_000_000, 1024, "0-1").Core(1, 2_000_000, 1024, "0-1")
            .Core(2, 2_000_000, 1024, "2-3").Core(3, 2_000_000, 1024, "2-3")
            .ArmCpuInfo(A55, A55, A55, A55);

        var clusters = CpuTopology.Detect(fs.Root, fs.CpuInfo).Clusters;

        Assert.Equal(2, clusters.Count);
        Assert.Equal([0, 1], clusters[0].Cores);
        Assert.Equal([2, 3], clusters[1].Cores);
    }

    [Fact]
    public void PerCoreFrequencyPolicies_DoNotSplitAUniformCpu()
    {
        // x86 cpufreq drivers usually give every core its own policy.
        using var fs = new FakeSysfs().Online("0-3");
        for (int i = 0; i < 4; i++)
        {
            fs.Core(i, 3_500_000, relatedCpus: $"{i}");
        }

        fs.Write("../cpuinfo", "processor\t: 0\nmodel name\t: AMD Ryzen 7 7700X\n\nprocessor\t: 1\nmodel name\t: AMD Ryzen 7 7700X\n\n");

        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);

        var cluster = Assert.Single(topology.Clusters);
        Assert.Equal([0, 1, 2, 3], cluster.Cores);
        Assert.Equal(3_500_000, cluster.MaxFrequencyKHz);
        Assert.Equal(1024, cluster.Capacity);
        Assert.Equal("AMD Ryzen 7 7700X", cluster.CpuPart);
    }

    [Fact]
    public void MissingFiles_FallBackToDefaults()
    {
        // A VM: no cpufreq, no cpu_capacity, no cpuinfo.
        using var fs = new FakeSysfs().Online("0-1").Core(0).Core(1);

        var cluster = Assert.Single(CpuTopology.Detect(fs.Root, fs.CpuInfo).Clusters);

        Assert.Equal(new CpuCluster(0, cluster.Cores, 0, 1024, "unknown", false), cluster);
        Assert.Equal([0, 1], cluster.Cores);
    }

    [Fact]
    public void MissingFrequency_OnOneCore_SeparatesIt()
    {
        using var fs = new FakeSysfs().Online("0-2").Core(0, 1_000_000).Core(1, 1_000_000).Core(2);

        var clusters = CpuTopology.Detect(fs.Root, fs.CpuInfo).Clusters;

        Assert.Equal([[0, 1], [2]], clusters.Select(c => c.Cores.ToArray()));
        Assert.Equal([1_000_000L, 0L], clusters.Select(c => c.MaxFrequencyKHz));
    }

    [Fact]
    public void MissingOnlineFile_UsesCpuDirectories()
    {
        using var fs = new FakeSysfs().Core(0, 1_000_000).Core(1, 1_000_000).Core(2, 1_000_000);
        Directory.CreateDirectory(Path.Combine(fs.Root, "cpufreq"));
        Directory.CreateDirectory(Path.Combine(fs.Root, "cpuidle"));

        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);

        Assert.Equal(3, topology.CoreCount);
        Assert.Equal([0, 1, 2], Assert.Single(topology.Clusters).Cores);
    }

    [Fact]
    public void MissingSysfs_GivesOneClusterOfProcessorCount()
    {
        var topology = CpuTopology.Detect("/nonexistent-" + Guid.NewGuid(), "/nonexistent-cpuinfo");

        Assert.Equal(Environment.ProcessorCount, topology.CoreCount);
        Assert.Equal(Enumerable.Range(0, Environment.ProcessorCount), Assert.Single(topology.Clusters).Cores);
    }

    [Fact]
    public void OfflineCores_AreLeftOut()
    {
        using var fs = BigLittle();
        fs.Online("0-3,6");

        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);

        Assert.Equal(5, topology.CoreCount);
        Assert.Equal([6], topology.Clusters[0].Cores);
        Assert.Equal([0, 1, 2, 3], topology.Clusters[1].Cores);
    }

    [Theory]
    [InlineData("online", "abc")]
    [InlineData("online", "3-1")]
    [InlineData("online", "")]
    [InlineData("cpu0/cpu_capacity", "big")]
    [InlineData("cpu0/cpu_capacity", "-1")]
    [InlineData("cpu5/cpufreq/cpuinfo_max_freq", "2.8GHz")]
    [InlineData("cpu5/cpufreq/related_cpus", "4-x")]
    public void MalformedFile_ThrowsNamingIt(string file, string content)
    {
        using var fs = BigLittle();
        fs.Write(file, content);

        var e = Assert.Throws<FormatException>(() => CpuTopology.Detect(fs.Root, fs.CpuInfo));

        Assert.Contains(Path.Combine(fs.Root, file), e.Message);
    }

    [Fact]
    public void SplitIntoVirtualClusters_MakesContiguousGroups_SlowestCoreSetsPace()
    {
        using var fs = BigLittle();
        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);

        var split = topology.SplitIntoVirtualClusters(3);

        Assert.Equal(8, split.CoreCount);
        Assert.All(split.Clusters, c => Assert.True(c.IsVirtual));
        // Groups {0,1,2} {3,4,5} {6,7}; only {6,7} is all big; {0-2} precedes {3-5} on the lower core id.
        Assert.Equal([[6, 7], [0, 1, 2], [3, 4, 5]], split.Clusters.Select(c => c.Cores.ToArray()));
        Assert.Equal([0, 1, 2], split.Clusters.Select(c => c.Id));
        Assert.Equal([1024, 512, 512], split.Clusters.Select(c => c.Capacity));
        Assert.Equal([2_800_000L, 1_800_000L, 1_800_000L], split.Clusters.Select(c => c.MaxFrequencyKHz));
        Assert.Equal([A710, A55, A55 + "+" + A710], split.Clusters.Select(c => c.CpuPart));
        Assert.False(topology.Clusters[0].IsVirtual);
    }

    [Theory]
    [InlineData(1, new[] { 8 })]
    [InlineData(2, new[] { 4, 4 })]
    [InlineData(3, new[] { 3, 3, 2 })]
    [InlineData(5, new[] { 2, 2, 2, 1, 1 })]
    [InlineData(8, new[] { 1, 1, 1, 1, 1, 1, 1, 1 })]
    public void SplitIntoVirtualClusters_CoversEveryCoreOnce(int count, int[] sizesByFirstCore)
    {
        using var fs = new FakeSysfs().Online("0-7");
        for (int i = 0; i < 8; i++)
        {
            fs.Core(i);
        }

        var split = CpuTopology.Detect(fs.Root, fs.CpuInfo).SplitIntoVirtualClusters(count);

        Assert.Equal(count, split.Clusters.Count);
        var byFirstCore = split.Clusters.OrderBy(c => c.Cores[0]).ToArray();
        Assert.Equal(sizesByFirstCore, byFirstCore.Select(c => c.Cores.Count));
        Assert.Equal(Enumerable.Range(0, 8), byFirstCore.SelectMany(c => c.Cores));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(9)]
    public void SplitIntoVirtualClusters_RejectsBadCount(int count)
    {
        using var fs = BigLittle();
        var topology = CpuTopology.Detect(fs.Root, fs.CpuInfo);
        Assert.Throws<ArgumentOutOfRangeException>(() => topology.SplitIntoVirtualClusters(count));
    }

    [Fact]
    public void Constructor_RejectsOverlappingClusters()
    {
        var a = new CpuCluster(0, [0, 1], 0, 1024, "x", false);
        var b = new CpuCluster(1, [1, 2], 0, 1024, "x", false);
        Assert.Throws<ArgumentException>(() => new CpuTopology([a, b]));
        Assert.Throws<ArgumentException>(() => new CpuTopology([a, a with { Cores = [5] }]));
        Assert.Throws<ArgumentException>(() => new CpuTopology([]));
        Assert.Throws<ArgumentException>(() => new CpuTopology([a with { Cores = [] }]));
    }

    [Fact]
    public void RealMachine_FindsEveryOnlineCore()
    {
        var topology = CpuTopology.Detect();

        Assert.NotEmpty(topology.Clusters);
        Assert.Equal(topology.CoreCount, topology.Clusters.Sum(c => c.Cores.Count));
        Assert.Equal(ExpectedOnlineCoreCount(), topology.CoreCount);
        Assert.True(topology.CoreCount >= Environment.ProcessorCount);
        Assert.All(topology.Clusters, c => Assert.False(string.IsNullOrEmpty(c.CpuPart)));
    }

    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-3,6,8-9\n", new[] { 0, 1, 2, 3, 6, 8, 9 })]
    [InlineData("", new int[0])]
    [InlineData("2,1,1", new[] { 1, 2 })]
    public void CpuList_Parses(string text, int[] expected) => Assert.Equal(expected, CpuList.Parse(text.Trim()));

    [Fact]
    public void CpuList_Formats() => Assert.Equal("0-3,6,8-9", CpuList.Format([0, 1, 2, 3, 6, 8, 9]));

    /// <summary>Counts online CPUs from the per-CPU 'online' flags, independently of the 'online' list Detect reads.</summary>
    private static int ExpectedOnlineCoreCount()
    {
        const string root = "/sys/devices/system/cpu";
        if (!Directory.Exists(root))
        {
            return Environment.ProcessorCount;
        }

        return Directory.EnumerateDirectories(root, "cpu*")
            .Where(d => Path.GetFileName(d)[3..] is { Length: > 0 } digits && digits.All(char.IsAsciiDigit))
            .Count(d =>
            {
                // cpu0 often has no 'online' flag because it cannot be taken offline.
                string flag = Path.Combine(d, "online");
                return !File.Exists(flag) || File.ReadAllText(flag).Trim() == "1";
            });
    }
}
