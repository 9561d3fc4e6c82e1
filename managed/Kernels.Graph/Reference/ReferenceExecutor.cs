using Kernels.Core;
using Kernels.Cpu.Layers;

namespace Kernels.Graph.Reference;

/// <summary>
/// Runs a graph in float64 with plain loops straight from each operator's definition (NHWC, OHWI weights): the
/// oracle that whole-network checks compare the optimized executor with. Deliberately shares no code with the
/// kernels (no im2col, no blocking, no vectors), so a bug there cannot hide here; speed is not a goal.
/// </summary>
public static partial class ReferenceExecutor
{
    /// <summary>Runs the graph and returns its outputs by name.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="inputs">One NHWC array per graph input, by name.</param>
    /// <exception cref="ArgumentException">An input is missing or has the wrong length.</exception>
    public static IReadOnlyDictionary<string, double[]> Run(NetworkGraph graph, IReadOnlyDictionary<string, float[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        IReadOnlyDictionary<string, double[]> all = RunAll(graph, inputs);
        return graph.Outputs.ToDictionary(v => v.Name, v => all[v.Name], StringComparer.Ordinal);
    }

    /// <summary>Runs the graph with one input and returns its first output.</summary>
    /// <exception cref="ArgumentException">The graph has more than one input, or the input has the wrong length.</exception>
    public static double[] Run(NetworkGraph graph, float[] input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Inputs.Count != 1)
        {
            throw new ArgumentException($"Graph '{graph.Name}' has {graph.Inputs.Count} inputs; pass them by name.", nameof(graph));
        }

        return RunAll(graph, new Dictionary<string, float[]> { [graph.Inputs[0].Name] = input })[graph.Outputs[0].Name];
    }

    /// <summary>Runs the graph and returns every value (inputs and each node's output) by name, for layer-by-layer comparison.</summary>
    /// <exception cref="ArgumentException">An input is missing or has the wrong length.</exception>
    public static IReadOnlyDictionary<string, double[]> RunAll(NetworkGraph graph, IReadOnlyDictionary<string, float[]> inputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(inputs);
        var values = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (Value input in graph.Inputs)
        {
            if (!inputs.TryGetValue(input.Name, out float[]? data))
            {
                throw new ArgumentException($"No data for graph input '{input.Name}' ({input.Shape}).", nameof(inputs));
            }

            if (data.LongLength != input.Shape.ElementCount)
            {
                throw new ArgumentException($"Input '{input.Name}' is {input.Shape} ({input.Shape.ElementCount} values); {data.LongLength} given.", nameof(inputs));
            }

            values[input.Name] = Array.ConvertAll(data, v => (double)v);
        }

        foreach (Node node in graph.Nodes)
        {
            double[][] x = node.Inputs.Select(v => values[v.Name]).ToArray();
            values[node.Output.Name] = Evaluate(node, x);
        }

        return values;
    }

    private static double[] Evaluate(Node node, double[][] x)
    {
        if (node.Kind == OperatorKind.ConstantTensor)
        {
            return Doubles(node, 0);
        }

        TensorShape s = node.Inputs[0].Shape;
        return node.Kind switch
        {
            OperatorKind.Mul => Mul(x[0], x[1]),
            OperatorKind.ChannelAffine => ChannelAffine(s.C, x[0], Doubles(node, 0), Doubles(node, 1)),
            OperatorKind.Reshape => (double[])x[0].Clone(),
            OperatorKind.Pad => Pad(node.GetAttributes<PadAttributes>(), s, x[0]),
            OperatorKind.Conv => Conv(node.GetAttributes<Conv2DDescriptor>(), x[0], Doubles(node, 0), node.Constants.Count > 1 ? Doubles(node, 1) : null),
            OperatorKind.BatchNormalization => BatchNorm(node, x[0], s.C),
            OperatorKind.Relu or OperatorKind.Relu6 or OperatorKind.LeakyRelu or OperatorKind.Clip =>
                Array.ConvertAll(x[0], v => Activate(node.GetAttributes<ActivationDescriptor>(), v)),
            OperatorKind.MaxPool or OperatorKind.AveragePool => Pool(node.GetAttributes<Pool2DDescriptor>(), x[0]),
            OperatorKind.GlobalAveragePool => GlobalAveragePool(s, x[0]),
            OperatorKind.Lrn => Lrn(node.GetAttributes<LrnDescriptor>(), s, x[0]),
            OperatorKind.Concat => Concat(node, x),
            OperatorKind.Add => Add(node.GetAttributes<ElementwiseAddDescriptor>().Activation, x[0], x[1]),
            OperatorKind.FullyConnected => FullyConnected(node.GetAttributes<FullyConnectedDescriptor>(), x[0], Doubles(node, 0), node.Constants.Count > 1 ? Doubles(node, 1) : null),
            OperatorKind.Softmax => Softmax(s, x[0]),
            OperatorKind.Dropout or OperatorKind.Flatten => (double[])x[0].Clone(),
            OperatorKind.Sigmoid => Array.ConvertAll(x[0], v => 1.0 / (1.0 + Math.Exp(-v))),
            OperatorKind.HardSigmoid => HardSigmoid(node.GetAttributes<HardSigmoidAttributes>(), x[0]),
            OperatorKind.QuantizeLinear or OperatorKind.DequantizeLinear or OperatorKind.Requantize => LinearQuantization(node, s.C, x[0]),
            _ => throw new NotSupportedException($"Node '{node.Name}': the reference executor has no {node.Kind}."),
        };
    }

    private static double[] Mul(double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = a[i] * b[i];
        }

        return y;
    }

    private static double[] ChannelAffine(int channels, double[] x, double[] scale, double[] shift)
    {
        var y = new double[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = (x[i] * scale[i % channels]) + shift[i % channels];
        }

        return y;
    }

    // Each output coordinate maps to an input coordinate per axis, or to none (constant mode's border).
    private static double[] Pad(PadAttributes p, TensorShape s, double[] x)
    {
        TensorShape o = p.Apply(s);
        var y = new double[o.ElementCount];
        static int Source(int i, int before, int size, PadMode mode)
        {
            int j = i - before;
            if (j >= 0 && j < size)
            {
                return j;
            }

            return mode switch
            {
                PadMode.Edge => Math.Clamp(j, 0, size - 1),
                PadMode.Reflect => j < 0 ? -j : (2 * (size - 1)) - j,
                _ => -1,
            };
        }

        for (int n = 0; n < o.N; n++)
        for (int h = 0; h < o.H; h++)
        for (int w = 0; w < o.W; w++)
        for (int c = 0; c < o.C; c++)
        {
            int sh = Source(h, p.Top, s.H, p.Mode), sw = Source(w, p.Left, s.W, p.Mode), sc = Source(c, p.ChannelsBefore, s.C, p.Mode);
            y[Index(n, h, w, c, o.H, o.W, o.C)] = sh < 0 || sw < 0 || sc < 0 ? p.Value : x[Index(n, sh, sw, sc, s.H, s.W, s.C)];
        }

        return y;
    }

    private static double[] HardSigmoid(HardSigmoidAttributes a, double[] x) =>
        Array.ConvertAll(x, v => Math.Max(0.0, Math.Min(1.0, ((double)a.Alpha * v) + a.Beta)));

    private static double[] Doubles(Node node, int constant) => Array.ConvertAll(node.Constants[constant].Data.ToArray(), v => (double)v);

    private static double Fused(FusedActivation a, double v) => a.Kind switch
    {
        Activation.None => v,
        Activation.Relu => Math.Max(v, 0),
        Activation.Relu6 => Math.Min(Math.Max(v, 0), 6),
        Activation.LeakyRelu => v >= 0 ? v : a.LeakySlope * v,
        _ => throw new NotSupportedException($"Unknown activation {a.Kind}."),
    };

    private static double Activate(ActivationDescriptor d, double v) => d.Kind switch
    {
        ActivationKind.Relu => Math.Max(v, 0),
        ActivationKind.Relu6 => Math.Min(Math.Max(v, 0), 6),
        ActivationKind.LeakyRelu => v >= 0 ? v : d.LeakySlope * v,
        ActivationKind.Clip => Math.Min(Math.Max(v, d.Min), d.Max),
        _ => throw new NotSupportedException($"Unknown activation {d.Kind}."),
    };

    private static double[] Conv(Conv2DDescriptor d, double[] x, double[] w, double[]? bias)
    {
        int oh = d.OutputHeight, ow = d.OutputWidth, oc = d.OutputChannels, icg = d.GroupInputChannels, ocg = d.GroupOutputChannels;
        var y = new double[(long)d.Batch * oh * ow * oc];
        for (int n = 0; n < d.Batch; n++)
        for (int p = 0; p < oh; p++)
        for (int q = 0; q < ow; q++)
        for (int o = 0; o < oc; o++)
        {
            int group = o / ocg;
            double sum = bias?[o] ?? 0;
            for (int kh = 0; kh < d.KernelHeight; kh++)
            {
                int ih = (p * d.StrideHeight) - d.PadTop + (kh * d.DilationHeight);
                if (ih < 0 || ih >= d.InputHeight)
                {
                    continue;
                }

                for (int kw = 0; kw < d.KernelWidth; kw++)
                {
                    int iw = (q * d.StrideWidth) - d.PadLeft + (kw * d.DilationWidth);
                    if (iw < 0 || iw >= d.InputWidth)
                    {
                        continue;
                    }

                    for (int i = 0; i < icg; i++)
                    {
                        double xv = x[Index(n, ih, iw, (group * icg) + i, d.InputHeight, d.InputWidth, d.InputChannels)];
                        double wv = w[(((((long)o * d.KernelHeight) + kh) * d.KernelWidth) + kw) * icg + i];
                        sum += xv * wv;
                    }
                }
            }

            y[Index(n, p, q, o, oh, ow, oc)] = Fused(d.Activation, sum);
        }

        return y;
    }

    private static double[] BatchNorm(Node node, double[] x, int channels)
    {
        double epsilon = node.GetAttributes<BatchNormAttributes>().Epsilon;
        double[] scale = Doubles(node, 0), beta = Doubles(node, 1), mean = Doubles(node, 2), variance = Doubles(node, 3);
        var y = new double[x.Length];
        for (long i = 0; i < x.LongLength; i++)
        {
            int c = (int)(i % channels);
            y[i] = ((x[i] - mean[c]) / Math.Sqrt(variance[c] + epsilon) * scale[c]) + beta[c];
        }

        return y;
    }

    private static double[] Pool(Pool2DDescriptor d, double[] x)
    {
        int oh = d.OutputHeight, ow = d.OutputWidth, c = d.Channels;
        var y = new double[(long)d.Batch * oh * ow * c];
        for (int n = 0; n < d.Batch; n++)
        for (int p = 0; p < oh; p++)
        for (int q = 0; q < ow; q++)
        for (int ch = 0; ch < c; ch++)
        {
            double max = double.NegativeInfinity, sum = 0;
            int real = 0, padded = 0;
            for (int kh = 0; kh < d.KernelHeight; kh++)
            for (int kw = 0; kw < d.KernelWidth; kw++)
            {
                int ih = (p * d.StrideHeight) - d.PadTop + kh;
                int iw = (q * d.StrideWidth) - d.PadLeft + kw;

                // Positions past the padded input (ceil mode's overhang) never count, not even with CountIncludePad.
                if (ih < -d.PadTop || ih >= d.InputHeight + d.PadBottom || iw < -d.PadLeft || iw >= d.InputWidth + d.PadRight)
                {
                    continue;
                }

                padded++;
                if (ih < 0 || ih >= d.InputHeight || iw < 0 || iw >= d.InputWidth)
                {
                    continue;
                }

                double v = x[Index(n, ih, iw, ch, d.InputHeight, d.InputWidth, c)];
                max = Math.Max(max, v);
                sum += v;
                real++;
            }

            y[Index(n, p, q, ch, oh, ow, c)] = d.Kind == PoolingKind.Max ? max : sum / (d.CountIncludePad ? padded : real);
        }

        return y;
    }

    private static double[] GlobalAveragePool(TensorShape s, double[] x)
    {
        var y = new double[(long)s.N * s.C];
        for (int n = 0; n < s.N; n++)
        for (int ch = 0; ch < s.C; ch++)
        {
            double sum = 0;
            for (int h = 0; h < s.H; h++)
            for (int w = 0; w < s.W; w++)
            {
                sum += x[Index(n, h, w, ch, s.H, s.W, s.C)];
            }

            y[((long)n * s.C) + ch] = sum / ((double)s.H * s.W);
        }

        return y;
    }

    private static double[] Lrn(LrnDescriptor d, TensorShape s, double[] x)
    {
        var y = new double[x.Length];
        int before = (d.Size - 1) / 2, after = d.Size - 1 - before;
        for (long pixel = 0; pixel < (long)s.N * s.H * s.W; pixel++)
        {
            long row = pixel * s.C;
            for (int ch = 0; ch < s.C; ch++)
            {
                double squares = 0;
                for (int i = Math.Max(0, ch - before); i <= Math.Min(s.C - 1, ch + after); i++)
                {
                    squares += x[row + i] * x[row + i];
                }

                y[row + ch] = x[row + ch] / Math.Pow(d.Bias + (d.Alpha / d.Size * squares), d.Beta);
            }
        }

        return y;
    }

    private static double[] Concat(Node node, double[][] x)
    {
        TensorShape o = node.Output.Shape;
        var y = new double[o.ElementCount];
        long pixels = (long)o.N * o.H * o.W;
        int offset = 0;
        for (int k = 0; k < x.Length; k++)
        {
            int c = node.Inputs[k].Shape.C;
            for (long p = 0; p < pixels; p++)
            {
                Array.Copy(x[k], p * c, y, (p * o.C) + offset, c);
            }

            offset += c;
        }

        return y;
    }

    private static double[] Add(FusedActivation activation, double[] a, double[] b)
    {
        var y = new double[a.Length];
        for (long i = 0; i < a.LongLength; i++)
        {
            y[i] = Fused(activation, a[i] + b[i]);
        }

        return y;
    }

    private static double[] FullyConnected(FullyConnectedDescriptor d, double[] x, double[] w, double[]? bias)
    {
        var y = new double[(long)d.Batch * d.OutputChannels];
        for (int n = 0; n < d.Batch; n++)
        for (int o = 0; o < d.OutputChannels; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int k = 0; k < d.InputChannels; k++)
            {
                sum += x[((long)n * d.InputChannels) + k] * w[((long)o * d.InputChannels) + k];
            }

            y[((long)n * d.OutputChannels) + o] = Fused(d.Activation, sum);
        }

        return y;
    }

    private static double[] Softmax(TensorShape s, double[] x)
    {
        var y = new double[x.Length];
        for (long row = 0; row < x.LongLength; row += s.C)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < s.C; c++)
            {
                max = Math.Max(max, x[row + c]);
            }

            double sum = 0;
            for (int c = 0; c < s.C; c++)
            {
                y[row + c] = Math.Exp(x[row + c] - max);
                sum += y[row + c];
            }

            for (int c = 0; c < s.C; c++)
            {
                y[row + c] /= sum;
            }
        }

        return y;
    }

    private static long Index(int n, int h, int w, int c, int height, int width, int channels) =>
        ((((((long)n * height) + h) * width) + w) * channels) + c;
}
