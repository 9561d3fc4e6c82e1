using System.Diagnostics;

namespace Kernels.Cpu.Diagnostics;

/// <summary>Per-call times of a repeated measurement.</summary>
public sealed record TimingResult(double MedianMs, double BestMs, int Repetitions)
{
    /// <summary>GFLOP/s at the median time for a call that performs <paramref name="flops"/>.</summary>
    public double GflopsAtMedian(double flops) => flops / MedianMs / 1e6;
}

/// <summary>
/// Times calls such as a GEMM: warm-up, then repetitions until each call has run for a minimum time.
/// Two calls are timed interleaved so that both see the same machine (clock, placement of the vCPUs
/// on a shared host, other load): comparing medians from one run is fairer than from two runs.
/// </summary>
public static class GemmTimer
{
    private static readonly TimeSpan DefaultMinDuration = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan WarmUpDuration = TimeSpan.FromMilliseconds(100);
    private const int MinRepetitions = 5;
    private const int MaxRepetitions = 100_000;

    /// <summary>Times <paramref name="call"/> alone.</summary>
    public static TimingResult Measure(Action call, TimeSpan? minDuration = null)
        => MeasureInterleaved([call], minDuration)[0];

    /// <summary>
    /// Times every call, alternating between them, until each has run at least
    /// <paramref name="minDuration"/> (default 0.5 s) and <c>5</c> times (at most 100 000 times).
    /// </summary>
    public static TimingResult[] MeasureInterleaved(IReadOnlyList<Action> calls, TimeSpan? minDuration = null)
    {
        ArgumentNullException.ThrowIfNull(calls);
        if (calls.Count == 0)
        {
            throw new ArgumentException("At least one call is needed.", nameof(calls));
        }

        TimeSpan min = minDuration ?? DefaultMinDuration;
        if (min < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minDuration), minDuration, "minDuration must not be negative.");
        }

        // Warm-up: JIT tiering, page faults in the outputs, packing buffers, thread wake-up.
        long warmUpStart = Stopwatch.GetTimestamp();
        for (int round = 0; round < 2 || Stopwatch.GetElapsedTime(warmUpStart) < WarmUpDuration; round++)
        {
            foreach (Action call in calls)
            {
                call();
            }
        }

        var samples = new List<double>[calls.Count];
        var elapsed = new double[calls.Count];
        for (int i = 0; i < calls.Count; i++)
        {
            samples[i] = new List<double>(1024);
        }

        while (true)
        {
            bool done = true;
            for (int i = 0; i < calls.Count; i++)
            {
                done &= samples[i].Count >= MaxRepetitions
                    || (samples[i].Count >= MinRepetitions && elapsed[i] >= min.TotalMilliseconds);
            }

            if (done)
            {
                break;
            }

            for (int i = 0; i < calls.Count; i++)
            {
                long start = Stopwatch.GetTimestamp();
                calls[i]();
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                samples[i].Add(ms);
                elapsed[i] += ms;
            }
        }

        var results = new TimingResult[calls.Count];
        for (int i = 0; i < calls.Count; i++)
        {
            List<double> times = samples[i];
            times.Sort();
            int count = times.Count;
            double median = count % 2 == 1 ? times[count / 2] : (times[(count / 2) - 1] + times[count / 2]) / 2;
            results[i] = new TimingResult(median, times[0], count);
        }

        return results;
    }
}
