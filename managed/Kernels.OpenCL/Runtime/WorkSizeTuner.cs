using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kernels.OpenCL.Runtime;

/// <summary>How <see cref="WorkSizeTuner"/> treats a kernel configuration it has no entry for (as ARM Compute Library's CLTuner modes).</summary>
public enum TunerMode
{
    /// <summary>Use the kernel's default local size; entries from the tuner file are still used.</summary>
    None,

    /// <summary>Measure powers of two per dimension.</summary>
    Normal,

    /// <summary>Measure every size 1–16 and the powers of two above, per dimension (slow; for offline tuning).</summary>
    Exhaustive,
}

/// <summary>
/// Chooses local work sizes by measuring a kernel's candidates with profiling events, and keeps the winners
/// per (device, kernel, configuration, global size) in a JSON tuner file that later processes read.
/// </summary>
public sealed class WorkSizeTuner
{
    private readonly Dictionary<string, TunerEntry> _entries;
    private readonly Lock _gate = new();

    /// <param name="file">The tuner file; default &lt;cache&gt;/opencl/tuner.json. Read now if it exists.</param>
    /// <param name="mode">What to do for a configuration without an entry.</param>
    /// <exception cref="InvalidDataException">The file exists and is not a tuner file.</exception>
    public WorkSizeTuner(string? file = null, TunerMode mode = TunerMode.None)
    {
        File = file ?? Path.Combine(CacheDirectory.Root, "opencl", "tuner.json");
        Mode = mode;
        _entries = Load(File);
    }

    public string File { get; }

    public TunerMode Mode { get; }

    /// <summary>Candidate launches this tuner has timed (0 when every choice came from the file or the default).</summary>
    public int Measurements { get; private set; }

    /// <summary>Entries (loaded and tuned), by key.</summary>
    public IReadOnlyDictionary<string, TunerEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, TunerEntry>(_entries);
            }
        }
    }

    /// <summary>The tuner file's local size for this configuration, else <paramref name="fallback"/> (fitted to the kernel's limit); never measures.</summary>
    public WorkSize Lookup(OpenCLContext context, ClKernel kernel, string configuration, WorkSize global, WorkSize fallback)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(kernel);
        lock (_gate)
        {
            if (_entries.TryGetValue(KeyOf(context.Device, kernel.Name, configuration, global), out TunerEntry? entry))
            {
                return new WorkSize(entry.Local[0], entry.Local[1], entry.Local[2]);
            }
        }

        return Fit(fallback, kernel, context.Device);
    }

    /// <summary>
    /// The local size for <paramref name="kernel"/> over <paramref name="global"/>: the tuner file's entry, else
    /// (mode none) <paramref name="fallback"/>, else the fastest candidate. Tuning launches the kernel with its
    /// arguments as set, so the kernel must not read what it writes.
    /// </summary>
    public WorkSize Choose(OpenCLContext context, ClKernel kernel, string configuration, WorkSize global, WorkSize fallback)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(kernel);
        string key = KeyOf(context.Device, kernel.Name, configuration, global);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out TunerEntry? entry))
            {
                return new WorkSize(entry.Local[0], entry.Local[1], entry.Local[2]);
            }
        }

        WorkSize safe = Fit(fallback, kernel, context.Device);
        if (Mode == TunerMode.None)
        {
            return safe;
        }

        int repeats = Mode == TunerMode.Exhaustive ? 3 : 2;
        WorkSize best = safe;
        double bestMs = double.PositiveInfinity;
        foreach (WorkSize local in Candidates(global, kernel, context.Device, Mode).Prepend(safe).Distinct())
        {
            // The first launch of a local size may compile (PoCL specializes per size): not timed.
            context.Enqueue(kernel, global, local, profile: true);
            double ms = double.PositiveInfinity;
            for (int r = 0; r < repeats; r++)
            {
                ms = Math.Min(ms, context.Enqueue(kernel, global, local, profile: true));
                Measurements++;
            }

            if (ms < bestMs)
            {
                bestMs = ms;
                best = local;
            }
        }

        lock (_gate)
        {
            _entries[key] = new TunerEntry(context.Device.Key, kernel.Name, configuration, [global.X, global.Y, global.Z], [best.X, best.Y, best.Z], bestMs);
        }

        return best;
    }

    /// <summary>Writes every entry to <see cref="File"/> (through a temporary file, then a rename).</summary>
    public void Save()
    {
        TunerFile content;
        lock (_gate)
        {
            content = new TunerFile(1, _entries.Values.OrderBy(e => e.Kernel, StringComparer.Ordinal).ThenBy(e => e.Configuration, StringComparer.Ordinal).ToList());
        }

        string? dir = Path.GetDirectoryName(Path.GetFullPath(File));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
        }

        string temp = $"{File}.{Environment.ProcessId}.tmp";
        System.IO.File.WriteAllText(temp, JsonSerializer.Serialize(content, TunerJsonContext.Default.TunerFile));
        System.IO.File.Move(temp, File, overwrite: true);
    }

    /// <summary>The candidates a mode measures: each dimension no larger than needed for the global size, within the device's and the kernel's limits.</summary>
    public static IEnumerable<WorkSize> Candidates(WorkSize global, ClKernel kernel, OpenCLDevice device, TunerMode mode)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        long limit = Math.Min(device.MaxWorkGroupSize, kernel.MaxWorkGroupSize);
        int[] xs = Values(global.X, device.MaxWorkItemSizes[0], mode);
        int[] ys = Values(global.Y, device.MaxWorkItemSizes.Count > 1 ? device.MaxWorkItemSizes[1] : 1, mode);
        int[] zs = Values(global.Z, device.MaxWorkItemSizes.Count > 2 ? device.MaxWorkItemSizes[2] : 1, mode);
        foreach (int z in zs)
        {
            foreach (int y in ys)
            {
                foreach (int x in xs)
                {
                    if ((long)x * y * z <= limit)
                    {
                        yield return new WorkSize(x, y, z);
                    }
                }
            }
        }
    }

    private static int[] Values(int global, long deviceMax, TunerMode mode)
    {
        // No candidate larger than the global size rounded up to a power of two: it would only add idle items.
        long cap = Math.Min(Math.Min(deviceMax, 256), (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)global));
        var values = new SortedSet<int>();
        for (long v = 1; v <= cap; v *= 2)
        {
            values.Add((int)v);
        }

        if (mode == TunerMode.Exhaustive)
        {
            for (int v = 1; v <= Math.Min(16, cap); v++)
            {
                values.Add(v);
            }
        }

        return values.ToArray();
    }

    private static WorkSize Fit(WorkSize local, ClKernel kernel, OpenCLDevice device)
    {
        long limit = Math.Min(device.MaxWorkGroupSize, kernel.MaxWorkGroupSize);
        int x = Math.Max(1, local.X), y = Math.Max(1, local.Y), z = Math.Max(1, local.Z);
        while ((long)x * y * z > limit)
        {
            if (z > 1)
            {
                z = (z + 1) / 2;
            }
            else if (y > 1)
            {
                y = (y + 1) / 2;
            }
            else
            {
                x = (x + 1) / 2;
            }
        }

        return new WorkSize(x, y, z);
    }

    private static string KeyOf(OpenCLDevice device, string kernel, string configuration, WorkSize global) =>
        $"{device.Key} # {kernel} # {configuration} # {global}";

    private static Dictionary<string, TunerEntry> Load(string file)
    {
        var entries = new Dictionary<string, TunerEntry>();
        if (!System.IO.File.Exists(file))
        {
            return entries;
        }

        TunerFile? content;
        try
        {
            content = JsonSerializer.Deserialize(System.IO.File.ReadAllText(file), TunerJsonContext.Default.TunerFile);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The OpenCL tuner file {file} is not valid JSON: {e.Message}", e);
        }

        if (content is null || content.Version != 1 || content.Entries is null)
        {
            throw new InvalidDataException($"The OpenCL tuner file {file} is not a version 1 tuner file.");
        }

        foreach (TunerEntry e in content.Entries)
        {
            if (e.Global is not { Length: 3 } || e.Local is not { Length: 3 } || e.Local.Any(v => v < 1))
            {
                throw new InvalidDataException($"The OpenCL tuner file {file} has an entry for {e.Kernel} without 3 positive local sizes.");
            }

            entries[$"{e.Device} # {e.Kernel} # {e.Configuration} # {new WorkSize(e.Global[0], e.Global[1], e.Global[2])}"] = e;
        }

        return entries;
    }
}

/// <summary>One tuned configuration: the local size that ran fastest and its time.</summary>
public sealed record TunerEntry(string Device, string Kernel, string Configuration, int[] Global, int[] Local, double Milliseconds);

internal sealed record TunerFile(int Version, List<TunerEntry> Entries);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(TunerFile))]
internal sealed partial class TunerJsonContext : JsonSerializerContext;
