using System.Diagnostics;
using Kernels.Graph.Execution;

namespace Kernels.Cli;

/// <summary>Latency statistics of repeated whole-network runs.</summary>
/// <param name="AllocatedBytesPerRun">
/// Managed bytes allocated in the whole process (<see cref="GC.GetTotalAllocatedBytes"/>, precise) during the timed
/// runs, per run: 0 once the session is warm, unless a progress display shares the process.
/// </param>
internal sealed record LatencyStats(int Iterations, double MinMs, double MedianMs, double P90Ms, double MeanMs, double AllocatedBytesPerRun = 0)
{
    /// <summary>Images per second at the median latency and the session's batch.</summary>
    public double ImagesPerSecond(int batch) => MedianMs > 0 ? batch * 1000.0 / MedianMs : 0;

    /// <summary>Runs <paramref name="warmup"/> untimed and <paramref name="iterations"/> timed inferences; <paramref name="progress"/> gets each finished index.</summary>
    public static LatencyStats Measure(InferenceSession session, float[] input, float[] output, int warmup, int iterations, Action<int>? progress = null) =>
        Measure(session, [input], [output], warmup, iterations, progress);

    /// <summary>Times <paramref name="iterations"/> runs of a session on all its inputs and outputs after <paramref name="warmup"/> untimed ones.</summary>
    public static LatencyStats Measure(InferenceSession session, float[][] inputs, float[][] outputs, int warmup, int iterations, Action<int>? progress = null)
    {
        ReadOnlyMemory<float>[] ins = Array.ConvertAll(inputs, a => (ReadOnlyMemory<float>)a);
        Memory<float>[] outs = Array.ConvertAll(outputs, a => (Memory<float>)a);
        bool single = inputs.Length == 1 && outputs.Length == 1;
        float[] input = inputs[0], output = outputs[0];
        void Run()
        {
            if (single)
            {
                session.Run(input, output);
            }
            else
            {
                session.Run(ins, outs);
            }
        }

        return Measure(Run, session.ResetProfile, warmup, iterations, progress);
    }

    /// <summary>
    /// Times <paramref name="iterations"/> calls of <paramref name="run"/> (one whole inference, on any component) after
    /// <paramref name="warmup"/> untimed ones, calling <paramref name="resetProfile"/> in between so a profile leaves the warm-up out.
    /// </summary>
    public static LatencyStats Measure(Action run, Action resetProfile, int warmup, int iterations, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(resetProfile);
        for (int i = 0; i < warmup; i++)
        {
            run();
        }

        resetProfile();
        var times = new double[iterations];
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            progress?.Invoke(i + 1);
        }

        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        double mean = times.Average();
        Array.Sort(times);
        return new LatencyStats(iterations, times[0], times[iterations / 2], times[Math.Min(iterations - 1, (int)Math.Ceiling(iterations * 0.9) - 1)], mean, (double)allocated / iterations);
    }

    /// <summary>A seeded uniform [0, 1) input (an image-like range), the same on every run.</summary>
    public static float[] RandomInput(long length, int seed = 1)
    {
        var rng = new Random(seed);
        var values = new float[length];
        for (long i = 0; i < values.LongLength; i++)
        {
            values[i] = (float)rng.NextDouble();
        }

        return values;
    }
}
