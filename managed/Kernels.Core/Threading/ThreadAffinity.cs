using System.Runtime.InteropServices;

namespace Kernels.Core.Threading;

/// <summary>
/// Pins the calling OS thread to logical CPUs with sched_setaffinity (Linux and Android). Elsewhere every call
/// reports failure rather than throwing: pinning is an optimisation, never a requirement.
/// </summary>
public static unsafe class ThreadAffinity
{
    // cpu_set_t in glibc and bionic is 1024 bits; larger ids get a larger mask.
    private const int MinMaskWords = 1024 / 64;

    private static readonly delegate* unmanaged<int, nuint, ulong*, int> SetAffinity;
    private static readonly delegate* unmanaged<int, nuint, ulong*, int> GetAffinity;

    static ThreadAffinity()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsAndroid())
        {
            return;
        }

        // glibc's libc.so is a linker script that dlopen rejects, bionic's is the real library: try both names.
        foreach (string name in (ReadOnlySpan<string>)["libc.so.6", "libc.so", "libc"])
        {
            if (NativeLibrary.TryLoad(name, out nint libc))
            {
                if (NativeLibrary.TryGetExport(libc, "sched_setaffinity", out nint set)
                    && NativeLibrary.TryGetExport(libc, "sched_getaffinity", out nint get))
                {
                    SetAffinity = (delegate* unmanaged<int, nuint, ulong*, int>)set;
                    GetAffinity = (delegate* unmanaged<int, nuint, ulong*, int>)get;
                }

                return;
            }
        }
    }

    /// <summary>
    /// Pins the calling thread to <paramref name="core"/> until the returned scope is disposed, then
    /// restores its previous affinity. A WorkerGroup's caller is its worker 0 and is never pinned by the
    /// group; a measurement pins it for its duration so the scheduler cannot stack it on a helper's
    /// core, without leaving an in-process caller (tests, a host program) stuck on one core afterwards.
    /// </summary>
    public static CurrentThreadPin PinCurrentThread(int core)
    {
        int[]? previous = GetCurrentThreadAffinity();
        return new CurrentThreadPin(TryPinCurrentThread([core]) ? previous : null);
    }

    /// <summary>Whether this platform can pin threads at all.</summary>
    public static bool IsSupported => SetAffinity != null;

    /// <summary>
    /// Restricts the calling thread to <paramref name="cores"/>. Returns false (and leaves the affinity unchanged)
    /// when unsupported, or when the kernel refuses, e.g. a core is offline or outside the container's cpuset.
    /// </summary>
    /// <exception cref="ArgumentException">Empty list or a negative id.</exception>
    public static bool TryPinCurrentThread(ReadOnlySpan<int> cores)
    {
        if (cores.IsEmpty)
        {
            throw new ArgumentException("At least one core is needed.", nameof(cores));
        }

        int max = 0;
        foreach (int core in cores)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(core, nameof(cores));
            max = Math.Max(max, core);
        }

        if (SetAffinity == null)
        {
            return false;
        }

        int words = Math.Max(MinMaskWords, max / 64 + 1);
        ulong* mask = stackalloc ulong[words];
        new Span<ulong>(mask, words).Clear();
        foreach (int core in cores)
        {
            mask[core / 64] |= 1UL << (core % 64);
        }

        // pid 0 means the calling thread (a Linux thread id, not the process).
        return SetAffinity(0, (nuint)(words * sizeof(ulong)), mask) == 0;
    }

    /// <summary>The logical CPUs the calling thread may run on, ascending; null when unsupported.</summary>
    public static int[]? GetCurrentThreadAffinity()
    {
        if (GetAffinity == null)
        {
            return null;
        }

        // Grow the mask until the kernel's nr_cpu_ids fits (EINVAL otherwise).
        for (int words = MinMaskWords; words <= 1 << 12; words *= 2)
        {
            int[]? cores = TryGetAffinity(words);
            if (cores is not null)
            {
                return cores;
            }
        }

        return null;
    }

    private static int[]? TryGetAffinity(int words)
    {
        ulong* mask = stackalloc ulong[words];
        new Span<ulong>(mask, words).Clear();
        if (GetAffinity(0, (nuint)(words * sizeof(ulong)), mask) != 0)
        {
            return null;
        }

        var cores = new List<int>();
        for (int i = 0; i < words * 64; i++)
        {
            if ((mask[i / 64] & (1UL << (i % 64))) != 0)
            {
                cores.Add(i);
            }
        }

        return [.. cores];
    }
}

/// <summary>Restores the calling thread's affinity when disposed (see <see cref="ThreadAffinity.PinCurrentThread"/>).</summary>
public readonly struct CurrentThreadPin : IDisposable
{
    private readonly int[]? _previous;

    internal CurrentThreadPin(int[]? previous) => _previous = previous;

    /// <summary>Gives the thread back the affinity it had before the pin (no-op when pinning failed).</summary>
    public void Dispose()
    {
        if (_previous is { Length: > 0 })
        {
            ThreadAffinity.TryPinCurrentThread(_previous);
        }
    }
}
