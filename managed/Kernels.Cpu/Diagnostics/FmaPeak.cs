using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Core.Threading;
using Kernels.Core.Topology;

namespace Kernels.Cpu.Diagnostics;

/// <summary>A measured FP32 FMA peak: the roofline's compute ceiling (Fig. 3 of Wang et al.).</summary>
/// <param name="Gflops">Best of the repetitions, over all threads.</param>
/// <param name="Threads">Threads that ran the loop at once.</param>
/// <param name="Isa">The instruction set of the loop (<c>avx512f</c>, <c>fma</c>, <c>asimd</c> or <c>vector128</c>).</param>
public sealed record FmaPeakResult(double Gflops, int Threads, string Isa);

/// <summary>
/// Measures the FP32 multiply-add peak: every worker runs independent FMA chains for a fixed number
/// of iterations; peak = flops of all workers / wall time, best of several repetitions.
/// </summary>
public static class FmaPeak
{
    // Independent chains per worker. Covering latency × throughput needs 8 on Zen 4 (4 cycles × 2 pipes)
    // and on Cortex-A76/X1 (4 × 2); 12 leaves margin and still fits AVX2's 16 ymm registers with the two
    // operands.
    private const int Chains = 12;
    private const int Repetitions = 5;
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan CalibrationTime = TimeSpan.FromMilliseconds(20);

    private static float s_sink;

    private enum Path { Avx512, Fma256, AdvSimd128, Portable128 }

    /// <summary>The instruction set <see cref="Measure(int, TimeSpan?)"/> uses on this machine.</summary>
    public static string Isa => Describe(SelectPath());

    /// <summary>Measures on <paramref name="threads"/> threads pinned to <see cref="BenchmarkCores.Select"/>.</summary>
    /// <param name="duration">Total time spent measuring (default 1 s), split over the repetitions.</param>
    public static FmaPeakResult Measure(int threads, TimeSpan? duration = null)
    {
        CpuTopology topology = CpuTopology.Detect();
        IReadOnlyList<int> cores = BenchmarkCores.Select(topology, threads);
        using CurrentThreadPin callerPin = ThreadAffinity.PinCurrentThread(cores[0]);
        using var workers = new WorkerGroup(threads, cores, "fma-peak");
        return Measure(workers, duration);
    }

    /// <summary>Measures with every thread of <paramref name="workers"/>.</summary>
    public static FmaPeakResult Measure(WorkerGroup workers, TimeSpan? duration = null)
    {
        ArgumentNullException.ThrowIfNull(workers);
        TimeSpan total = duration ?? DefaultDuration;
        if (total <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "duration must be positive.");
        }

        Path path = SelectPath();
        double flopsPerIteration = 2.0 * Chains * Lanes(path);

        // Calibrate so that one repetition takes about total / Repetitions (also warms up the JIT).
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
            best = Math.Max(best, flopsPerIteration * iterations * workers.ThreadCount / seconds / 1e9);
        }

        return new FmaPeakResult(best, workers.ThreadCount, Describe(path));
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
        // Vector512.IsHardwareAccelerated is false under DOTNET_PreferredVectorBitWidth=256, the switch
        // for cores that downclock on zmm: then 256-bit FMA is the profitable width.
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            return Path.Avx512;
        }

        if (Fma.IsSupported)
        {
            return Path.Fma256;
        }

        return AdvSimd.IsSupported ? Path.AdvSimd128 : Path.Portable128;
    }

    private static int Lanes(Path path) => path switch
    {
        Path.Avx512 => Vector512<float>.Count,
        Path.Fma256 => Vector256<float>.Count,
        _ => Vector128<float>.Count,
    };

    private static string Describe(Path path) => path switch
    {
        Path.Avx512 => "avx512f",
        Path.Fma256 => "fma",
        Path.AdvSimd128 => "asimd",
        _ => "vector128",
    };

    private readonly struct PeakWork(Path path, long iterations) : IParallelWork
    {
        public void Execute(int worker, int workerCount)
        {
            float result = path switch
            {
                Path.Avx512 => Chain<Vector512<float>, Avx512MultiplyAdd>(iterations),
                Path.Fma256 => Chain<Vector256<float>, Fma256MultiplyAdd>(iterations),
                Path.AdvSimd128 => Chain<Vector128<float>, AdvSimdMultiplyAdd>(iterations),
                _ => Chain<Vector128<float>, PortableMultiplyAdd>(iterations),
            };

            // Publishing the result keeps the JIT from removing the chains.
            Volatile.Write(ref s_sink, result);
        }
    }

    /// <summary>One vector multiply-add (2 flops per lane); the generic driver is specialized per ISA.</summary>
    private interface IMultiplyAdd<TVector>
        where TVector : struct
    {
        static abstract TVector Create(float value);

        /// <summary>accumulator × multiplier + addend.</summary>
        static abstract TVector MultiplyAdd(TVector accumulator, TVector multiplier, TVector addend);

        static abstract float First(TVector value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Chain<TVector, TOperator>(long iterations)
        where TVector : struct
        where TOperator : struct, IMultiplyAdd<TVector>
    {
        // x ← 0.999·x + 0.001 converges to 1: no overflow, no denormals, whatever the iteration count.
        TVector multiplier = TOperator.Create(0.999f);
        TVector addend = TOperator.Create(0.001f);
        TVector c0 = TOperator.Create(0.00f), c1 = TOperator.Create(0.01f), c2 = TOperator.Create(0.02f);
        TVector c3 = TOperator.Create(0.03f), c4 = TOperator.Create(0.04f), c5 = TOperator.Create(0.05f);
        TVector c6 = TOperator.Create(0.06f), c7 = TOperator.Create(0.07f), c8 = TOperator.Create(0.08f);
        TVector c9 = TOperator.Create(0.09f), c10 = TOperator.Create(0.10f), c11 = TOperator.Create(0.11f);
        for (long i = 0; i < iterations; i++)
        {
            c0 = TOperator.MultiplyAdd(c0, multiplier, addend);
            c1 = TOperator.MultiplyAdd(c1, multiplier, addend);
            c2 = TOperator.MultiplyAdd(c2, multiplier, addend);
            c3 = TOperator.MultiplyAdd(c3, multiplier, addend);
            c4 = TOperator.MultiplyAdd(c4, multiplier, addend);
            c5 = TOperator.MultiplyAdd(c5, multiplier, addend);
            c6 = TOperator.MultiplyAdd(c6, multiplier, addend);
            c7 = TOperator.MultiplyAdd(c7, multiplier, addend);
            c8 = TOperator.MultiplyAdd(c8, multiplier, addend);
            c9 = TOperator.MultiplyAdd(c9, multiplier, addend);
            c10 = TOperator.MultiplyAdd(c10, multiplier, addend);
            c11 = TOperator.MultiplyAdd(c11, multiplier, addend);
        }

        return TOperator.First(c0) + TOperator.First(c1) + TOperator.First(c2) + TOperator.First(c3)
            + TOperator.First(c4) + TOperator.First(c5) + TOperator.First(c6) + TOperator.First(c7)
            + TOperator.First(c8) + TOperator.First(c9) + TOperator.First(c10) + TOperator.First(c11);
    }

    private readonly struct Avx512MultiplyAdd : IMultiplyAdd<Vector512<float>>
    {
        public static Vector512<float> Create(float value) => Vector512.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> MultiplyAdd(Vector512<float> accumulator, Vector512<float> multiplier, Vector512<float> addend)
            => Avx512F.FusedMultiplyAdd(accumulator, multiplier, addend);

        public static float First(Vector512<float> value) => value.ToScalar();
    }

    private readonly struct Fma256MultiplyAdd : IMultiplyAdd<Vector256<float>>
    {
        public static Vector256<float> Create(float value) => Vector256.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> MultiplyAdd(Vector256<float> accumulator, Vector256<float> multiplier, Vector256<float> addend)
            => Fma.MultiplyAdd(accumulator, multiplier, addend);

        public static float First(Vector256<float> value) => value.ToScalar();
    }

    private readonly struct AdvSimdMultiplyAdd : IMultiplyAdd<Vector128<float>>
    {
        public static Vector128<float> Create(float value) => Vector128.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MultiplyAdd(Vector128<float> accumulator, Vector128<float> multiplier, Vector128<float> addend)
            => AdvSimd.FusedMultiplyAdd(addend, accumulator, multiplier);

        public static float First(Vector128<float> value) => value.ToScalar();
    }

    private readonly struct PortableMultiplyAdd : IMultiplyAdd<Vector128<float>>
    {
        public static Vector128<float> Create(float value) => Vector128.Create(value);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> MultiplyAdd(Vector128<float> accumulator, Vector128<float> multiplier, Vector128<float> addend)
            => (accumulator * multiplier) + addend;

        public static float First(Vector128<float> value) => value.ToScalar();
    }
}
