using System.Diagnostics;
using System.Text.Json;
using Kernels.Core;
using Kernels.Graph.Execution;

namespace Kernels.Graph.Quantization;

/// <summary>How the tuner measures the error of a quantized network against the float one on the validation inputs.</summary>
public enum QuantizationErrorMetric
{
    /// <summary>1 − cosine similarity of the outputs (the worst output of a multi-output network), averaged over the validation inputs.</summary>
    CosineDistance,

    /// <summary>The fraction of validation inputs whose top-1 class (of any output) differs from the float network's.</summary>
    Top1Disagreement,
}

/// <summary>One layer of a tuning run: its time in float and in 8-bit, and the error when it alone is 8-bit.</summary>
/// <param name="Name">The layer (the executed step's node name).</param>
/// <param name="Operator">Its operator (with fused ones).</param>
/// <param name="FloatMs">Mean ms in the all-float session.</param>
/// <param name="Int8Ms">Mean ms in the all-8-bit session.</param>
/// <param name="ErrorAlone">The network's error with only this layer 8-bit.</param>
/// <param name="Int8">Chosen to run 8-bit.</param>
public sealed record LayerTuning(string Name, string Operator, double FloatMs, double Int8Ms, double ErrorAlone, bool Int8)
{
    /// <summary>Time saved by running the layer 8-bit (its conversions not included).</summary>
    public double SavedMs => FloatMs - Int8Ms;
}

/// <summary>The tuner's answer: which layers stay float, the parameters, and what was measured.</summary>
/// <param name="Table">The calibration.</param>
/// <param name="FloatLayers">Layers kept in float32.</param>
/// <param name="Metric">The error measure.</param>
/// <param name="Budget">The error allowed.</param>
/// <param name="Error">The chosen plan's error on the validation inputs.</param>
/// <param name="FloatMs">Median ms of the all-float network.</param>
/// <param name="PlanMs">Median ms of the chosen plan.</param>
/// <param name="Layers">Per quantizable layer, in network order.</param>
public sealed record QuantizationPlan(
    QuantizationTable Table, IReadOnlySet<string> FloatLayers, QuantizationErrorMetric Metric, double Budget, double Error, double FloatMs, double PlanMs,
    IReadOnlyList<LayerTuning> Layers)
{
    /// <summary>Writes the plan as JSON (what <c>kernels run --quant-plan</c> reads).</summary>
    public void Save(string path)
    {
        using FileStream stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteNumber("version", 1);
        json.WriteString("metric", Metric == QuantizationErrorMetric.CosineDistance ? "cosine" : "top1");
        json.WriteNumber("budget", Budget);
        json.WriteNumber("error", Error);
        json.WriteNumber("floatMs", FloatMs);
        json.WriteNumber("planMs", PlanMs);
        json.WriteString("calibrationMethod", Table.Method.ToString());
        json.WriteNumber("calibrationSamples", Table.Samples);
        json.WriteStartArray("floatLayers");
        foreach (string name in FloatLayers.Order(StringComparer.Ordinal))
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteStartObject("tensors");
        foreach ((string name, QuantizationParameters q) in Table.Parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            json.WriteStartObject(name);
            json.WriteNumber("scale", q.Scale);
            json.WriteNumber("zeroPoint", q.ZeroPoint);
            if (Table.Ranges.TryGetValue(name, out (float Min, float Max) range))
            {
                json.WriteNumber("min", range.Min);
                json.WriteNumber("max", range.Max);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        if (Table.Equalization.Count > 0)
        {
            json.WriteStartObject("equalization");
            foreach ((string name, float[] scales) in Table.Equalization.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                json.WriteStartArray(name);
                foreach (float v in scales)
                {
                    json.WriteNumberValue(v);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        json.WriteStartArray("layers");
        foreach (LayerTuning l in Layers)
        {
            json.WriteStartObject();
            json.WriteString("name", l.Name);
            json.WriteString("operator", l.Operator);
            json.WriteNumber("floatMs", l.FloatMs);
            json.WriteNumber("int8Ms", l.Int8Ms);
            json.WriteNumber("errorAlone", l.ErrorAlone);
            json.WriteString("precision", l.Int8 ? "int8" : "fp32");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Reads a plan written by <see cref="Save"/>: the table and the float layers (the measurements are not needed to run it).</summary>
    /// <exception cref="InvalidDataException">The file is not such a plan; the message names what is wrong.</exception>
    public static (QuantizationTable Table, IReadOnlySet<string> FloatLayers) Load(string path)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = doc.RootElement;
            if (!root.TryGetProperty("version", out JsonElement version) || version.GetInt32() != 1)
            {
                throw new InvalidDataException($"{path}: not a version-1 quantization plan (no version 1 field).");
            }

            var floats = root.GetProperty("floatLayers").EnumerateArray().Select(e => e.GetString() ?? throw new InvalidDataException($"{path}: a floatLayers entry is null.")).ToHashSet(StringComparer.Ordinal);
            var tensors = new Dictionary<string, QuantizationParameters>(StringComparer.Ordinal);
            var ranges = new Dictionary<string, (float, float)>(StringComparer.Ordinal);
            foreach (JsonProperty t in root.GetProperty("tensors").EnumerateObject())
            {
                tensors[t.Name] = new QuantizationParameters(t.Value.GetProperty("scale").GetSingle(), t.Value.GetProperty("zeroPoint").GetInt32());
                if (t.Value.TryGetProperty("min", out JsonElement min) && t.Value.TryGetProperty("max", out JsonElement max))
                {
                    ranges[t.Name] = (min.GetSingle(), max.GetSingle());
                }
            }

            var equalization = new Dictionary<string, float[]>(StringComparer.Ordinal);
            if (root.TryGetProperty("equalization", out JsonElement scales))
            {
                foreach (JsonProperty e in scales.EnumerateObject())
                {
                    equalization[e.Name] = e.Value.EnumerateArray().Select(v => v.GetSingle()).ToArray();
                }
            }

            CalibrationMethod method = Enum.TryParse(root.GetProperty("calibrationMethod").GetString(), out CalibrationMethod m) ? m : CalibrationMethod.MinMax;
            return (new QuantizationTable(tensors, method, root.GetProperty("calibrationSamples").GetInt32(), ranges, equalization), floats);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: not a valid quantization plan: {e.Message}", e);
        }
    }
}

/// <summary>
/// Chooses which layers run 8-bit on this device: measures every quantizable layer's time in float and in 8-bit
/// and the network's error when that layer alone is 8-bit, then starts from all layers 8-bit and returns layers to
/// float (the worst error per millisecond saved first) until the whole network's measured error on the validation
/// inputs is within the budget. A mixed plan no faster than the float network (its conversions cost more than its
/// 8-bit layers save) becomes all float.
/// </summary>
public static class QuantizationTuner
{
    /// <summary>Tunes <paramref name="graph"/> (float32) with calibration <paramref name="table"/> on <paramref name="validation"/> inputs.</summary>
    /// <exception cref="ArgumentException">A budget outside (0, 1), no validation inputs, or inputs of the wrong size.</exception>
    public static QuantizationPlan Tune(
        NetworkGraph graph, QuantizationTable table, IReadOnlyList<float[]> validation, double budget,
        QuantizationErrorMetric metric = QuantizationErrorMetric.CosineDistance, int threads = 1, int timingRuns = 10, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(validation);
        if (!(budget > 0 && budget < 1))
        {
            throw new ArgumentException($"The error budget must be in (0, 1); it is {budget}.", nameof(budget));
        }

        if (validation.Count == 0)
        {
            throw new ArgumentException("Tuning needs at least one validation input.", nameof(validation));
        }

        if (graph.Inputs.Count != 1)
        {
            throw new ArgumentException($"Tuning runs single-input networks; '{graph.Name}' has {graph.Inputs.Count} inputs.", nameof(graph));
        }

        long size = graph.Inputs[0].Shape.ElementCount;
        for (int i = 0; i < validation.Count; i++)
        {
            if (validation[i].LongLength != size)
            {
                throw new ArgumentException($"Validation input {i} has {validation[i].LongLength} values; {graph.Inputs[0].Shape} needs {size}.", nameof(validation));
            }
        }

        var floatOptions = new InferenceOptions { Threads = threads, Profile = true };
        using var reference = InferenceSession.Create(graph, floatOptions);
        float[][][] expected = validation.Select(x => RunAll(reference, x)).ToArray();
        (double floatMs, IReadOnlyList<LayerProfile> floatLayers) = Time(reference, validation[0], timingRuns);

        double Error(IReadOnlySet<string> keepFloat, out double medianMs, out IReadOnlyList<LayerProfile> profile)
        {
            using var session = InferenceSession.Create(graph, new InferenceOptions { Threads = threads, Profile = true, Quantization = table, FloatLayers = keepFloat });
            double error = Measure(session, validation, expected, metric);
            (medianMs, profile) = Time(session, validation[0], timingRuns);
            return error;
        }

        progress?.Invoke($"all layers 8-bit...");
        var none = new HashSet<string>(StringComparer.Ordinal);
        double allError = Error(none, out double allMs, out IReadOnlyList<LayerProfile> int8Layers);
        var quantizable = int8Layers.Where(l => l.Quantized && !l.IsConversion).ToList();
        var floatTime = floatLayers.GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.Sum(l => l.Milliseconds), StringComparer.Ordinal);
        var tunings = new List<LayerTuning>();
        string[] names = quantizable.Select(l => l.Name).ToArray();
        for (int i = 0; i < quantizable.Count; i++)
        {
            LayerProfile l = quantizable[i];
            progress?.Invoke($"layer {i + 1}/{quantizable.Count} {l.Name} alone 8-bit...");
            var others = new HashSet<string>(names.Where(n => n != l.Name), StringComparer.Ordinal);
            using var session = InferenceSession.Create(graph, new InferenceOptions { Threads = threads, Quantization = table, FloatLayers = others });
            double alone = Measure(session, validation, expected, metric);
            tunings.Add(new LayerTuning(l.Name, l.Operator, floatTime.GetValueOrDefault(l.Name), l.Milliseconds, alone, Int8: true));
        }

        // From all 8-bit, return the layer with the most error per millisecond saved to float until within budget.
        var keep = new HashSet<string>(StringComparer.Ordinal);
        double error = allError, planMs = allMs;
        var order = tunings.OrderByDescending(t => t.ErrorAlone / Math.Max(t.SavedMs, 1e-6)).ToList();
        foreach (LayerTuning t in order)
        {
            if (error <= budget)
            {
                break;
            }

            keep.Add(t.Name);
            progress?.Invoke($"error {error:G3} over budget {budget:G3}: {t.Name} back to float...");
            error = Error(keep, out planMs, out _);
        }

        // Conversions between float and 8-bit regions cost time of their own: a plan slower than the float network
        // is worth nothing, so then every layer stays float.
        if (planMs >= floatMs && keep.Count > 0)
        {
            progress?.Invoke($"the mixed plan ({planMs:0.00} ms) is not faster than float ({floatMs:0.00} ms): all layers float");
            keep = new HashSet<string>(names, StringComparer.Ordinal);
            error = 0;
            planMs = floatMs;
        }

        var layers = tunings.Select(t => t with { Int8 = !keep.Contains(t.Name) }).ToList();
        return new QuantizationPlan(table, keep, metric, budget, error, floatMs, planMs, layers);
    }

    /// <summary>
    /// The error over the validation inputs: per input, the worst output's cosine distance (or whether any output's
    /// top-1 differs), averaged over the inputs.
    /// </summary>
    private static double Measure(InferenceSession session, IReadOnlyList<float[]> inputs, float[][][] expected, QuantizationErrorMetric metric)
    {
        double total = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            float[][] y = RunAll(session, inputs[i]);
            double worst = 0;
            for (int k = 0; k < y.Length; k++)
            {
                worst = Math.Max(worst, metric == QuantizationErrorMetric.CosineDistance
                    ? 1 - Cosine(y[k], expected[i][k])
                    : (ArgMax(y[k]) == ArgMax(expected[i][k]) ? 0 : 1));
            }

            total += worst;
        }

        return total / inputs.Count;
    }

    private static float[][] RunAll(InferenceSession session, float[] input)
    {
        float[][] outputs = session.OutputShapes.Select(s => new float[s.ElementCount]).ToArray();
        session.Run([input], outputs.Select(o => (Memory<float>)o).ToArray());
        return outputs;
    }

    private static (double MedianMs, IReadOnlyList<LayerProfile> Profile) Time(InferenceSession session, float[] input, int runs)
    {
        ReadOnlyMemory<float>[] inputs = [input];
        Memory<float>[] outputs = session.OutputShapes.Select(s => (Memory<float>)new float[s.ElementCount]).ToArray();
        for (int i = 0; i < 3; i++)
        {
            session.Run(inputs, outputs);
        }

        session.ResetProfile();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            session.Run(inputs, outputs);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        Array.Sort(times);
        return (times[runs / 2], session.Profile);
    }

    /// <summary>Cosine similarity in float64 (1 when both are zero, 0 when only one is).</summary>
    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }

        return na == 0 || nb == 0 ? (na == nb ? 1 : 0) : dot / Math.Sqrt(na * nb);
    }

    private static int ArgMax(float[] a)
    {
        int best = 0;
        for (int i = 1; i < a.Length; i++)
        {
            if (a[i] > a[best])
            {
                best = i;
            }
        }

        return best;
    }
}
