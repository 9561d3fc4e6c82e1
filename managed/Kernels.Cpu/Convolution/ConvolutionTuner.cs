using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Core.Topology;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// Chooses a layer's algorithm by measuring every applicable candidate once (random weights, one warm-up
/// call, then the median of a few timed calls) and remembers the answer per machine in a JSON file, so a
/// layer is measured once per (shape, ISA, threads) on a device, not once per run. Thread-safe.
/// </summary>
public sealed class ConvolutionTuner
{
    private const int FormatVersion = 1;
    private readonly object _gate = new();
    private readonly Dictionary<string, TunedLayer> _entries;

    /// <summary>Opens (or starts) the cache file of this machine.</summary>
    /// <param name="cacheFile">The file; null for <see cref="DefaultCacheFile"/>.</param>
    /// <param name="machine">Key of the machine the measurements belong to; null for <see cref="MachineKey"/>. Entries of other machines in the file are ignored.</param>
    public ConvolutionTuner(string? cacheFile = null, string? machine = null)
    {
        CacheFile = cacheFile ?? DefaultCacheFile;
        Machine = machine ?? MachineKey;
        _entries = Load(CacheFile, Machine);
    }

    /// <summary>
    /// $KERNELS_CACHE_DIR/conv-algorithms.json, else $XDG_CACHE_HOME/kernels/..., else ~/.cache/kernels/conv-algorithms.json.
    /// </summary>
    public static string DefaultCacheFile
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable("KERNELS_CACHE_DIR");
            if (string.IsNullOrEmpty(dir))
            {
                string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
                dir = Path.Combine(
                    string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg,
                    "kernels");
            }

            return Path.Combine(dir, "conv-algorithms.json");
        }
    }

    /// <summary>The CPU this process runs on: each cluster's part, core count and maximum frequency.</summary>
    public static string MachineKey { get; } = DescribeMachine();

    /// <summary>The cache file.</summary>
    public string CacheFile { get; }

    /// <summary>The machine key the entries are stored under.</summary>
    public string Machine { get; }

    /// <summary>Number of cached layers.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>
    /// The measured best algorithm for the layer: from the cache, or measured now (every applicable
    /// algorithm, with <paramref name="workers"/>) and then cached and saved.
    /// </summary>
    /// <param name="descriptor">The layer.</param>
    /// <param name="isa">The ISA variant; null for <see cref="KernelIsas.Best"/>.</param>
    /// <param name="workers">Threads to measure with (null: the calling thread).</param>
    /// <param name="progress">Receives one line per measured candidate (long tuning runs should show progress); may be null.</param>
    /// <exception cref="ArgumentException">Invalid layer or ISA, or no algorithm applies.</exception>
    public ConvolutionChoice Choose(Conv2DDescriptor descriptor, KernelIsa? isa = null, WorkerGroup? workers = null, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        var variant = isa ?? KernelIsas.Best;
        variant.EnsureExecutable(nameof(isa));
        int threads = workers?.ThreadCount ?? 1;
        string key = Key(descriptor, variant, threads);
        lock (_gate)
        {
            if (_entries.TryGetValue(key, out var cached) && Enum.TryParse<ConvolutionAlgorithm>(cached.Algorithm, out var algorithm)
                && Convolutions.WhyNotApplicable(algorithm, descriptor) is null)
            {
                return new ConvolutionChoice(algorithm, cached.Milliseconds, Measured: true);
            }
        }

        var measured = Measure(descriptor, variant, workers, progress);
        var best = measured[0];
        lock (_gate)
        {
            _entries[key] = new TunedLayer
            {
                Algorithm = best.Algorithm.ToString(),
                Milliseconds = best.Milliseconds,
                Candidates = measured.ToDictionary(static c => c.Algorithm.ToString(), static c => c.Milliseconds),
            };
            Save();
        }

        return best;
    }

    /// <summary>Measures every applicable algorithm on the layer (not cached), fastest first.</summary>
    /// <exception cref="ArgumentException">Invalid layer or ISA, or no algorithm applies.</exception>
    public static IReadOnlyList<ConvolutionChoice> Measure(Conv2DDescriptor descriptor, KernelIsa isa, WorkerGroup? workers = null, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        isa.EnsureExecutable(nameof(isa));
        var algorithms = Convolutions.ApplicableAlgorithms(descriptor);
        if (algorithms.Count == 0)
        {
            throw new ArgumentException($"No registered convolution algorithm applies to {descriptor}.", nameof(descriptor));
        }

        var rng = new Random(12345);
        var input = RandomFloats(rng, descriptor.InputLength);
        var weights = RandomFloats(rng, descriptor.WeightsLength);
        var bias = RandomFloats(rng, descriptor.OutputChannels);
        var output = new float[descriptor.OutputLength];
        var results = new List<ConvolutionChoice>(algorithms.Count);
        foreach (var algorithm in algorithms)
        {
            using var kernel = Convolutions.Create(descriptor, weights, bias, algorithm, isa);
            double ms = TimeMedian(kernel, input, output, workers);
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{descriptor} {algorithm.ToName()}/{isa.ToName()}: {ms:F3} ms"));
            results.Add(new ConvolutionChoice(algorithm, ms, Measured: true));
        }

        results.Sort(static (a, b) => a.Milliseconds.CompareTo(b.Milliseconds));
        return results;
    }

    /// <summary>Writes the cache file (atomically: a temporary file, then a rename), keeping other machines' entries.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save()
    {
        lock (_gate)
        {
            var file = ReadFile(CacheFile) ?? new TunerFile();
            file.Version = FormatVersion;
            file.Machines[Machine] = new Dictionary<string, TunedLayer>(_entries);
            string? dir = Path.GetDirectoryName(Path.GetFullPath(CacheFile));
            if (!string.IsNullOrEmpty(dir))
            {
                Directory.CreateDirectory(dir);
            }

            string temp = CacheFile + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(file, TunerJson.Default.TunerFile));
            File.Move(temp, CacheFile, overwrite: true);
        }
    }

    private static double TimeMedian(ConvolutionKernel kernel, float[] input, float[] output, WorkerGroup? workers)
    {
        kernel.Run(input, output, workers);

        // Enough calls for a stable median, but a big layer is not run for more than about 200 ms.
        var first = Stopwatch.StartNew();
        kernel.Run(input, output, workers);
        double once = first.Elapsed.TotalMilliseconds;
        int runs = Math.Clamp((int)(200 / Math.Max(once, 1e-3)), 3, 25);
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            kernel.Run(input, output, workers);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[runs / 2];
    }

    private static float[] RandomFloats(Random rng, long count)
    {
        var values = new float[count];
        for (long i = 0; i < values.LongLength; i++)
        {
            values[i] = (float)(rng.NextDouble() - 0.5);
        }

        return values;
    }

    private static string Key(Conv2DDescriptor d, KernelIsa isa, int threads) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{d.Batch}x{d.InputHeight}x{d.InputWidth}x{d.InputChannels} k{d.KernelHeight}x{d.KernelWidth} oc{d.OutputChannels} s{d.StrideHeight}x{d.StrideWidth} " +
            $"p{d.PadTop},{d.PadLeft},{d.PadBottom},{d.PadRight} d{d.DilationHeight}x{d.DilationWidth} g{d.Groups} {isa.ToName()} t{threads}");

    private static Dictionary<string, TunedLayer> Load(string path, string machine)
    {
        var file = ReadFile(path);
        return file is not null && file.Version == FormatVersion && file.Machines.TryGetValue(machine, out var entries)
            ? new Dictionary<string, TunedLayer>(entries)
            : [];
    }

    private static TunerFile? ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), TunerJson.Default.TunerFile);
        }
        catch (JsonException)
        {
            // A damaged cache only costs a re-measurement; it is rewritten on the next save.
            return null;
        }
    }

    private static string DescribeMachine()
    {
        try
        {
            var topology = CpuTopology.Detect();
            return string.Join(" + ", topology.Clusters.Select(static c =>
                string.Create(CultureInfo.InvariantCulture, $"{c.Cores.Count}x {c.CpuPart} @{c.MaxFrequencyKHz / 1000} MHz")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            return $"{Environment.ProcessorCount} CPUs";
        }
    }

    internal sealed class TunedLayer
    {
        public string Algorithm { get; set; } = "";

        public double Milliseconds { get; set; }

        public Dictionary<string, double> Candidates { get; set; } = [];
    }

    internal sealed class TunerFile
    {
        public int Version { get; set; }

        public Dictionary<string, Dictionary<string, TunedLayer>> Machines { get; set; } = [];
    }
}

[JsonSourceGenerationOptions(WriteIndented = true)]
[JsonSerializable(typeof(ConvolutionTuner.TunerFile))]
internal sealed partial class TunerJson : JsonSerializerContext
{
}
