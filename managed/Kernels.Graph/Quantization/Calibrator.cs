using Kernels.Core;
using Kernels.Graph.Execution;

namespace Kernels.Graph.Quantization;

/// <summary>How a tensor's quantization range is chosen from what calibration saw.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,

    /// <summary>The <see cref="Calibrator.DefaultPercentile"/> (or given) percentile at each end: outliers are clipped.</summary>
    Percentile,

    /// <summary>The range (the min–max range shrunk by a common factor) with the least expected squared error: clipping plus rounding.</summary>
    Mse,
}

/// <summary>
/// Quantization parameters (uint8, per tensor) for the values of a float graph as the executor plans it (after
/// batch-norm folding and activation fusion, so each is the output of one executed layer), keyed by value name.
/// </summary>
public sealed class QuantizationTable
{
    private readonly Dictionary<string, QuantizationParameters> _parameters;

    /// <summary>A table from given parameters (each validated), with the real ranges they were made from when known.</summary>
    /// <exception cref="ArgumentException">Invalid parameters, naming the value.</exception>
    public QuantizationTable(
        IReadOnlyDictionary<string, QuantizationParameters> parameters, CalibrationMethod method, int samples,
        IReadOnlyDictionary<string, (float Min, float Max)>? ranges = null, IReadOnlyDictionary<string, float[]>? equalization = null)
    {
        Equalization = equalization is null
            ? new Dictionary<string, float[]>(StringComparer.Ordinal)
            : new Dictionary<string, float[]>(equalization, StringComparer.Ordinal);
        Ranges = ranges is null
            ? new Dictionary<string, (float, float)>(StringComparer.Ordinal)
            : new Dictionary<string, (float, float)>(ranges, StringComparer.Ordinal);
        ArgumentNullException.ThrowIfNull(parameters);
        foreach ((string name, QuantizationParameters q) in parameters)
        {
            q.Validate(name);
        }

        _parameters = new Dictionary<string, QuantizationParameters>(parameters, StringComparer.Ordinal);
        Method = method;
        Samples = samples;
    }

    /// <summary>Parameters per value name.</summary>
    public IReadOnlyDictionary<string, QuantizationParameters> Parameters => _parameters;

    /// <summary>
    /// The real range each value's parameters were chosen for (after the calibration method), where known: what a
    /// concat's shared parameters are made from, since a range of width 0 (a constant zero tensor) has no
    /// parameters that say so (its scale is 1).
    /// </summary>
    public IReadOnlyDictionary<string, (float Min, float Max)> Ranges { get; }

    /// <summary>The value's calibrated range, or the one its parameters cover.</summary>
    public (float Min, float Max) RangeOf(string value, QuantizationParameters parameters) =>
        Ranges.TryGetValue(value, out (float Min, float Max) r) ? r : (parameters.RealMin, parameters.RealMax);

    /// <summary>
    /// Per-channel scales of <see cref="ChannelEqualization"/> (producer node name → scales), applied to the graph
    /// before it was calibrated: a session planned with this table applies them too (the float network is unchanged).
    /// Empty when calibration did not equalize.
    /// </summary>
    public IReadOnlyDictionary<string, float[]> Equalization { get; }

    /// <summary>How the ranges were chosen.</summary>
    public CalibrationMethod Method { get; }

    /// <summary>Calibration inputs seen.</summary>
    public int Samples { get; }

    /// <summary>The parameters of a value, if calibrated.</summary>
    public bool TryGet(string value, out QuantizationParameters parameters) => _parameters.TryGetValue(value, out parameters);
}

/// <summary>
/// Runs a float graph on calibration inputs and chooses each value's uint8 quantization range by
/// <see cref="CalibrationMethod"/>: one pass for the extremes, and for percentile or MSE a second pass filling a
/// 2048-bin histogram per value between them.
/// </summary>
public static class Calibrator
{
    /// <summary>The percentile kept at each end by <see cref="CalibrationMethod.Percentile"/> unless another is given.</summary>
    public const double DefaultPercentile = 99.99;

    private const int Bins = 2048;

    /// <summary>
    /// Calibrates <paramref name="graph"/> on <paramref name="samples"/> (each: one array per graph input, NHWC, in input order).
    /// With <paramref name="equalization"/> (a strength in [0, 1]) the graph is first channel-equalized
    /// (<see cref="ChannelEqualization"/>) on the same samples, and the table carries the scales.
    /// </summary>
    /// <exception cref="ArgumentException">No samples, a sample with the wrong number or size of inputs (named), a percentile outside (50, 100], or a strength outside [0, 1].</exception>
    public static QuantizationTable Calibrate(
        NetworkGraph graph, IReadOnlyList<float[][]> samples, CalibrationMethod method = CalibrationMethod.MinMax,
        double percentile = DefaultPercentile, Action<int, int>? progress = null, double? equalization = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            throw new ArgumentException("Calibration needs at least one input sample.", nameof(samples));
        }

        if (!(percentile > 50 && percentile <= 100))
        {
            throw new ArgumentException($"The percentile must be in (50, 100]; it is {percentile}.", nameof(percentile));
        }

        for (int s = 0; s < samples.Count; s++)
        {
            if (samples[s].Length != graph.Inputs.Count)
            {
                throw new ArgumentException($"Calibration sample {s} has {samples[s].Length} inputs; graph '{graph.Name}' has {graph.Inputs.Count}.", nameof(samples));
            }

            for (int i = 0; i < graph.Inputs.Count; i++)
            {
                if (samples[s][i].LongLength != graph.Inputs[i].Shape.ElementCount)
                {
                    throw new ArgumentException(
                        $"Calibration sample {s}, input '{graph.Inputs[i].Name}': {samples[s][i].LongLength} values; {graph.Inputs[i].Shape} needs {graph.Inputs[i].Shape.ElementCount}.",
                        nameof(samples));
                }
            }
        }

        IReadOnlyDictionary<string, float[]>? scales = null;
        if (equalization is double strength)
        {
            scales = ChannelEqualization.Measure(graph, samples, strength);
            graph = ChannelEqualization.Apply(graph, scales);
        }

        using InferenceSession session = InferenceSession.Create(graph, new InferenceOptions());
        var extremes = new ExtremesObserver();
        int passes = method == CalibrationMethod.MinMax ? 1 : 2;
        for (int s = 0; s < samples.Count; s++)
        {
            session.RunObserved(samples[s].Select(a => (ReadOnlyMemory<float>)a).ToArray(), extremes);
            progress?.Invoke(s + 1, samples.Count * passes);
        }

        var ranges = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
        var chosen = new Dictionary<string, (float, float)>(StringComparer.Ordinal);
        if (method == CalibrationMethod.MinMax)
        {
            foreach ((string name, (float min, float max)) in extremes.Ranges)
            {
                ranges[name] = QuantizationParameters.FromRange(min, max);
                chosen[name] = (min, max);
            }

            return new QuantizationTable(ranges, method, samples.Count, chosen, scales);
        }

        var histograms = new HistogramObserver(extremes.Ranges);
        for (int s = 0; s < samples.Count; s++)
        {
            session.RunObserved(samples[s].Select(a => (ReadOnlyMemory<float>)a).ToArray(), histograms);
            progress?.Invoke(samples.Count + s + 1, samples.Count * passes);
        }

        foreach ((string name, (float min, float max)) in extremes.Ranges)
        {
            long[] counts = histograms.Counts[name];
            (double lo, double hi) = method == CalibrationMethod.Percentile
                ? PercentileRange(counts, min, max, percentile)
                : MseRange(counts, min, max);
            ranges[name] = QuantizationParameters.FromRange((float)lo, (float)hi);
            chosen[name] = ((float)lo, (float)hi);
        }

        return new QuantizationTable(ranges, method, samples.Count, chosen, scales);
    }

    /// <summary>The bin edges below which (100 − p) % and above which (100 − p) % of the values lie.</summary>
    internal static (double Lo, double Hi) PercentileRange(long[] counts, double min, double max, double percentile)
    {
        long total = counts.Sum();
        double width = (max - min) / counts.Length;
        if (total == 0 || width <= 0)
        {
            return (min, max);
        }

        double tail = total * (100 - percentile) / 100;
        long seen = 0;
        int lo = 0;
        while (lo < counts.Length - 1 && seen + counts[lo] <= tail)
        {
            seen += counts[lo++];
        }

        seen = 0;
        int hi = counts.Length - 1;
        while (hi > lo && seen + counts[hi] <= tail)
        {
            seen += counts[hi--];
        }

        return (min + (lo * width), min + ((hi + 1) * width));
    }

    /// <summary>
    /// The range [min·t, max·t], t ∈ (0, 1], with the least expected squared error over the histogram: values outside
    /// are clipped to the nearest end, values inside are off by a uniform rounding error (step² / 12).
    /// </summary>
    internal static (double Lo, double Hi) MseRange(long[] counts, double min, double max)
    {
        double width = (max - min) / counts.Length;
        if (width <= 0)
        {
            return (min, max);
        }

        double bestError = double.PositiveInfinity, bestT = 1;
        for (int step = 128; step >= 8; step--)
        {
            double t = step / 128.0;
            double lo = Math.Min(min * t, 0), hi = Math.Max(max * t, 0);
            double scale = (hi - lo) / 255;
            double rounding = scale * scale / 12, error = 0;
            for (int b = 0; b < counts.Length; b++)
            {
                if (counts[b] == 0)
                {
                    continue;
                }

                double x = min + ((b + 0.5) * width);
                double clip = x < lo ? lo - x : x > hi ? x - hi : 0;
                error += counts[b] * (clip == 0 ? rounding : clip * clip);
            }

            if (error < bestError)
            {
                bestError = error;
                bestT = t;
            }
        }

        return (min * bestT, max * bestT);
    }

    private sealed unsafe class ExtremesObserver : ITensorObserver
    {
        public Dictionary<string, (float Min, float Max)> Ranges { get; } = new(StringComparer.Ordinal);

        public void Observe(string value, TensorShape shape, float* data, int pixelStride)
        {
            float min = float.PositiveInfinity, max = float.NegativeInfinity;
            long pixels = (long)shape.N * shape.H * shape.W;
            for (long p = 0; p < pixels; p++)
            {
                float* row = data + (p * pixelStride);
                for (int c = 0; c < shape.C; c++)
                {
                    float v = row[c];
                    if (v < min)
                    {
                        min = v;
                    }

                    if (v > max)
                    {
                        max = v;
                    }
                }
            }

            if (!float.IsFinite(min) || !float.IsFinite(max))
            {
                throw new InvalidOperationException($"Calibration: value '{value}' holds a non-finite number (range [{min}, {max}]).");
            }

            Ranges[value] = Ranges.TryGetValue(value, out var r) ? (Math.Min(r.Min, min), Math.Max(r.Max, max)) : (min, max);
        }
    }

    private sealed unsafe class HistogramObserver(Dictionary<string, (float Min, float Max)> ranges) : ITensorObserver
    {
        public Dictionary<string, long[]> Counts { get; } = ranges.Keys.ToDictionary(k => k, _ => new long[Bins], StringComparer.Ordinal);

        public void Observe(string value, TensorShape shape, float* data, int pixelStride)
        {
            (float min, float max) = ranges[value];
            long[] counts = Counts[value];
            double scale = max > min ? Bins / ((double)max - min) : 0;
            long pixels = (long)shape.N * shape.H * shape.W;
            for (long p = 0; p < pixels; p++)
            {
                float* row = data + (p * pixelStride);
                for (int c = 0; c < shape.C; c++)
                {
                    counts[Math.Clamp((int)((row[c] - min) * scale), 0, Bins - 1)]++;
                }
            }
        }
    }
}
