using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Kernels.Cpu.Native;

namespace Kernels.Cpu.Diagnostics;

/// <summary>A measured int8 dot-product peak (the int8 GEMM's compute ceiling), in integer operations (2 per multiply-add).</summary>
/// <param name="Gops">Best of the repetitions, over all threads, in 10⁹ operations per second.</param>
/// <param name="Threads">Threads that ran the loop at once.</param>
/// <param name="Isa">The instruction of the loop: <c>avx512vnni</c> (vpdpbusd zmm, C), <c>avxvnni</c> (vpdpbusd ymm), <c>sdot</c>.</param>
public sealed record Int8DotPeakResult(double Gops, int Threads, string Isa);

/// <summary>
/// Measures the int8 multiply-accumulate peak like <see cref="FmaPeak"/>: each worker runs 12 independent
/// vpdpbusd (or sdot) chains; peak = operations of all workers / wall time, best of several repetitions.
/// On x86 with AVX-512 VNNI the loop is C (kn_vnni_peak_chains): .NET 10 has no 512-bit vpdpbusd.
/// </summary>
public static class Int8DotPeak
{
    private const int Chains = 12;
    private const int Repetitions = 5;
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CalibrationTime = TimeSpan.FromMilliseconds(20);

    private static int s_sink;

    private enum Path { None, Avx512VnniNative, AvxVnni256, Sdot128 }

    /// <summary>True when this machine has an int8 dot-product instruction to measure.</summary>
    public static bool IsAvailable => SelectPath() != Path.None;

    /// <summary>The instruction the loop uses here, or <c>none</c>.</summary>
    public static string Isa => Describe(SelectPath());

    /// <summary>Measures on <paramref name="threads"/> threads pinned to <see cref="BenchmarkCores.Select"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">No int8 dot-product instruction here (<see cref="IsAvailable"/>).</exception>
    public static Int8DotPeakResult Measure(int threads, TimeSpan? duration = null)
    {
        CpuTopology topology = CpuTopology.Detect();
        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
        using var workers = new WorkerGroup(threads, cores, "int8-peak");
        return Measure(workers, duration);
    }

    /// <summary>Measures with every thread of <paramref name="workers"/>.</summary>
    /// <exception cref="PlatformNotSupportedException">No int8 dot-product instruction here (<see cref="IsAvailable"/>).</exception>
    public static Int8DotPeakResult Measure(WorkerGroup workers, TimeSpan? duration = null)
    {
        ArgumentNullException.ThrowIfNull(workers);
        TimeSpan total = duration ?? DefaultDuration;
        if (total <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration must be positive.");
        }

        Path path = SelectPath();
        if (path == Path.None)
        {
            throw new PlatformNotSupportedException("No int8 dot-product instruction (AVX-512 VNNI, AVX-VNNI or ARM sdot) on this machine.");
        }

        // Operations per iteration: chains × multiply-adds per instruction × 2.
        double opsPerIteration = 2.0 * Chains * (path == Path.Avx512VnniNative ? 64 : path == Path.AvxVnni256 ? 32 : 16);
        long iterations = 1 << 12;
        double seconds;
        while ((seconds = RunOnce(workers, path, iterations)) < CalibrationTime.TotalSeconds)
        {
            iterations *= 2;
        }

        iterations = Math.Max(iterations, (long)(iterations * total.TotalSeconds / Repetitions / seconds));
        double best = 0;
        for (int repetition = 0; repetition < Repetitions; repetition++)
        {
            seconds = RunOnce(workers, path, iterations);
            best = Math.Max(best, opsPerIteration * iterations * workers.ThreadCount / seconds / 1e9);
        }

        return new Int8DotPeakResult(best, workers.ThreadCount, Describe(path));
    }

    private static double RunOnce(WorkerGroup workers, Path path, long iterations)
    {
        var work = new PeakWork(path, iterations);
        long start = Stopwatch.GetTimestamp();
        workers.Run(ref work);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static Path SelectPath()
    {
        if (NativeQuantizedKernels.CanRunAvx512Vnni)
        {
            return Path.Avx512VnniNative;
        }

        if (AvxVnni.IsSupported)
        {
            return Path.AvxVnni256;
        }

        return Dp.IsSupported ? Path.Sdot128 : Path.None;
    }

    private static string Describe(Path path) => path switch
    {
        Path.Avx512VnniNative => "avx512vnni",
        Path.AvxVnni256 => "avxvnni",
        Path.Sdot128 => "sdot",
        _ => "none",
    };

    private readonly struct PeakWork(Path path, long iterations) : IParallelWork
    {
        public void Execute(int worker, int workerCount)
        {
            int result = path switch
            {
                Path.Avx512VnniNative => NativeQuantizedKernels.PeakChains((ulong)iterations),
                Path.AvxVnni256 => AvxVnniChains(iterations),
                _ => SdotChains(iterations),
            };
            Volatile.Write(ref s_sink, result);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int AvxVnniChains(long iterations)
    {
        Vector256<byte> x = Vector256.Create(0x01020304).AsByte();
        Vector256<sbyte> w = Vector256.Create(0x01FF01FF).AsSByte();
        Vector256<int> c0 = Vector256.Create(0), c1 = Vector256.Create(1), c2 = Vector256.Create(2), c3 = Vector256.Create(3);
        Vector256<int> c4 = Vector256.Create(4), c5 = Vector256.Create(5), c6 = Vector256.Create(6), c7 = Vector256.Create(7);
        Vector256<int> c8 = Vector256.Create(8), c9 = Vector256.Create(9), c10 = Vector256.Create(10), c11 = Vector256.Create(11);
        for (long i = 0; i < iterations; i++)
        {
            c0 = AvxVnni.MultiplyWideningAndAdd(c0, x, w);
            c1 = AvxVnni.MultiplyWideningAndAdd(c1, x, w);
            c2 = AvxVnni.MultiplyWideningAndAdd(c2, x, w);
            c3 = AvxVnni.MultiplyWideningAndAdd(c3, x, w);
            c4 = AvxVnni.MultiplyWideningAndAdd(c4, x, w);
            c5 = AvxVnni.MultiplyWideningAndAdd(c5, x, w);
            c6 = AvxVnni.MultiplyWideningAndAdd(c6, x, w);
            c7 = AvxVnni.MultiplyWideningAndAdd(c7, x, w);
            c8 = AvxVnni.MultiplyWideningAndAdd(c8, x, w);
            c9 = AvxVnni.MultiplyWideningAndAdd(c9, x, w);
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, w);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, w);
        }

        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int SdotChains(long iterations)
    {
        Vector128<sbyte> x = Vector128.Create(0x01020304).AsSByte();
        Vector128<sbyte> w = Vector128.Create(0x01FF01FF).AsSByte();
        Vector128<int> c0 = Vector128.Create(0), c1 = Vector128.Create(1), c2 = Vector128.Create(2), c3 = Vector128.Create(3);
        Vector128<int> c4 = Vector128.Create(4), c5 = Vector128.Create(5), c6 = Vector128.Create(6), c7 = Vector128.Create(7);
        Vector128<int> c8 = Vector128.Create(8), c9 = Vector128.Create(9), c10 = Vector128.Create(10), c11 = Vector128.Create(11);
        for (long i = 0; i < iterations; i++)
        {
            c0 = Dp.DotProduct(c0, x, w);
            c1 = Dp.DotProduct(c1, x, w);
            c2 = Dp.DotProduct(c2, x, w);
            c3 = Dp.DotProduct(c3, x, w);
            c4 = Dp.DotProduct(c4, x, w);
            c5 = Dp.DotProduct(c5, x, w);
            c6 = Dp.DotProduct(c6, x, w);
            c7 = Dp.DotProduct(c7, x, w);
            c8 = Dp.DotProduct(c8, x, w);
            c9 = Dp.DotProduct(c9, x, w);
            c10 = Dp.DotProduct(c10, x, w);
            c11 = Dp.DotProduct(c11, x, w);
        }

        return Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
