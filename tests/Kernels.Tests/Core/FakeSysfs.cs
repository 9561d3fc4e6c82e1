namespace Kernels.Tests.Core;

/// <summary>A throw-away sysfs CPU tree and cpuinfo file, so topology detection can be tested for any SoC.</summary>
internal sealed class FakeSysfs : IDisposable
{
    public FakeSysfs()
    {
        Directory.CreateDirectory(Root);
        CpuInfo = Path.Combine(Path.GetDirectoryName(Root)!, "cpuinfo");
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "kernels-sysfs-" + Guid.NewGuid().ToString("N"), "cpu");

    public string CpuInfo { get; }

    public FakeSysfs Online(string list) => Write("online", list + "\n");

    /// <summary>Adds cpuN with the files that are not null; always creates the directory.</summary>
    public FakeSysfs Core(int id, long? maxFreqKHz = null, int? capacity = null, string? relatedCpus = null)
    {
        string dir = $"cpu{id}";
        Directory.CreateDirectory(Path.Combine(Root, dir));
        if (maxFreqKHz is long f)
        {
            Write($"{dir}/cpufreq/cpuinfo_max_freq", $"{f}\n");
        }

        if (capacity is int c)
        {
            Write($"{dir}/cpu_capacity", $"{c}\n");
        }

        if (relatedCpus is not null)
        {
            Write($"{dir}/cpufreq/related_cpus", relatedCpus + "\n");
        }

        return this;
    }

    /// <summary>An arm64-style /proc/cpuinfo with one block per processor.</summary>
    public FakeSysfs ArmCpuInfo(params string[] partPerCore)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < partPerCore.Length; i++)
        {
            text.Append($"processor\t: {i}\nBogoMIPS\t: 52.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\n");
            text.Append($"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\nCPU part\t: {partPerCore[i]}\nCPU revision\t: 0\n\n");
        }

        File.WriteAllText(CpuInfo, text.ToString());
        return this;
    }

    public FakeSysfs Write(string relativePath, string content)
    {
        string path = Path.Combine(Root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return this;
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(Root)!, recursive: true);
}
