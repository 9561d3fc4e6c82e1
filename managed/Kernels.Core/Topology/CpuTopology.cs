using System.Globalization;

namespace Kernels.Core.Topology;

/// <summary>
/// The CPU clusters of this machine, read from sysfs, so worker groups can be pinned per cluster and the
/// scheduler can tell big cores from LITTLE ones. Cores of equal capacity, maximum frequency and CPU part
/// form one cluster; where cpufreq policies span several cores (ARM), cores of different policies are
/// also kept apart.
/// </summary>
public sealed class CpuTopology
{
    private const int DefaultCapacity = 1024;
    private const string UnknownPart = "unknown";

    /// <summary>Builds a topology from given clusters (tests, or a machine description loaded from a file).</summary>
    /// <param name="clusters">Non-empty; ids and cores must be unique across clusters; re-ordered fastest first.</param>
    /// <exception cref="ArgumentException">Empty, a cluster without cores, or a duplicate id or core.</exception>
    public CpuTopology(IReadOnlyList<CpuCluster> clusters)
    {
        ArgumentNullException.ThrowIfNull(clusters);
        if (clusters.Count == 0)
        {
            throw new ArgumentException("A topology needs at least one cluster.", nameof(clusters));
        }

        var ids = new HashSet<int>();
        var cores = new HashSet<int>();
        foreach (var cluster in clusters)
        {
            if (cluster.Cores.Count == 0)
            {
                throw new ArgumentException($"Cluster {cluster.Id} has no cores.", nameof(clusters));
            }

            if (!ids.Add(cluster.Id))
            {
                throw new ArgumentException($"Duplicate cluster id {cluster.Id}.", nameof(clusters));
            }

            foreach (int core in cluster.Cores)
            {
                if (core < 0 || !cores.Add(core))
                {
                    throw new ArgumentException($"Core {core} is negative or in more than one cluster.", nameof(clusters));
                }
            }
        }

        Clusters = clusters.OrderBy(c => c, FastestFirst).ToArray().AsReadOnly();
        CoreCount = cores.Count;
    }

    /// <summary>Clusters, fastest first: higher capacity, then higher maximum frequency, then lower core id.</summary>
    public IReadOnlyList<CpuCluster> Clusters { get; }

    /// <summary>Number of online cores over all clusters.</summary>
    public int CoreCount { get; }

    private static Comparer<CpuCluster> FastestFirst { get; } = Comparer<CpuCluster>.Create((a, b) =>
    {
        int c = b.Capacity.CompareTo(a.Capacity);
        if (c == 0)
        {
            c = b.MaxFrequencyKHz.CompareTo(a.MaxFrequencyKHz);
        }

        return c != 0 ? c : a.Cores[0].CompareTo(b.Cores[0]);
    });

    /// <summary>
    /// Reads the topology. Missing per-core files fall back to defaults (frequency 0, capacity 1024); a missing
    /// sysfs tree (Windows, macOS, locked-down containers) gives one cluster of <see cref="Environment.ProcessorCount"/> cores.
    /// Cluster ids are assigned fastest first.
    /// </summary>
    /// <param name="sysCpuRoot">The sysfs CPU directory; tests pass a fake tree.</param>
    /// <param name="procCpuInfo">The cpuinfo file, for the CPU part or model name.</param>
    /// <exception cref="FormatException">A sysfs file exists but does not hold what the kernel writes there; the message names the file.</exception>
    public static CpuTopology Detect(string sysCpuRoot = "/sys/devices/system/cpu", string procCpuInfo = "/proc/cpuinfo")
    {
        ArgumentNullException.ThrowIfNull(sysCpuRoot);
        ArgumentNullException.ThrowIfNull(procCpuInfo);

        int[] online = ReadOnlineCores(sysCpuRoot);
        var parts = ReadCpuParts(procCpuInfo);
        string PartOf(int core) =>
            parts.PerCore.TryGetValue(core, out var p) ? p : parts.Common ?? UnknownPart;

        var cores = new List<CoreInfo>(online.Length);
        var onlineSet = new HashSet<int>(online);
        foreach (int core in online)
        {
            string dir = Path.Combine(sysCpuRoot, "cpu" + core.ToString(CultureInfo.InvariantCulture));
            long freq = ReadLong(Path.Combine(dir, "cpufreq", "cpuinfo_max_freq")) ?? 0;
            int capacity = (int)(ReadLong(Path.Combine(dir, "cpu_capacity")) ?? DefaultCapacity);
            int domain = -1;
            string relatedPath = Path.Combine(dir, "cpufreq", "related_cpus");
            if (File.Exists(relatedPath))
            {
                int[] related = ParseList(relatedPath).Where(onlineSet.Contains).ToArray();
                // A per-core policy (common on x86) says nothing about clusters; only shared policies separate them.
                if (related.Length > 1)
                {
                    domain = related[0];
                }
            }

            cores.Add(new CoreInfo(core, freq, capacity, PartOf(core), domain));
        }

        var clusters = cores
            .GroupBy(c => (c.Capacity, c.FrequencyKHz, c.Part, c.Domain))
            .Select(g => new CpuCluster(0, g.Select(c => c.Id).Order().ToArray().AsReadOnly(), g.Key.FrequencyKHz, g.Key.Capacity, g.Key.Part, false))
            .Order(FastestFirst)
            .Select((c, i) => c with { Id = i })
            .ToArray();
        return new CpuTopology(clusters);
    }

    /// <summary>
    /// Splits all cores into <paramref name="count"/> groups of consecutive core ids, sizes differing by at most one,
    /// so a uniform CPU can be run as several "components" like a big.LITTLE one (co-execution, pipelining).
    /// A group's capacity and frequency are the lowest of its cores: it runs at the pace of its slowest core.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1 or above <see cref="CoreCount"/>.</exception>
    public CpuTopology SplitIntoVirtualClusters(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, CoreCount);

        var byCore = new SortedDictionary<int, CpuCluster>();
        foreach (var cluster in Clusters)
        {
            foreach (int core in cluster.Cores)
            {
                byCore[core] = cluster;
            }
        }

        var all = byCore.ToArray();
        var groups = new List<CpuCluster>(count);
        int start = 0;
        for (int g = 0; g < count; g++)
        {
            int size = all.Length / count + (g < all.Length % count ? 1 : 0);
            var members = all.AsSpan(start, size).ToArray();
            start += size;
            string[] partNames = members.Select(m => m.Value.CpuPart).Distinct().ToArray();
            groups.Add(new CpuCluster(
                0,
                members.Select(m => m.Key).ToArray().AsReadOnly(),
                members.Min(m => m.Value.MaxFrequencyKHz),
                members.Min(m => m.Value.Capacity),
                string.Join('+', partNames),
                true));
        }

        return new CpuTopology(groups.Order(FastestFirst).Select((c, i) => c with { Id = i }).ToArray());
    }

    /// <summary>The cluster with this id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No such cluster.</exception>
    public CpuCluster GetCluster(int id)
    {
        foreach (var cluster in Clusters)
        {
            if (cluster.Id == id)
            {
                return cluster;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(id), id, $"No cluster {id}; this topology has {Clusters.Count}.");
    }

    /// <summary>One line per cluster, fastest first.</summary>
    public override string ToString() => string.Join(Environment.NewLine, Clusters);

    private static int[] ReadOnlineCores(string root)
    {
        string onlinePath = Path.Combine(root, "online");
        if (File.Exists(onlinePath))
        {
            int[] online = ParseList(onlinePath);
            return online.Length > 0
                ? online
                : throw new FormatException($"{onlinePath} lists no CPUs.");
        }

        // Some kernels (and sandboxes) lack 'online': fall back to the cpuN directories, then to the runtime's count.
        if (Directory.Exists(root))
        {
            var ids = Directory.EnumerateDirectories(root, "cpu*")
                .Select(d => Path.GetFileName(d)[3..])
                .Where(s => s.Length > 0 && s.All(char.IsAsciiDigit))
                .Select(s => int.Parse(s, CultureInfo.InvariantCulture))
                .Order()
                .ToArray();
            if (ids.Length > 0)
            {
                return ids;
            }
        }

        return Enumerable.Range(0, Environment.ProcessorCount).ToArray();
    }

    private static int[] ParseList(string path)
    {
        string text = File.ReadAllText(path).Trim();
        try
        {
            return CpuList.Parse(text);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{path}: {e.Message}", e);
        }
    }

    private static long? ReadLong(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        string text = File.ReadAllText(path).Trim();
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value <= int.MaxValue * 1000L
            ? value
            : throw new FormatException($"{path}: expected a non-negative integer, found '{text}'.");
    }

    /// <summary>Per-processor "CPU part" (ARM) or "model name" (x86), and a value common to all when the file has no per-processor blocks.</summary>
    private static (Dictionary<int, string> PerCore, string? Common) ReadCpuParts(string path)
    {
        var perCore = new Dictionary<int, string>();
        if (!File.Exists(path))
        {
            return (perCore, null);
        }

        string? common = null;
        int? processor = null;
        string? part = null;
        string? model = null;
        foreach (string line in File.ReadLines(path).Append(string.Empty))
        {
            int colon = line.IndexOf(':');
            if (colon < 0)
            {
                if (line.Trim().Length == 0)
                {
                    // End of a block: ARM's "CPU part" beats "model name", which 32-bit ARM kernels also print.
                    string? value = part ?? model;
                    if (value is not null)
                    {
                        if (processor is int p)
                        {
                            perCore[p] = value;
                        }
                        else
                        {
                            common ??= value;
                        }
                    }

                    processor = null;
                    part = null;
                    model = null;
                }

                continue;
            }

            string key = line[..colon].Trim();
            string val = line[(colon + 1)..].Trim();
            switch (key)
            {
                case "processor" when int.TryParse(val, NumberStyles.None, CultureInfo.InvariantCulture, out int id):
                    processor = id;
                    break;
                case "CPU part":
                    part = val;
                    break;
                case "model name":
                    model = val;
                    break;
            }
        }

        return (perCore, common ?? perCore.Values.FirstOrDefault());
    }

    private readonly record struct CoreInfo(int Id, long FrequencyKHz, int Capacity, string Part, int Domain);
}
