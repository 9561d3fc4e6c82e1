using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.Graph.Quantization;

namespace Kernels.Graph.Onnx;

/// <summary>
/// Writes a graph as an ONNX model (opset 13) with NCHW semantics, as other runtimes expect it: inputs and spatial
/// tensors N×C×H×W, convolution weights OIHW, fully connected layers as Gemm (transB = 1) behind a Flatten when their
/// input is spatial (the weights' columns reordered from the IR's H·W·C order to ONNX's C·H·W), Relu6 as Clip(0, 6).
/// With a <see cref="QuantizationTable"/> the model is a QDQ model: every value the table annotates (the output of a
/// node or a graph input) is followed by QuantizeLinear → DequantizeLinear (uint8, per tensor) that its consumers
/// read, and convolution and Gemm weights are stored as int8 per output channel (symmetric, scale max|w|/127) behind
/// DequantizeLinear (axis 0); biases stay float. Values that only alias another (Flatten, Reshape, Dropout outputs,
/// which the executor does not plan) are not annotated. <see cref="OnnxImporter"/> reads such a model back into the same
/// graph and the same table.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The default-domain opset the exported model imports.</summary>
    public const long Opset = 13;

    /// <summary>The ONNX IR version that goes with opset 13.</summary>
    public const long IrVersion = 7;

    /// <summary>Writes the model to <paramref name="path"/>.</summary>
    /// <exception cref="NotSupportedException">The graph has an operator or a layout with no ONNX form here; the message names the node.</exception>
    public static void Export(NetworkGraph graph, QuantizationTable? table, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        File.WriteAllBytes(path, ToBytes(graph, table));
    }

    /// <summary>The serialized ModelProto.</summary>
    /// <exception cref="NotSupportedException">The graph has an operator or a layout with no ONNX form here; the message names the node.</exception>
    public static byte[] ToBytes(NetworkGraph graph, QuantizationTable? table)
    {
        ArgumentNullException.ThrowIfNull(graph);

        // A table calibrated on a channel-equalized graph describes that graph's values: export its weights.
        if (table is { Equalization.Count: > 0 })
        {
            graph = ChannelEqualization.Apply(graph, table.Equalization);
        }

        return new Writer(graph, table).Write();
    }

    /// <summary>
    /// How an IR value (NHWC buffer) is an ONNX tensor: spatial N×C×H×W, or a matrix N×K whose ONNX column j is the
    /// IR's column <see cref="Columns"/>[j] (null: the same column).
    /// </summary>
    private sealed record Form(string Name, bool Spatial, int[]? Columns);

    private sealed class Writer(NetworkGraph graph, QuantizationTable? table)
    {
        private readonly List<OnnxProtoMessage> _nodes = [];
        private readonly List<OnnxProtoMessage> _initializers = [];
        private readonly Dictionary<Value, Form> _forms = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<Value, Form> _matrices = new(ReferenceEqualityComparer.Instance);
        private readonly HashSet<string> _names = new(StringComparer.Ordinal);
        private Node? _node;

        public byte[] Write()
        {
            foreach (Value v in graph.Inputs)
            {
                _names.Add(v.Name);
            }

            foreach (Node n in graph.Nodes)
            {
                _names.Add(n.Output.Name);
            }

            var inputs = new List<OnnxProtoMessage>();
            foreach (Value v in graph.Inputs)
            {
                TensorShape s = v.Shape;
                inputs.Add(OnnxProto.ValueInfo(v.Name, OnnxDataType.Float, [s.N, s.C, s.H, s.W]));
                Annotate(v, new Form(v.Name, true, null));
            }

            foreach (Node n in graph.Nodes)
            {
                _node = n;
                Form y = WriteNode(n);
                Annotate(n.Output, y, n.Kind is OperatorKind.Flatten or OperatorKind.Reshape or OperatorKind.Dropout);
            }

            var outputs = new List<OnnxProtoMessage>();
            foreach (Value v in graph.Outputs)
            {
                // The float value itself (before any QDQ pair that follows it).
                Form f = _forms[v];
                TensorShape s = v.Shape;
                outputs.Add(OnnxProto.ValueInfo(v.Name, OnnxDataType.Float, f.Spatial ? [s.N, s.C, s.H, s.W] : [s.N, s.C]));
            }

            OnnxProtoMessage g = OnnxProto.Graph(graph.Name, _nodes, _initializers, inputs, outputs);
            return OnnxProto.Model(g, IrVersion, Opset, "Kernels");
        }

        private NotSupportedException Unsupported(string why) =>
            new($"Node '{_node?.Name}' ({_node?.Kind}): {why}; the ONNX exporter cannot write it.");

        private string Fresh(string stem)
        {
            string name = stem;
            for (int k = 1; !_names.Add(name); k++)
            {
                name = $"{stem}_{k}";
            }

            return name;
        }

        private void Emit(string op, IEnumerable<string> inputs, string output, params OnnxProtoMessage[] attributes) =>
            _nodes.Add(OnnxProto.Node(output, op, inputs, [output], attributes));

        /// <summary>Records the value's form; with a table entry, a QDQ pair follows it and its consumers read the pair's output.</summary>
        private void Annotate(Value v, Form form, bool alias = false)
        {
            string name = form.Name;
            if (table is not null && !alias && table.TryGet(v.Name, out QuantizationParameters p))
            {
                p.Validate(v.Name);
                if (p.DataType != DataType.UInt8)
                {
                    throw new NotSupportedException($"Value '{v.Name}': the table holds {p.DataType} parameters; the exporter writes uint8.");
                }

                string scale = FloatInitializer($"{v.Name}_scale", [], [p.Scale]);
                string zeroPoint = Fresh($"{v.Name}_zero_point");
                AddInitializer(zeroPoint, OnnxProto.UInt8Tensor(zeroPoint, [], [(byte)p.ZeroPoint]));
                string q = Fresh($"{v.Name}_quantized"), dq = Fresh($"{v.Name}_dequantized");
                Emit("QuantizeLinear", [form.Name, scale, zeroPoint], q);
                Emit("DequantizeLinear", [q, scale, zeroPoint], dq);
                name = dq;
            }

            _forms[v] = form with { Name = name };
        }

        /// <summary>Adds an initializer (a tensor message named <paramref name="name"/>) and returns its name.</summary>
        private string AddInitializer(string name, OnnxProtoMessage tensor)
        {
            _initializers.Add(tensor);
            return name;
        }

        private string FloatInitializer(string stem, IReadOnlyList<long> dims, ReadOnlySpan<float> values)
        {
            string name = Fresh(stem);
            return AddInitializer(name, OnnxProto.FloatTensor(name, dims, values));
        }

        private string Int64Initializer(string stem, params long[] values)
        {
            string name = Fresh(stem);
            return AddInitializer(name, OnnxProto.Int64Tensor(name, [values.Length], values));
        }

        /// <summary>Weights [OC, ...] as an initializer, or with a table as int8 per output channel behind DequantizeLinear (axis 0).</summary>
        private string Weights(string stem, IReadOnlyList<long> dims, float[] values)
        {
            if (table is null)
            {
                return FloatInitializer(stem, dims, values);
            }

            int oc = (int)dims[0], per = values.Length / oc;
            var scale = new float[oc];
            var q = new sbyte[values.Length];
            for (int o = 0; o < oc; o++)
            {
                ReadOnlySpan<float> row = values.AsSpan(o * per, per);
                float max = 0f;
                foreach (float w in row)
                {
                    max = Math.Max(max, Math.Abs(w));
                }

                scale[o] = max > 0f ? max / 127f : 1f;
                for (int i = 0; i < per; i++)
                {
                    q[(o * per) + i] = (sbyte)Math.Clamp(MathF.Round(row[i] / scale[o]), -127f, 127f);
                }
            }

            string quantized = Fresh($"{stem}_quantized");
            AddInitializer(quantized, OnnxProto.Int8Tensor(quantized, dims, q));
            string s = FloatInitializer($"{stem}_scale", [oc], scale);
            string z = Fresh($"{stem}_zero_point");
            AddInitializer(z, OnnxProto.Int8Tensor(z, [oc], new sbyte[oc]));
            string output = Fresh(stem);
            Emit("DequantizeLinear", [quantized, s, z], output, OnnxProto.IntAttribute("axis", 0));
            return output;
        }

        private Form Input(int index) => _forms[_node!.Inputs[index]];

        private string SpatialInput(int index)
        {
            Value v = _node!.Inputs[index];
            Form f = _forms[v];
            if (f.Spatial)
            {
                return f.Name;
            }

            if (f.Columns is not null)
            {
                throw Unsupported($"input '{v.Name}' is a flattened tensor in ONNX column order, which a spatial operator cannot read");
            }

            // A matrix N×K read as N×K×1×1: the same order.
            string shape = Int64Initializer($"{v.Name}_as_nchw_shape", v.Shape.N, v.Shape.C, 1, 1);
            string y = Fresh($"{v.Name}_as_nchw");
            Emit("Reshape", [f.Name, shape], y);
            return y;
        }

        /// <summary>The input as an ONNX matrix N×K (a spatial one flattened once, C·H·W order).</summary>
        private Form MatrixInput(int index)
        {
            Value v = _node!.Inputs[index];
            Form f = _forms[v];
            if (!f.Spatial)
            {
                return f;
            }

            if (_matrices.TryGetValue(v, out Form? known))
            {
                return known;
            }

            // Every IR value read as a matrix is N×1×1×K... or a spatial one being flattened: both ONNX-flatten to C·H·W.
            string y = Fresh($"{v.Name}_flat");
            Emit("Flatten", [f.Name], y, OnnxProto.IntAttribute("axis", 1));
            var m = new Form(y, false, FlattenColumns(v.Shape));
            _matrices[v] = m;
            return m;
        }

        /// <summary>For each ONNX column (c, h, w) of a flattened N×C×H×W tensor, the IR's column (h, w, c); null when H = W = 1.</summary>
        private static int[]? FlattenColumns(TensorShape s)
        {
            if (s.H * s.W == 1)
            {
                return null;
            }

            var columns = new int[s.H * s.W * s.C];
            int j = 0;
            for (int c = 0; c < s.C; c++)
            {
                for (int p = 0; p < s.H * s.W; p++)
                {
                    columns[j++] = (p * s.C) + c;
                }
            }

            return columns;
        }

        /// <summary>A per-channel vector in the input's form: [1, C, 1, 1] for a spatial value, [K] in ONNX column order for a matrix.</summary>
        private string ChannelVector(string stem, Form x, float[] values, bool broadcast4d)
        {
            if (x.Spatial)
            {
                return FloatInitializer(stem, broadcast4d ? [1, values.Length, 1, 1] : [values.Length], values);
            }

            float[] ordered = x.Columns is null ? values : x.Columns.Select(c => values[c]).ToArray();
            return FloatInitializer(stem, [values.Length], ordered);
        }

        private static float[] Floats(Constant c) => c.Data.ToArray();

        private Form WriteNode(Node n)
        {
            string y = n.Output.Name;
            switch (n.Kind)
            {
                case OperatorKind.Conv:
                    return Conv(n, y);
                case OperatorKind.FullyConnected:
                {
                    Form x = MatrixInput(0);
                    var d = n.GetAttributes<FullyConnectedDescriptor>();
                    float[] w = Floats(n.Constants[0]);
                    int k = d.InputChannels;
                    var b = new float[w.Length];
                    for (int o = 0; o < d.OutputChannels; o++)
                    {
                        for (int j = 0; j < k; j++)
                        {
                            b[(o * k) + j] = w[(o * k) + (x.Columns?[j] ?? j)];
                        }
                    }

                    string weights = Weights(n.Constants[0].Name, [d.OutputChannels, k], b);
                    List<string> inputs = [x.Name, weights];
                    if (n.Constants.Count > 1)
                    {
                        inputs.Add(FloatInitializer(n.Constants[1].Name, [d.OutputChannels], Floats(n.Constants[1])));
                    }

                    Emit("Gemm", inputs, y, OnnxProto.IntAttribute("transB", 1));
                    return new Form(y, false, null);
                }

                case OperatorKind.Relu:
                    Emit("Relu", [Input(0).Name], y);
                    return Input(0) with { Name = y };
                case OperatorKind.Relu6 or OperatorKind.Clip:
                {
                    var d = n.GetAttributes<ActivationDescriptor>();
                    (float min, float max) = n.Kind == OperatorKind.Relu6 ? (0f, 6f) : (d.Min, d.Max);
                    string lo = float.IsNegativeInfinity(min) ? "" : FloatInitializer($"{y}_min", [], [min]);
                    string hi = float.IsPositiveInfinity(max) ? "" : FloatInitializer($"{y}_max", [], [max]);
                    Emit("Clip", hi.Length > 0 ? [Input(0).Name, lo, hi] : [Input(0).Name, lo], y);
                    return Input(0) with { Name = y };
                }

                case OperatorKind.LeakyRelu:
                    Emit("LeakyRelu", [Input(0).Name], y, OnnxProto.FloatAttribute("alpha", n.GetAttributes<ActivationDescriptor>().LeakySlope));
                    return Input(0) with { Name = y };
                case OperatorKind.Sigmoid:
                    Emit("Sigmoid", [Input(0).Name], y);
                    return Input(0) with { Name = y };
                case OperatorKind.HardSigmoid:
                {
                    var a = n.GetAttributes<HardSigmoidAttributes>();
                    Emit("HardSigmoid", [Input(0).Name], y, OnnxProto.FloatAttribute("alpha", a.Alpha), OnnxProto.FloatAttribute("beta", a.Beta));
                    return Input(0) with { Name = y };
                }

                case OperatorKind.Dropout:
                    Emit("Dropout", [Input(0).Name], y);
                    return Input(0) with { Name = y };
                case OperatorKind.MaxPool or OperatorKind.AveragePool:
                    return Pool(n, y);
                case OperatorKind.GlobalAveragePool:
                    Emit("GlobalAveragePool", [SpatialInput(0)], y);
                    return new Form(y, true, null);
                case OperatorKind.Lrn:
                {
                    var d = n.GetAttributes<LrnDescriptor>();
                    Emit("LRN", [SpatialInput(0)], y, OnnxProto.IntAttribute("size", d.Size), OnnxProto.FloatAttribute("alpha", d.Alpha),
                        OnnxProto.FloatAttribute("beta", d.Beta), OnnxProto.FloatAttribute("bias", d.Bias));
                    return new Form(y, true, null);
                }

                case OperatorKind.Concat:
                {
                    bool spatial = n.Inputs.Any(v => _forms[v].Spatial);
                    if (!spatial && n.Inputs.Any(v => _forms[v].Columns is not null))
                    {
                        throw Unsupported("a concatenation of flattened tensors in ONNX column order is not supported");
                    }

                    string[] inputs = Enumerable.Range(0, n.Inputs.Count).Select(i => spatial ? SpatialInput(i) : Input(i).Name).ToArray();
                    Emit("Concat", inputs, y, OnnxProto.IntAttribute("axis", 1));
                    return new Form(y, spatial, null);
                }

                case OperatorKind.Add or OperatorKind.Mul:
                {
                    Form a = Input(0), b = Input(1);
                    bool same = a.Spatial == b.Spatial && (a.Columns ?? []).SequenceEqual(b.Columns ?? []);
                    (string an, string bn, Form form) = same ? (a.Name, b.Name, a) : (SpatialInput(0), SpatialInput(1), new Form("", true, null));
                    FusedActivation act = n.Kind == OperatorKind.Add ? n.GetAttributes<ElementwiseAddDescriptor>().Activation : default;
                    string op = n.Kind == OperatorKind.Add ? "Add" : "Mul";
                    if (act.Kind == Activation.None)
                    {
                        Emit(op, [an, bn], y);
                        return form with { Name = y };
                    }

                    string sum = Fresh($"{y}_sum");
                    Emit(op, [an, bn], sum);
                    switch (act.Kind)
                    {
                        case Activation.Relu:
                            Emit("Relu", [sum], y);
                            break;
                        case Activation.Relu6:
                            Emit("Clip", [sum, FloatInitializer($"{y}_min", [], [0f]), FloatInitializer($"{y}_max", [], [6f])], y);
                            break;
                        case Activation.LeakyRelu:
                            Emit("LeakyRelu", [sum], y, OnnxProto.FloatAttribute("alpha", act.LeakySlope));
                            break;
                        default:
                            throw Unsupported($"the fused activation {act.Kind} is not supported");
                    }

                    return form with { Name = y };
                }

                case OperatorKind.Softmax:
                    Emit("Softmax", [Input(0).Name], y, OnnxProto.IntAttribute("axis", 1));
                    return Input(0) with { Name = y };
                case OperatorKind.Flatten:
                {
                    Form x = MatrixInput(0);
                    Emit("Identity", [x.Name], y);
                    return x with { Name = y };
                }

                case OperatorKind.BatchNormalization:
                {
                    Form x = Input(0);
                    string[] vectors = n.Constants.Select(c => ChannelVector(c.Name, x, Floats(c), broadcast4d: false)).ToArray();
                    Emit("BatchNormalization", [x.Name, .. vectors], y, OnnxProto.FloatAttribute("epsilon", n.GetAttributes<BatchNormAttributes>().Epsilon));
                    return x with { Name = y };
                }

                case OperatorKind.ChannelAffine:
                {
                    Form x = Input(0);
                    string scaled = Fresh($"{y}_scaled");
                    Emit("Mul", [x.Name, ChannelVector(n.Constants[0].Name, x, Floats(n.Constants[0]), broadcast4d: true)], scaled);
                    Emit("Add", [scaled, ChannelVector(n.Constants[1].Name, x, Floats(n.Constants[1]), broadcast4d: true)], y);
                    return x with { Name = y };
                }

                case OperatorKind.ConstantTensor:
                {
                    TensorShape s = n.GetAttributes<ConstantTensorAttributes>().Shape;
                    AddInitializer(y, OnnxProto.FloatTensor(y, [s.N, s.C, s.H, s.W], ToNchw(Floats(n.Constants[0]), s)));
                    return new Form(y, true, null);
                }

                case OperatorKind.Reshape:
                {
                    // An NHWC reshape: to NHWC order, reshape, back to NCHW.
                    TensorShape s = n.Output.Shape;
                    string nhwc = Fresh($"{y}_nhwc"), reshaped = Fresh($"{y}_reshaped");
                    Emit("Transpose", [SpatialInput(0)], nhwc, OnnxProto.IntsAttribute("perm", 0, 2, 3, 1));
                    Emit("Reshape", [nhwc, Int64Initializer($"{y}_shape", s.N, s.H, s.W, s.C)], reshaped);
                    Emit("Transpose", [reshaped], y, OnnxProto.IntsAttribute("perm", 0, 3, 1, 2));
                    return new Form(y, true, null);
                }

                case OperatorKind.Pad:
                {
                    var p = n.GetAttributes<PadAttributes>();
                    string mode = p.Mode switch { PadMode.Edge => "edge", PadMode.Reflect => "reflect", _ => "constant" };
                    string pads = Int64Initializer($"{y}_pads", 0, p.ChannelsBefore, p.Top, p.Left, 0, p.ChannelsAfter, p.Bottom, p.Right);
                    string value = FloatInitializer($"{y}_value", [], [p.Value]);
                    Emit("Pad", [SpatialInput(0), pads, value], y, OnnxProto.StringAttribute("mode", mode));
                    return new Form(y, true, null);
                }

                default:
                    throw Unsupported("the operator has no ONNX mapping in the exporter");
            }
        }

        private static float[] ToNchw(float[] nhwc, TensorShape s)
        {
            var nchw = new float[nhwc.Length];
            for (int b = 0; b < s.N; b++)
            {
                for (int h = 0; h < s.H; h++)
                {
                    for (int w = 0; w < s.W; w++)
                    {
                        for (int c = 0; c < s.C; c++)
                        {
                            nchw[(((((b * s.C) + c) * s.H) + h) * s.W) + w] = nhwc[(((((b * s.H) + h) * s.W) + w) * s.C) + c];
                        }
                    }
                }
            }

            return nchw;
        }

        private Form Conv(Node n, string y)
        {
            var d = n.GetAttributes<Conv2DDescriptor>();
            float[] ohwi = Floats(n.Constants[0]);
            int m = d.OutputChannels, kh = d.KernelHeight, kw = d.KernelWidth, cg = d.GroupInputChannels;
            var oihw = new float[ohwi.Length];
            for (int o = 0; o < m; o++)
            {
                for (int h = 0; h < kh; h++)
                {
                    for (int k = 0; k < kw; k++)
                    {
                        for (int i = 0; i < cg; i++)
                        {
                            oihw[(((((o * cg) + i) * kh) + h) * kw) + k] = ohwi[(((((o * kh) + h) * kw) + k) * cg) + i];
                        }
                    }
                }
            }

            List<string> inputs = [SpatialInput(0), Weights(n.Constants[0].Name, [m, cg, kh, kw], oihw)];
            if (n.Constants.Count > 1)
            {
                inputs.Add(FloatInitializer(n.Constants[1].Name, [m], Floats(n.Constants[1])));
            }

            Emit(
                "Conv", inputs, y,
                OnnxProto.IntsAttribute("kernel_shape", kh, kw),
                OnnxProto.IntsAttribute("strides", d.StrideHeight, d.StrideWidth),
                OnnxProto.IntsAttribute("pads", d.PadTop, d.PadLeft, d.PadBottom, d.PadRight),
                OnnxProto.IntsAttribute("dilations", d.DilationHeight, d.DilationWidth),
                OnnxProto.IntAttribute("group", d.Groups));
            return new Form(y, true, null);
        }

        private Form Pool(Node n, string y)
        {
            var d = n.GetAttributes<Pool2DDescriptor>();
            List<OnnxProtoMessage> attributes =
            [
                OnnxProto.IntsAttribute("kernel_shape", d.KernelHeight, d.KernelWidth),
                OnnxProto.IntsAttribute("strides", d.StrideHeight, d.StrideWidth),
                OnnxProto.IntsAttribute("pads", d.PadTop, d.PadLeft, d.PadBottom, d.PadRight),
                OnnxProto.IntAttribute("ceil_mode", d.CeilMode ? 1 : 0),
            ];
            if (n.Kind == OperatorKind.AveragePool)
            {
                attributes.Add(OnnxProto.IntAttribute("count_include_pad", d.CountIncludePad ? 1 : 0));
            }

            Emit(n.Kind == OperatorKind.MaxPool ? "MaxPool" : "AveragePool", [SpatialInput(0)], y, [.. attributes]);
            return new Form(y, true, null);
        }
    }
}
