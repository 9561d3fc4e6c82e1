using Kernels.Core;
using Kernels.Graph.Execution;

namespace Kernels.Graph.Quantization;

/// <summary>
/// Activation-aware channel equalization before 8-bit calibration. A convolution whose output (no activation, or
/// ReLU, which commutes with a positive scale) feeds only one ungrouped convolution can scale its output channel c by
/// s_c (weights and bias of c times s_c) while the reader divides its input channel c by s_c: the float network is
/// unchanged, but the per-tensor 8-bit quantization of the intermediate tensor sees channels of more equal range.
/// That matters after BN-free depthwise layers (BlazeFace, MobileNet-style blocks), where a few channels span
/// hundreds of units and the rest a few, so that one scale per tensor leaves the small channels a handful of steps.
/// <para>
/// s_c = (R / r_c)^strength, r_c the channel's largest |x| over the calibration inputs, R the tensor's; strength 0
/// changes nothing, 1 gives every channel the range R (the reader's weights of small channels then shrink, which its
/// per-output-channel weight quantization pays for), so the default is in between. Scales are capped at
/// <see cref="MaxScale"/>; a channel that was always 0 keeps 1.
/// </para>
/// </summary>
public static class ChannelEqualization
{
    /// <summary>The equalization strength used unless another is given.</summary>
    public const double DefaultStrength = 0.5;

    /// <summary>Largest scale given to one channel.</summary>
    public const float MaxScale = 1024f;

    /// <summary>
    /// The (producer, reader) pairs that can be equalized: a Conv with no activation or ReLU whose output is read by
    /// exactly one node, an ungrouped Conv (as its data input), and is no graph output.
    /// </summary>
    public static IReadOnlyList<(Node Producer, Node Reader)> Pairs(NetworkGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var readers = new Dictionary<Value, List<Node>>(ReferenceEqualityComparer.Instance);
        foreach (Node n in graph.Nodes)
        {
            foreach (Value v in n.Inputs)
            {
                if (!readers.TryGetValue(v, out List<Node>? list))
                {
                    readers[v] = list = [];
                }

                list.Add(n);
            }
        }

        var pairs = new List<(Node, Node)>();
        foreach (Node d in graph.Nodes)
        {
            if (d.Kind != OperatorKind.Conv || d.Attributes is not Conv2DDescriptor dd || dd.Activation.Kind is not (Activation.None or Activation.Relu)
                || d.Constants.Count == 0 || d.Constants[0].Role != ConstantRole.Weights || graph.Outputs.Any(o => ReferenceEquals(o, d.Output))
                || !readers.TryGetValue(d.Output, out List<Node>? r) || r.Count != 1)
            {
                continue;
            }

            Node p = r[0];
            if (p.Kind == OperatorKind.Conv && p.Attributes is Conv2DDescriptor pd && pd.Groups == 1 && p.Inputs.Count == 1
                && ReferenceEquals(p.Inputs[0], d.Output) && p.Constants.Count > 0 && p.Constants[0].Role == ConstantRole.Weights && pd.InputChannels == dd.OutputChannels)
            {
                pairs.Add((d, p));
            }
        }

        return pairs;
    }

    /// <summary>
    /// Runs the float graph on the samples and returns the per-channel scales of every pair's producer, keyed by the
    /// producer's name (producers whose channels are already equal within 1 % are left out).
    /// </summary>
    /// <exception cref="ArgumentException">No samples, or a strength outside [0, 1].</exception>
    public static IReadOnlyDictionary<string, float[]> Measure(NetworkGraph graph, IReadOnlyList<float[][]> samples, double strength = DefaultStrength)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(samples);
        if (samples.Count == 0)
        {
            throw new ArgumentException("Channel equalization needs at least one input sample.", nameof(samples));
        }

        if (!(strength >= 0 && strength <= 1))
        {
            throw new ArgumentException($"The equalization strength must be in [0, 1]; it is {strength}.", nameof(strength));
        }

        var pairs = Pairs(graph);
        var scales = new Dictionary<string, float[]>(StringComparer.Ordinal);
        if (pairs.Count == 0)
        {
            return scales;
        }

        var observer = new ChannelMaxima(pairs.Select(p => p.Producer.Output.Name).ToHashSet(StringComparer.Ordinal));
        using (InferenceSession session = InferenceSession.Create(graph, new InferenceOptions()))
        {
            foreach (float[][] sample in samples)
            {
                session.RunObserved(sample.Select(a => (ReadOnlyMemory<float>)a).ToArray(), observer);
            }
        }

        foreach ((Node d, _) in pairs)
        {
            if (!observer.Maxima.TryGetValue(d.Output.Name, out float[]? r))
            {
                continue;
            }

            float whole = r.Max();
            if (whole <= 0 || r.All(v => v >= 0.99f * whole))
            {
                continue;
            }

            scales[d.Name] = r.Select(v => v > 0 ? (float)Math.Min(MaxScale, Math.Pow(whole / v, strength)) : 1f).ToArray();
        }

        return scales;
    }

    /// <summary>
    /// A copy of the graph with the scales applied: each named producer's output channel c (weights and bias) times
    /// s_c, its reader's input channel c divided by s_c. Values and other nodes are shared with the original.
    /// </summary>
    /// <exception cref="ArgumentException">A name that is not an equalizable producer, or a scale count that is not its channel count, or a scale that is not positive and finite.</exception>
    public static NetworkGraph Apply(NetworkGraph graph, IReadOnlyDictionary<string, float[]> scales)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(scales);
        if (scales.Count == 0)
        {
            return graph;
        }

        var pairs = Pairs(graph).ToDictionary(p => p.Producer.Name, StringComparer.Ordinal);
        var replaced = new Dictionary<Node, Node>(ReferenceEqualityComparer.Instance);
        foreach ((string name, float[] s) in scales)
        {
            if (!pairs.TryGetValue(name, out (Node Producer, Node Reader) pair))
            {
                throw new ArgumentException($"Channel equalization: '{name}' is not a convolution whose output only an ungrouped convolution reads.", nameof(scales));
            }

            var dd = (Conv2DDescriptor)pair.Producer.Attributes!;
            if (s.Length != dd.OutputChannels || Array.Exists(s, v => !float.IsFinite(v) || v <= 0))
            {
                throw new ArgumentException($"Channel equalization of '{name}': {s.Length} scales for {dd.OutputChannels} channels, each must be positive and finite.", nameof(scales));
            }

            replaced[pair.Producer] = Scale(pair.Producer, s, output: true);
            replaced[pair.Reader] = Scale(replaced.GetValueOrDefault(pair.Reader, pair.Reader), s, output: false);
        }

        return new NetworkGraph(graph.Name, graph.Inputs, graph.Outputs, graph.Nodes.Select(n => replaced.GetValueOrDefault(n, n)).ToList());
    }

    /// <summary>Scales a Conv's output channels (weights OHWI along O, and the bias) by s, or divides its input channels (along I) by s.</summary>
    private static Node Scale(Node n, float[] s, bool output)
    {
        Constant w = n.Constants[0];
        float[] data = w.Data.ToArray();
        int channels = output ? w.Dimensions[0] : w.Dimensions[^1];
        long inner = data.LongLength / w.Dimensions[0];
        for (long i = 0; i < data.LongLength; i++)
        {
            int c = output ? (int)(i / inner) : (int)(i % channels);
            data[i] = output ? data[i] * s[c] : data[i] / s[c];
        }

        var constants = new List<Constant> { new(w.Name, w.Role, [.. w.Dimensions], data) };
        for (int k = 1; k < n.Constants.Count; k++)
        {
            Constant b = n.Constants[k];
            if (output && b.Role == ConstantRole.Bias && b.ElementCount == s.Length)
            {
                float[] bias = b.Data.ToArray();
                for (int c = 0; c < bias.Length; c++)
                {
                    bias[c] *= s[c];
                }

                constants.Add(new Constant(b.Name, b.Role, [.. b.Dimensions], bias));
            }
            else
            {
                constants.Add(b);
            }
        }

        return new Node(n.Name, n.Kind, n.Inputs, constants, n.Attributes, n.Output);
    }

    /// <summary>Largest |x| per channel of the named values.</summary>
    private sealed unsafe class ChannelMaxima(HashSet<string> names) : ITensorObserver
    {
        public Dictionary<string, float[]> Maxima { get; } = new(StringComparer.Ordinal);

        public void Observe(string value, TensorShape shape, float* data, int pixelStride)
        {
            if (!names.Contains(value))
            {
                return;
            }

            if (!Maxima.TryGetValue(value, out float[]? m))
            {
                Maxima[value] = m = new float[shape.C];
            }

            long pixels = (long)shape.N * shape.H * shape.W;
            for (long p = 0; p < pixels; p++)
            {
                float* x = data + (p * pixelStride);
                for (int c = 0; c < shape.C; c++)
                {
                    m[c] = Math.Max(m[c], Math.Abs(x[c]));
                }
            }
        }
    }
}
