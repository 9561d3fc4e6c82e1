using System.Diagnostics;
using Kernels.Graph.Execution;

namespace Kernels.Cli;

/// <summary>Latency statistics of repeated whole-network runs.</summary>
internal sealed record LatencyStats(int Iterations, double MinMs, double MedianMs, double P90Ms, double MeanMs)
{
    /// <summary>Images per second at the median latency and the session's batch.</summary>
    public double ImagesPerSecond(int batch) => MedianMs > 0 ? batch * 1000.0 / MedianMs : 0;

    /// <summary>Runs <paramref name="warmup"/> untimed and <paramref name="iterations"/> timed inferences; <paramref name="progress"/> gets each finished index.</summary>
    public static LatencyStats Measure(InferenceSession session, float[] input, float[] output, int warmup, int iterations, Action<int>? progress = null)
    {
        for (int i = 0; i < warmup; i++)
        {
            session.Run(input, output);
        }

        session.ResetProfile();
        var times = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.Run(input, output);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            progress?.Invoke(i + 1);
        }

        double mean = times.Average();
        Array.Sort(times);
        return new LatencyStats(iterations, times[0], times[iterations / 2], times[Math.Min(iterations - 1, (int)Math.Ceiling(iterations * 0.9) - 1)], mean);
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
