using System.Globalization;
using Kernels.Core;
using Kernels.Cpu.Layers;

namespace Kernels.Graph.Onnx;

/// <summary>An imported model: the IR graph and how each ONNX input and output maps onto its values.</summary>
/// <param name="Graph">The NHWC graph.</param>
/// <param name="Inputs">The ONNX graph inputs fed at run time (bound and initializer inputs excluded), in ONNX order.</param>
/// <param name="Outputs">The ONNX graph outputs, in ONNX order.</param>
public sealed record OnnxImportedModel(NetworkGraph Graph, IReadOnlyList<OnnxTensorLayout> Inputs, IReadOnlyList<OnnxTensorLayout> Outputs);

/// <summary>
/// Maps an ONNX model (NCHW semantics) onto the NHWC graph IR: 4-D activations N×C×H×W become N×H×W×C, N×C matrices
/// N×1×1×C, convolution weights OIHW become OHWI and Gemm/MatMul weights the fully connected [OC, IC] layout (with the
/// columns permuted when the input was flattened from NCHW). Everything the IR cannot express exactly (an operator,
/// an attribute value, a data type, a dynamic shape) raises <see cref="NotSupportedException"/> naming the node and
/// its operator, at import, so a graph that imports runs. Opsets 9 to 17 of the default domain.
/// </summary>
public static class OnnxImporter
{
    /// <summary>The lowest default-domain opset accepted.</summary>
    public const long MinOpset = 9;

    /// <summary>The highest default-domain opset accepted.</summary>
    public const long MaxOpset = 17;

    /// <summary>The ONNX operators the importer maps (each within the limits its mapping states).</summary>
    public static IReadOnlyList<string> SupportedOperators { get; } =
    [
        "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "Conv", "Dropout", "Flatten", "Gemm",
        "GlobalAveragePool", "Identity", "LRN", "LeakyRelu", "MatMul", "MaxPool", "Relu", "Reshape", "Softmax", "Add",
        "Sigmoid", "HardSigmoid",
    ];

    /// <summary>Reads and imports an .onnx file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static NetworkGraph Load(string path) => Import(OnnxModel.Load(path));

    /// <summary>Imports a model.</summary>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static NetworkGraph Import(OnnxModel model) => ImportModel(model).Graph;

    /// <summary>
    /// Imports a model and reports the layout of every graph input and output. <paramref name="boundInputs"/> freezes
    /// graph inputs to given values: a bound input read where the IR needs a constant (weights, bias, batch-norm
    /// vectors, Clip bounds, a Reshape shape) becomes that constant; ONNX's node tests pass weights this way.
    /// </summary>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static OnnxImportedModel ImportModel(OnnxModel model, IReadOnlyDictionary<string, OnnxTensor>? boundInputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Importer(model, boundInputs).Run();
    }

    /// <summary>An IR value with the ONNX arrangement it carries.</summary>
    private sealed record Imported(Value Value, OnnxLayoutKind Kind, int Channels, int Height, int Width)
    {
        /// <summary>The ONNX rank of a <see cref="OnnxLayoutKind.ChannelsLast"/> value (1 or 3); unused otherwise.</summary>
        public int ChannelsLastRank { get; init; }

        public long[] OnnxDims => Kind switch
        {
            OnnxLayoutKind.Nchw => [Value.Shape.N, Channels, Height, Width],
            OnnxLayoutKind.ChannelsLast when ChannelsLastRank == 1 => [Value.Shape.C],
            OnnxLayoutKind.ChannelsLast => [Value.Shape.N, Value.Shape.W, Value.Shape.C],
            _ => [Value.Shape.N, Value.Shape.C],
        };

        public int Rank => Kind switch
        {
            OnnxLayoutKind.Nchw => 4,
            OnnxLayoutKind.ChannelsLast => ChannelsLastRank,
            _ => 2,
        };
    }

    private sealed class Importer
    {
        private readonly OnnxModel _model;
        private readonly IReadOnlyDictionary<string, OnnxTensor> _bound;
        private readonly Dictionary<string, OnnxTensor> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, OnnxValueInfo> _graphInputs = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Imported> _values = new(StringComparer.Ordinal);
        private readonly List<OnnxTensorLayout> _inputLayouts = [];
        private readonly GraphBuilder _builder;
        private readonly long _opset;
        private OnnxNode _node = null!;
        private string _nodeName = "";

        public Importer(OnnxModel model, IReadOnlyDictionary<string, OnnxTensor>? bound)
        {
            _model = model;
            _bound = bound ?? new Dictionary<string, OnnxTensor>();
            string name = string.IsNullOrWhiteSpace(model.Graph.Name) ? "onnx" : model.Graph.Name;
            _builder = new GraphBuilder(name);
            _opset = model.OpsetVersion() ?? throw new NotSupportedException($"ONNX model '{name}' imports no default-domain opset.");
            if (_opset is < MinOpset or > MaxOpset)
            {
                throw new NotSupportedException($"ONNX model '{name}' uses opset {_opset}; opsets {MinOpset} to {MaxOpset} are supported.");
            }
        }

        public OnnxImportedModel Run()
        {
            foreach (OnnxTensor t in _model.Graph.Initializers)
            {
                _constants[t.Name] = t;
            }

            foreach (OnnxValueInfo input in _model.Graph.Inputs)
            {
                if (!_constants.ContainsKey(input.Name))
                {
                    _graphInputs[input.Name] = input;
                }
            }

            foreach (OnnxNode node in _model.Graph.Nodes)
            {
                _node = node;
                _nodeName = node.Name.Length > 0 ? node.Name : node.Outputs.FirstOrDefault(o => o.Length > 0) ?? node.OpType;
                if (node.Domain is not ("" or "ai.onnx"))
                {
                    throw Unsupported($"the domain '{node.Domain}' is not supported");
                }

                try
                {
                    ImportNode(node);
                }
                catch (ArgumentException e)
                {
                    // The IR's shape inference rejected the mapped operator: outside what the IR can represent.
                    throw Unsupported($"the IR cannot represent it: {e.Message}");
                }
            }

            var outputs = new List<OnnxTensorLayout>();
            foreach (OnnxValueInfo output in _model.Graph.Outputs)
            {
                if (!_values.TryGetValue(output.Name, out Imported? value))
                {
                    throw new NotSupportedException($"ONNX graph output '{output.Name}' is not computed by an imported node (a constant or an unused input).");
                }

                outputs.Add(Layout(output.Name, value));
            }

            if (outputs.Count == 0)
            {
                throw new NotSupportedException("The ONNX graph has no output.");
            }

            if (_inputLayouts.Count == 0)
            {
                throw new NotSupportedException("The ONNX graph has no activation input (every output is a constant).");
            }

            NetworkGraph graph = _builder.Build(outputs.Select(o => o.Value).Distinct().ToArray());
            var ordered = _inputLayouts.OrderBy(l => IndexOfInput(l.OnnxName)).ToList();
            return new OnnxImportedModel(graph, ordered, outputs);
        }

        private int IndexOfInput(string name)
        {
            for (int i = 0; i < _model.Graph.Inputs.Count; i++)
            {
                if (_model.Graph.Inputs[i].Name == name)
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        private static OnnxTensorLayout Layout(string name, Imported v) =>
            new(name, v.Value, v.OnnxDims, v.Kind, v.Channels, v.Height, v.Width);

        private NotSupportedException Unsupported(string why) =>
            new($"ONNX node '{_nodeName}' ({_node.OpType}): {why}.");

        private string IrName(int output = 0) => _node.Outputs[output];

        private void ImportNode(OnnxNode node)
        {
            if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
            {
                throw Unsupported("it has no output");
            }

            switch (node.OpType)
            {
                case "Constant": ImportConstant(); return;
                case "Identity": Define(Activation(0, channelsLast: true)); return;
                case "Dropout": ImportDropout(); return;
                case "Conv": ImportConv(); return;
                case "MaxPool":
                case "AveragePool": ImportPool(); return;
                case "GlobalAveragePool":
                    {
                        Imported x = Spatial(0);
                        Define(x with { Value = _builder.GlobalAveragePool(x.Value, IrName()), Height = 1, Width = 1 });
                        return;
                    }

                case "BatchNormalization": ImportBatchNorm(); return;
                case "Relu": OnlyOutputs(1); Elementwise(x => _builder.Relu(x, IrName())); return;
                case "LeakyRelu":
                    {
                        OnlyOutputs(1);
                        float alpha = FloatAttribute("alpha", 0.01f);
                        Elementwise(x => _builder.LeakyRelu(x, alpha, IrName()));
                        return;
                    }

                case "Clip": ImportClip(); return;
                case "Sigmoid": OnlyOutputs(1); Elementwise(x => _builder.Sigmoid(x, IrName())); return;
                case "HardSigmoid":
                    {
                        OnlyOutputs(1);
                        float alpha = FloatAttribute("alpha", 0.2f), beta = FloatAttribute("beta", 0.5f);
                        Elementwise(x => _builder.HardSigmoid(x, alpha, beta, IrName()));
                        return;
                    }

                case "LRN": ImportLrn(); return;
                case "Concat": ImportConcat(); return;
                case "Flatten": ImportFlatten(); return;
                case "Reshape": ImportReshape(); return;
                case "Softmax": ImportSoftmax(); return;
                case "Gemm": ImportGemm(); return;
                case "MatMul": ImportMatMul(); return;
                case "Add": ImportAdd(); return;
                default: throw Unsupported("the operator is not supported");
            }
        }

        // ---- values -------------------------------------------------------------------------------------------

        private void Define(Imported value, int output = 0)
        {
            OnlyOutputs(output + 1);
            _values[_node.Outputs[output]] = value;
        }

        /// <summary>Throws when an output past the first <paramref name="count"/> is used.</summary>
        private void OnlyOutputs(int count)
        {
            for (int i = count; i < _node.Outputs.Count; i++)
            {
                if (_node.Outputs[i].Length > 0)
                {
                    throw Unsupported($"output {i} ('{_node.Outputs[i]}') is not supported");
                }
            }
        }

        private bool HasInput(int index) => index < _node.Inputs.Count && _node.Inputs[index].Length > 0;

        private bool IsConstant(string name) =>
            !_values.ContainsKey(name) && (_constants.ContainsKey(name) || _bound.ContainsKey(name));

        /// <summary>
        /// The activation at input <paramref name="index"/> (a graph input becomes an IR input on first use). A rank-1 or
        /// rank-3 value is accepted only when <paramref name="channelsLast"/> says the operator is element-wise (or works
        /// on the last axis), the one case where holding it as N×1×W×C is unambiguous.
        /// </summary>
        private Imported Activation(int index, bool channelsLast = false)
        {
            Imported value = ActivationAnyLayout(index);
            if (value.Kind == OnnxLayoutKind.ChannelsLast && !channelsLast)
            {
                throw Unsupported($"input '{_node.Inputs[index]}' has rank {value.Rank}; the operator needs an N×C×H×W tensor or an N×C matrix");
            }

            return value;
        }

        private Imported ActivationAnyLayout(int index)
        {
            if (!HasInput(index))
            {
                throw Unsupported($"input {index} is missing");
            }

            string name = _node.Inputs[index];
            if (_values.TryGetValue(name, out Imported? known))
            {
                return known;
            }

            if (_constants.ContainsKey(name))
            {
                throw Unsupported($"input '{name}' is a constant where the IR needs an activation");
            }

            if (!_graphInputs.TryGetValue(name, out OnnxValueInfo? info))
            {
                throw Unsupported($"input '{name}' is neither a graph input nor the output of an earlier node");
            }

            if (info.Kind != OnnxValueKind.Tensor || info.ElementType != OnnxDataType.Float)
            {
                throw Unsupported($"graph input '{name}' is {info.Kind} of {info.ElementType}; only float tensors are supported");
            }

            if (info.Shape is null || info.Shape.Any(d => d.Value is null or < 1 or > int.MaxValue))
            {
                throw Unsupported($"graph input '{name}' has a dynamic or missing shape [{(info.Shape is null ? "?" : string.Join(", ", info.Shape))}]");
            }

            int[] dims = info.Shape.Select(d => (int)d.Value!.Value).ToArray();
            Imported value = dims.Length switch
            {
                4 => new Imported(_builder.Input(name, new TensorShape(dims[0], dims[2], dims[3], dims[1])), OnnxLayoutKind.Nchw, dims[1], dims[2], dims[3]),
                2 => new Imported(_builder.Input(name, new TensorShape(dims[0], 1, 1, dims[1])), OnnxLayoutKind.Matrix, dims[1], 1, 1),
                3 => new Imported(_builder.Input(name, new TensorShape(dims[0], 1, dims[1], dims[2])), OnnxLayoutKind.ChannelsLast, dims[2], 1, dims[1]) { ChannelsLastRank = 3 },
                1 => new Imported(_builder.Input(name, new TensorShape(1, 1, 1, dims[0])), OnnxLayoutKind.ChannelsLast, dims[0], 1, 1) { ChannelsLastRank = 1 },
                _ => throw Unsupported($"graph input '{name}' has rank {dims.Length}; only ranks 1 to 4 are supported"),
            };
            _values[name] = value;
            _inputLayouts.Add(Layout(name, value));
            return value;
        }

        /// <summary>An N×C×H×W activation.</summary>
        private Imported Spatial(int index)
        {
            Imported x = Activation(index);
            return x.Kind == OnnxLayoutKind.Nchw
                ? x
                : throw Unsupported($"input '{_node.Inputs[index]}' is a matrix; the operator needs an N×C×H×W tensor");
        }

        /// <summary>The constant tensor at input <paramref name="index"/>, or null when the optional input is absent.</summary>
        private OnnxTensor? ConstantInput(int index)
        {
            if (!HasInput(index))
            {
                return null;
            }

            string name = _node.Inputs[index];
            if (_constants.TryGetValue(name, out OnnxTensor? t))
            {
                return t;
            }

            if (!_values.ContainsKey(name) && _bound.TryGetValue(name, out OnnxTensor? bound))
            {
                _constants[name] = bound;
                return bound;
            }

            throw Unsupported($"input '{name}' must be a constant (an initializer or a Constant node)");
        }

        private OnnxTensor RequiredConstant(int index) =>
            ConstantInput(index) ?? throw Unsupported($"input {index} is missing");

        private float[] Floats(OnnxTensor t)
        {
            if (t.DataType is not (OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16))
            {
                throw Unsupported($"constant '{t.Name}' is {t.DataType}; a float tensor is needed");
            }

            try
            {
                return t.ToFloatArray();
            }
            catch (NotSupportedException e)
            {
                throw Unsupported($"constant '{t.Name}': {e.Message}");
            }
        }

        private long[] Ints(OnnxTensor t)
        {
            if (t.DataType is not (OnnxDataType.Int64 or OnnxDataType.Int32))
            {
                throw Unsupported($"constant '{t.Name}' is {t.DataType}; an integer tensor is needed");
            }

            return t.ToInt64Array();
        }

        private Constant MakeConstant(string suffix, ConstantRole role, int[] dims, float[] data) =>
            new($"{IrName()}.{suffix}", role, dims, data);

        /// <summary>A constant of exactly <paramref name="count"/> floats (a per-channel vector).</summary>
        private float[] Vector(OnnxTensor t, int count, string what)
        {
            if (t.ElementCount != count || t.Dims.Count(d => d != 1) > 1)
            {
                throw Unsupported($"the {what} '{t.Name}' is [{string.Join(", ", t.Dims)}]; [{count}] is needed");
            }

            return Floats(t);
        }

        // ---- attributes ---------------------------------------------------------------------------------------

        private long IntAttribute(string name, long fallback) => _node.FindAttribute(name) is { } a ? a.Int : fallback;

        private float FloatAttribute(string name, float fallback) => _node.FindAttribute(name) is { } a ? a.Float : fallback;

        private string StringAttribute(string name, string fallback) => _node.FindAttribute(name) is { } a ? a.String : fallback;

        private int[]? IntsAttribute(string name, int count)
        {
            if (_node.FindAttribute(name) is not { } a)
            {
                return null;
            }

            if (a.Ints.Count != count)
            {
                throw Unsupported($"attribute {name} has {a.Ints.Count} values; {count} are needed (only 2-D spatial operators are supported)");
            }

            return a.Ints.Select(v => v is < 0 or > int.MaxValue
                ? throw Unsupported($"attribute {name} has the value {v}")
                : (int)v).ToArray();
        }

        private void RejectAttributes(params (string Name, long Allowed)[] checks)
        {
            foreach ((string name, long allowed) in checks)
            {
                long value = IntAttribute(name, allowed);
                if (value != allowed)
                {
                    throw Unsupported($"attribute {name} = {value} is not supported (only {allowed})");
                }
            }
        }

        /// <summary>Padding (top, left, bottom, right) from pads or auto_pad, for a window of effective extent (kh, kw).</summary>
        private (int Top, int Left, int Bottom, int Right) Padding(int inH, int inW, int effKh, int effKw, int strideH, int strideW)
        {
            string autoPad = StringAttribute("auto_pad", "NOTSET");
            int[]? pads = IntsAttribute("pads", 4);
            switch (autoPad)
            {
                case "NOTSET":
                    return pads is null ? (0, 0, 0, 0) : (pads[0], pads[1], pads[2], pads[3]);
                case "VALID":
                    return (0, 0, 0, 0);
                case "SAME_UPPER":
                case "SAME_LOWER":
                    {
                        bool upper = autoPad == "SAME_UPPER";
                        (int before, int after) Same(int size, int k, int s)
                        {
                            int output = (size + s - 1) / s;
                            int total = Math.Max(0, ((output - 1) * s) + k - size);
                            int small = total / 2;
                            return upper ? (small, total - small) : (total - small, small);
                        }

                        (int top, int bottom) = Same(inH, effKh, strideH);
                        (int left, int right) = Same(inW, effKw, strideW);
                        return (top, left, bottom, right);
                    }

                default:
                    throw Unsupported($"auto_pad '{autoPad}' is not supported");
            }
        }

        // ---- operators ----------------------------------------------------------------------------------------

        private void ImportConstant()
        {
            OnlyOutputs(1);
            OnnxAttribute? value = _node.FindAttribute("value");
            if (value?.Tensor is null || _node.Attributes.Count != 1)
            {
                throw Unsupported("only a Constant with a 'value' tensor attribute is supported");
            }

            _constants[_node.Outputs[0]] = value.Tensor;
        }

        private void ImportDropout()
        {
            OnlyOutputs(1);
            if (HasInput(2) && ConstantInput(2) is { } training && Ints(training).Any(v => v != 0))
            {
                throw Unsupported("training_mode is true; only inference is supported");
            }

            Imported x = Activation(0, channelsLast: true);
            Define(x with { Value = _builder.Dropout(x.Value, name: IrName()) });
        }

        private void Elementwise(Func<Value, Value> make)
        {
            Imported x = Activation(0, channelsLast: true);
            Define(x with { Value = make(x.Value) });
        }

        private void ImportClip()
        {
            OnlyOutputs(1);
            float min = float.NegativeInfinity, max = float.PositiveInfinity;
            if (_opset < 11)
            {
                min = FloatAttribute("min", min);
                max = FloatAttribute("max", max);
            }
            else
            {
                if (ConstantInput(1) is { } lo)
                {
                    min = Scalar(lo, "min");
                }

                if (ConstantInput(2) is { } hi)
                {
                    max = Scalar(hi, "max");
                }
            }

            Elementwise(x => _builder.Clip(x, min, max, IrName()));
        }

        private float Scalar(OnnxTensor t, string what)
        {
            float[] values = Floats(t);
            return values.Length == 1 ? values[0] : throw Unsupported($"{what} '{t.Name}' has {values.Length} values; a scalar is needed");
        }

        private void ImportConv()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            OnnxTensor w = RequiredConstant(1);
            if (w.Dims.Count != 4)
            {
                throw Unsupported($"the weights '{w.Name}' are [{string.Join(", ", w.Dims)}]; only 2-D convolution (4-D weights) is supported");
            }

            int m = (int)w.Dims[0], cPerGroup = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
            int[]? kernel = IntsAttribute("kernel_shape", 2);
            if (kernel is not null && (kernel[0] != kh || kernel[1] != kw))
            {
                throw Unsupported($"kernel_shape [{kernel[0]}, {kernel[1]}] differs from the weights' [{kh}, {kw}]");
            }

            int[] strides = IntsAttribute("strides", 2) ?? [1, 1];
            int[] dilations = IntsAttribute("dilations", 2) ?? [1, 1];
            int group = checked((int)IntAttribute("group", 1));
            (int top, int left, int bottom, int right) = Padding(
                x.Height, x.Width, ((kh - 1) * dilations[0]) + 1, ((kw - 1) * dilations[1]) + 1, strides[0], strides[1]);

            // OIHW -> OHWI.
            float[] src = Floats(w);
            var ohwi = new float[src.Length];
            for (int o = 0; o < m; o++)
            {
                for (int i = 0; i < cPerGroup; i++)
                {
                    for (int h = 0; h < kh; h++)
                    {
                        for (int k = 0; k < kw; k++)
                        {
                            ohwi[(((((o * kh) + h) * kw) + k) * cPerGroup) + i] = src[(((((o * cPerGroup) + i) * kh) + h) * kw) + k];
                        }
                    }
                }
            }

            Constant weights = MakeConstant("weights", ConstantRole.Weights, [m, kh, kw, cPerGroup], ohwi);
            Constant? bias = ConstantInput(2) is { } b ? MakeConstant("bias", ConstantRole.Bias, [m], Vector(b, m, "bias")) : null;
            var descriptor = new Conv2DDescriptor
            {
                Batch = x.Value.Shape.N,
                InputHeight = x.Height,
                InputWidth = x.Width,
                InputChannels = x.Channels,
                OutputChannels = m,
                KernelHeight = kh,
                KernelWidth = kw,
                StrideHeight = strides[0],
                StrideWidth = strides[1],
                PadTop = top,
                PadLeft = left,
                PadBottom = bottom,
                PadRight = right,
                DilationHeight = dilations[0],
                DilationWidth = dilations[1],
                Groups = group,
            };
            Value y = _builder.Conv(x.Value, descriptor, weights, bias, IrName());
            Define(new Imported(y, OnnxLayoutKind.Nchw, y.Shape.C, y.Shape.H, y.Shape.W));
        }

        private void ImportPool()
        {
            bool max = _node.OpType == "MaxPool";
            OnlyOutputs(1);
            Imported x = Spatial(0);
            int[] kernel = IntsAttribute("kernel_shape", 2) ?? throw Unsupported("kernel_shape is missing");
            int[] strides = IntsAttribute("strides", 2) ?? [1, 1];
            if (max)
            {
                int[] dilations = IntsAttribute("dilations", 2) ?? [1, 1];
                if (dilations[0] != 1 || dilations[1] != 1)
                {
                    throw Unsupported($"dilations [{dilations[0]}, {dilations[1]}] are not supported");
                }

                RejectAttributes(("storage_order", 0));
            }

            (int top, int left, int bottom, int right) = Padding(x.Height, x.Width, kernel[0], kernel[1], strides[0], strides[1]);
            var descriptor = new Pool2DDescriptor
            {
                Kind = max ? PoolingKind.Max : PoolingKind.Average,
                Batch = x.Value.Shape.N,
                InputHeight = x.Height,
                InputWidth = x.Width,
                Channels = x.Channels,
                KernelHeight = kernel[0],
                KernelWidth = kernel[1],
                StrideHeight = strides[0],
                StrideWidth = strides[1],
                PadTop = top,
                PadLeft = left,
                PadBottom = bottom,
                PadRight = right,
                CeilMode = IntAttribute("ceil_mode", 0) != 0,
                CountIncludePad = !max && IntAttribute("count_include_pad", 0) != 0,
            };
            Value y = _builder.Pool(x.Value, descriptor, IrName());
            Define(new Imported(y, OnnxLayoutKind.Nchw, y.Shape.C, y.Shape.H, y.Shape.W));
        }

        private void ImportBatchNorm()
        {
            OnlyOutputs(1);
            RejectAttributes(("training_mode", 0));
            if (_opset < 9 && _node.FindAttribute("spatial") is { Int: 0 })
            {
                throw Unsupported("spatial = 0 is not supported");
            }

            Imported x = Activation(0);
            if (x.Kind == OnnxLayoutKind.FlattenedNhwc)
            {
                throw Unsupported("a flattened N×C×H×W input is not supported");
            }

            int c = x.Value.Shape.C;
            Constant V(int index, string suffix, ConstantRole role) =>
                MakeConstant(suffix, role, [c], Vector(RequiredConstant(index), c, suffix));
            Value y = _builder.BatchNormalization(
                x.Value,
                V(1, "scale", ConstantRole.BatchNormScale),
                V(2, "bias", ConstantRole.BatchNormBias),
                V(3, "mean", ConstantRole.BatchNormMean),
                V(4, "variance", ConstantRole.BatchNormVariance),
                FloatAttribute("epsilon", 1e-5f),
                IrName());
            Define(x with { Value = y });
        }

        private void ImportLrn()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            long size = IntAttribute("size", 0);
            if (size is < 1 or > int.MaxValue)
            {
                throw Unsupported($"size {size} is not supported");
            }

            Value y = _builder.Lrn(
                x.Value, (int)size, FloatAttribute("alpha", 1e-4f), FloatAttribute("beta", 0.75f), FloatAttribute("bias", 1f), IrName());
            Define(x with { Value = y });
        }

        private void ImportConcat()
        {
            OnlyOutputs(1);
            var inputs = new List<Imported>();
            for (int i = 0; i < _node.Inputs.Count; i++)
            {
                inputs.Add(Activation(i));
            }

            OnnxLayoutKind kind = inputs[0].Kind;
            if (inputs.Any(v => v.Kind != kind) || kind == OnnxLayoutKind.FlattenedNhwc)
            {
                throw Unsupported("the inputs must all be N×C×H×W tensors or all N×C matrices");
            }

            int rank = kind == OnnxLayoutKind.Nchw ? 4 : 2;
            long axis = IntAttribute("axis", _opset < 11 ? 1 : long.MinValue);
            if (axis == long.MinValue)
            {
                throw Unsupported("the axis attribute is missing");
            }

            if (axis < 0)
            {
                axis += rank;
            }

            if (axis != 1)
            {
                throw Unsupported($"axis {IntAttribute("axis", 1)} is not supported; only the channel axis 1");
            }

            Value y = _builder.Concat(inputs.Select(v => v.Value).ToList(), IrName());
            Define(inputs[0] with { Value = y, Channels = y.Shape.C });
        }

        private void Flatten(Imported x)
        {
            if (x.Kind != OnnxLayoutKind.Nchw)
            {
                Define(x);
                return;
            }

            Value y = _builder.Flatten(x.Value, IrName());
            bool trivial = x.Channels == 1 || x.Height * x.Width == 1;
            Define(trivial
                ? new Imported(y, OnnxLayoutKind.Matrix, y.Shape.C, 1, 1)
                : new Imported(y, OnnxLayoutKind.FlattenedNhwc, x.Channels, x.Height, x.Width));
        }

        private void ImportFlatten()
        {
            OnlyOutputs(1);
            Imported x = Activation(0);
            int rank = x.Kind == OnnxLayoutKind.Nchw ? 4 : 2;
            long axis = IntAttribute("axis", 1);
            if (axis < 0)
            {
                axis += rank;
            }

            if (axis == 1 || (axis == 0 && x.Value.Shape.N == 1))
            {
                Flatten(x);
                return;
            }

            throw Unsupported($"axis {IntAttribute("axis", 1)} is not supported on a rank-{rank} input; only axis 1 (to N×features)");
        }

        private void ImportReshape()
        {
            OnlyOutputs(1);
            Imported x = Activation(0);
            if (IntAttribute("allowzero", 0) != 0)
            {
                throw Unsupported("allowzero = 1 is not supported");
            }

            long[] shape = Ints(RequiredConstant(1));
            long n = x.Value.Shape.N, features = x.Value.Shape.ElementCount / n;
            if (shape.Length == 2 && (shape[0] == n || shape[0] == 0 || (shape[0] == -1 && shape[1] == features))
                && (shape[1] == features || shape[1] == -1 || (shape[1] == 0 && x.Kind != OnnxLayoutKind.Nchw)))
            {
                Flatten(x);
                return;
            }

            throw Unsupported($"the target shape [{string.Join(", ", shape)}] is not supported; only a reshape to [N, features]");
        }

        private void ImportSoftmax()
        {
            OnlyOutputs(1);
            Imported x = Activation(0, channelsLast: true);
            int rank = x.Rank;
            long axis = IntAttribute("axis", _opset < 13 ? 1 : -1);
            if (axis < 0)
            {
                axis += rank;
            }

            if (x.Kind == OnnxLayoutKind.ChannelsLast)
            {
                // Opset < 13 normalizes over the axes from 'axis' on: the last axis alone when those before it are 1.
                long[] dims = x.OnnxDims;
                bool last = axis == rank - 1
                    || (_opset < 13 && axis >= 0 && axis < rank && dims[(int)axis..^1].All(d => d == 1));
                if (!last)
                {
                    throw Unsupported($"axis {IntAttribute("axis", _opset < 13 ? 1 : -1)} on a rank-{rank} input is not supported; only the last axis");
                }

                Define(x with { Value = _builder.Softmax(x.Value, IrName()) });
                return;
            }

            // Opset < 13 normalizes over all axes from 'axis' on; opset 13 over 'axis' alone. Either way, the IR's
            // softmax over channels is right when that is exactly the channel axis (or all of a row of a matrix).
            bool channels = axis == 1 && (rank == 2 || _opset >= 13 || x.Height * x.Width == 1);
            if (!channels)
            {
                throw Unsupported($"axis {IntAttribute("axis", _opset < 13 ? 1 : -1)} on a rank-{rank} input is not supported; only the channel axis");
            }

            Define(x with { Value = _builder.Softmax(x.Value, IrName()) });
        }

        /// <summary>A fully connected layer from ONNX [K, N] (or [N, K] when <paramref name="transposed"/>) weights.</summary>
        private void FullyConnected(Imported x, OnnxTensor b, bool transposed, float alpha, float[]? bias)
        {
            if (x.Kind == OnnxLayoutKind.Nchw)
            {
                throw Unsupported("the input is N×C×H×W; only an N×K matrix is supported (flatten first)");
            }

            if (b.Dims.Count != 2)
            {
                throw Unsupported($"the weights '{b.Name}' are [{string.Join(", ", b.Dims)}]; a matrix is needed");
            }

            int k = x.Value.Shape.C;
            int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
            int outChannels = transposed ? rows : cols;
            if ((transposed ? cols : rows) != k)
            {
                throw Unsupported($"the weights '{b.Name}' are [{rows}, {cols}] but the input has {k} features");
            }

            float[] src = Floats(b);
            var weights = new float[src.Length];
            int hw = x.Height * x.Width;
            for (int o = 0; o < outChannels; o++)
            {
                for (int j = 0; j < k; j++)
                {
                    // IR column j; the ONNX column holding the same feature.
                    int onnx = x.Kind == OnnxLayoutKind.FlattenedNhwc ? ((j % x.Channels) * hw) + (j / x.Channels) : j;
                    weights[(o * k) + j] = alpha * (transposed ? src[(o * k) + onnx] : src[(onnx * outChannels) + o]);
                }
            }

            Constant w = MakeConstant("weights", ConstantRole.Weights, [outChannels, k], weights);
            Constant? c = bias is null ? null : MakeConstant("bias", ConstantRole.Bias, [outChannels], bias);
            Value y = _builder.FullyConnected(x.Value, outChannels, w, c, IrName());
            Define(new Imported(y, OnnxLayoutKind.Matrix, outChannels, 1, 1));
        }

        private void ImportGemm()
        {
            OnlyOutputs(1);
            RejectAttributes(("transA", 0));
            Imported a = Activation(0);
            OnnxTensor b = RequiredConstant(1);
            bool transB = IntAttribute("transB", 0) != 0;
            float alpha = FloatAttribute("alpha", 1f), beta = FloatAttribute("beta", 1f);
            float[]? bias = null;
            if (ConstantInput(2) is { } c)
            {
                int n = (int)(transB ? b.Dims[0] : b.Dims[^1]);
                float[] values = Floats(c);
                bool scalar = c.ElementCount == 1;
                bool row = c.ElementCount == n && (c.Dims.Count < 2 || c.Dims[0] == 1);
                if (!scalar && !row)
                {
                    throw Unsupported($"C '{c.Name}' is [{string.Join(", ", c.Dims)}]; only a scalar or a [{n}] / [1, {n}] bias is supported");
                }

                bias = new float[n];
                for (int i = 0; i < n; i++)
                {
                    bias[i] = beta * values[scalar ? 0 : i];
                }
            }

            FullyConnected(a, b, transB, alpha, bias);
        }

        private void ImportMatMul()
        {
            OnlyOutputs(1);
            Imported a = Activation(0);
            FullyConnected(a, RequiredConstant(1), transposed: false, alpha: 1f, bias: null);
        }

        private void ImportAdd()
        {
            OnlyOutputs(1);
            if (!HasInput(1) || IsConstant(_node.Inputs[0]) || IsConstant(_node.Inputs[1]))
            {
                throw Unsupported("only the sum of two activations of the same shape is supported");
            }

            Imported a = Activation(0, channelsLast: true), b = Activation(1, channelsLast: true);
            if (a.Kind != b.Kind || a.Rank != b.Rank || a.Channels != b.Channels || a.Height != b.Height || a.Width != b.Width || a.Value.Shape != b.Value.Shape)
            {
                throw Unsupported(string.Create(
                    CultureInfo.InvariantCulture,
                    $"the inputs are [{string.Join(", ", a.OnnxDims)}] and [{string.Join(", ", b.OnnxDims)}]; broadcasting is not supported"));
            }

            Define(a with { Value = _builder.Add(a.Value, b.Value, IrName()) });
        }
    }
}
