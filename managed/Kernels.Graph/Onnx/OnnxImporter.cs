using System.Globalization;
using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.Graph.Quantization;

namespace Kernels.Graph.Onnx;

/// <summary>An imported model: the IR graph and how each ONNX input and output maps onto its values.</summary>
/// <param name="Graph">The NHWC graph.</param>
/// <param name="Inputs">The ONNX graph inputs fed at run time (bound and initializer inputs excluded), in ONNX order.</param>
/// <param name="Outputs">The ONNX graph outputs, in ONNX order.</param>
/// <param name="Quantization">
/// The quantization parameters a QDQ model carries (QuantizeLinear → DequantizeLinear pairs on activations, folded away in
/// the float graph), keyed by the IR value each pair annotates and converted to uint8; null when the model has none.
/// Pass it as <c>InferenceOptions.Quantization</c> to run the model in 8 bits with the model's own parameters.
/// </param>
public sealed record OnnxImportedModel(
    NetworkGraph Graph, IReadOnlyList<OnnxTensorLayout> Inputs, IReadOnlyList<OnnxTensorLayout> Outputs, QuantizationTable? Quantization = null);

/// <summary>
/// Maps an ONNX model (NCHW semantics) onto the NHWC graph IR. Every imported tensor keeps its ONNX dimensions and
/// how the IR buffer holds them (<see cref="OnnxTensorLayout"/>): 4-D activations N×C×H×W as the IR's N×H×W×C, other
/// ranks in ONNX order. Transpose, Reshape, Flatten, Squeeze and Unsqueeze only change that bookkeeping (a Transpose
/// pair around an NHWC-exported model costs nothing; a graph input read only through one Transpose is laid out so the
/// transposed tensor is NCHW), and constants are folded at import (Shape of a static tensor, Constant,
/// ConstantOfShape, and shape arithmetic on constants). Everything the IR cannot express exactly (an operator, an
/// attribute value, a data type, a dynamic shape, a layout that would need data movement) raises
/// <see cref="NotSupportedException"/> naming the node and its operator, at import, so a graph that imports runs.
/// Opsets 9 to 17 of the default domain.
/// </summary>
public static partial class OnnxImporter
{
    /// <summary>The lowest default-domain opset accepted.</summary>
    public const long MinOpset = 9;

    /// <summary>The highest default-domain opset accepted.</summary>
    public const long MaxOpset = 17;

    /// <summary>The ONNX operators the importer maps (each within the limits its mapping states).</summary>
    public static IReadOnlyList<string> SupportedOperators { get; } =
    [
        "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv", "Div",
        "Dropout", "Flatten", "Gather", "Gemm", "GlobalAveragePool", "HardSigmoid", "Identity", "LRN", "LeakyRelu",
        "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Shape", "Sigmoid", "Softmax", "Squeeze", "Sub",
        "Transpose", "Unsqueeze", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
        "MatMulInteger",
    ];

    /// <summary>Reads and imports an .onnx file.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static NetworkGraph Load(string path) => Import(OnnxModel.Load(path));

    /// <summary>Reads and imports an .onnx file, with the layouts of its inputs and outputs.</summary>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static OnnxImportedModel LoadModel(string path) => ImportModel(OnnxModel.Load(path));

    /// <summary>Imports a model.</summary>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static NetworkGraph Import(OnnxModel model) => ImportModel(model).Graph;

    /// <summary>
    /// Imports a model and reports the layout of every graph input and output. <paramref name="boundInputs"/> freezes
    /// graph inputs to given values: a bound input becomes that constant (ONNX's node tests pass weights this way).
    /// </summary>
    /// <exception cref="NotSupportedException">The model uses something the IR cannot express; the message names the node and operator.</exception>
    public static OnnxImportedModel ImportModel(OnnxModel model, IReadOnlyDictionary<string, OnnxTensor>? boundInputs = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new Importer(model, boundInputs).Run();
    }

    /// <summary>
    /// An IR value with the ONNX tensor it carries: ONNX dimensions <see cref="Dims"/>, a reshape of a source tensor of
    /// dimensions <see cref="Source"/> whose axes the buffer holds in the order <see cref="Perm"/> (see <see cref="OnnxTensorLayout"/>).
    /// The IR shape is always <see cref="IrShape"/> of the buffer dimensions, so the innermost buffer axis is the IR's C.
    /// </summary>
    private sealed record Imported(Value Value, long[] Dims, long[] Source, int[] Perm)
    {
        public int Rank => Dims.Length;

        /// <summary>A reshape the buffer has not followed (the ONNX dimensions are not the source's).</summary>
        public bool Pending => !Dims.AsSpan().SequenceEqual(Source);

        public long[] BufferDims => Perm.Select(a => Source[a]).ToArray();

        /// <summary>An N×C×H×W tensor held as the IR's N×H×W×C.</summary>
        public bool IsNchw => !Pending && Rank == 4 && Perm.AsSpan().SequenceEqual([0, 2, 3, 1]);

        /// <summary>The ONNX axis the IR holds as channels (the innermost buffer axis); -1 with a pending reshape or rank 0.</summary>
        public int ChannelAxis => Pending || Rank == 0 ? -1 : Perm[^1];

        /// <summary>The buffer is in ONNX order.</summary>
        public bool OnnxOrder => OnnxTensorLayout.IsEffectivelyIdentity(Source, Perm);
    }

    private static int[] Identity(int rank) => Enumerable.Range(0, rank).ToArray();

    /// <summary>The permutation a fresh tensor of this rank gets: NCHW as NHWC for rank 4, ONNX order otherwise.</summary>
    private static int[] Canonical(int rank) => rank == 4 ? [0, 2, 3, 1] : Identity(rank);

    private static string Dims(IEnumerable<long> dims) => $"[{string.Join(", ", dims)}]";

    private sealed partial class Importer
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
                if (_constants.ContainsKey(input.Name))
                {
                    continue;
                }

                if (_bound.TryGetValue(input.Name, out OnnxTensor? bound))
                {
                    _constants[input.Name] = bound;
                    continue;
                }

                _graphInputs[input.Name] = input;
            }

            IndexConsumers();
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
                catch (ArgumentException e) when (e.Message.StartsWith("Node '", StringComparison.Ordinal))
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

            var ordered = _inputLayouts.OrderBy(l => IndexOfInput(l.OnnxName)).ToList();
            NetworkGraph graph = _builder.Build(outputs.Select(o => o.Value).ToArray());
            return new OnnxImportedModel(graph, ordered, outputs, QuantizationTable());
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

        private static OnnxTensorLayout Layout(string name, Imported v) => new(name, v.Value, v.Dims, v.Source, v.Perm);

        private NotSupportedException Unsupported(string why) =>
            new($"ONNX node '{_nodeName}' ({_node.OpType}): {why}.");

        private string IrName(int output = 0) => _node.Outputs[output];

        private void ImportNode(OnnxNode node)
        {
            if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
            {
                throw Unsupported("it has no output");
            }

            if (FoldConstants(node))
            {
                return;
            }

            switch (node.OpType)
            {
                case "Constant": ImportConstant(); return;
                case "ConstantOfShape": ImportConstantOfShape(); return;
                case "Shape": ImportShape(); return;
                case "Identity": OnlyOutputs(1); Define(ActivationAnyLayout(0)); return;
                case "Dropout": ImportDropout(); return;
                case "Conv": ImportConv(); return;
                case "MaxPool":
                case "AveragePool": ImportPool(); return;
                case "GlobalAveragePool":
                    {
                        OnlyOutputs(1);
                        Imported x = Spatial(0);
                        Value y = _builder.GlobalAveragePool(x.Value, IrName());
                        long[] dims = [x.Dims[0], x.Dims[1], 1, 1];
                        Define(new Imported(y, dims, dims, Canonical(4)));
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
                case "Squeeze": ImportSqueeze(); return;
                case "Unsqueeze": ImportUnsqueeze(); return;
                case "Transpose": ImportTranspose(); return;
                case "Softmax": ImportSoftmax(); return;
                case "Gemm": ImportGemm(); return;
                case "MatMul": ImportMatMul(); return;
                case "Add":
                case "Sub":
                case "Mul":
                case "Div": ImportBinary(); return;
                case "Pad": ImportPad(); return;
                case "QuantizeLinear": ImportQuantizeLinear(); return;
                case "DequantizeLinear": ImportDequantizeLinear(); return;
                case "QLinearConv": ImportQLinearConv(); return;
                case "ConvInteger": ImportConvInteger(); return;
                case "QLinearMatMul": ImportQLinearMatMul(); return;
                case "MatMulInteger": ImportMatMulInteger(); return;
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

        private bool IsConstant(int index) => HasInput(index) && !_values.ContainsKey(_node.Inputs[index]) && _constants.ContainsKey(_node.Inputs[index]);

        /// <summary>The IR shape of a buffer: its last axis is C; rank 3 (a, b, c) is a×1×b×c; leading axes past 4 fold into N.</summary>
        private TensorShape IrShape(long[] buffer)
        {
            long n = 1;
            for (int i = 0; i < buffer.Length - 3; i++)
            {
                n *= buffer[i];
            }

            long[] last = buffer.Length switch
            {
                0 => [1, 1, 1, 1],
                1 => [1, 1, 1, buffer[0]],
                2 => [buffer[0], 1, 1, buffer[1]],
                3 => [buffer[0], 1, buffer[1], buffer[2]],
                _ => [n, buffer[^3], buffer[^2], buffer[^1]],
            };
            if (last.Any(d => d is < 1 or > int.MaxValue))
            {
                throw Unsupported($"a tensor of dimensions {Dims(buffer)} does not fit the IR (every axis 1 to 2^31 - 1)");
            }

            return new TensorShape((int)last[0], (int)last[1], (int)last[2], (int)last[3]);
        }

        /// <summary>The activation at input <paramref name="index"/>; a graph input becomes an IR input on first use.</summary>
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

            // 8-bit inputs (of the integer operators) are held as float values.
            if (info.Kind != OnnxValueKind.Tensor || info.ElementType is not (OnnxDataType.Float or OnnxDataType.UInt8 or OnnxDataType.Int8))
            {
                throw Unsupported($"graph input '{name}' is {info.Kind} of {info.ElementType}; only float, uint8 and int8 tensors are supported");
            }

            if (info.Shape is null || info.Shape.Any(d => d.Value is null or < 1 or > int.MaxValue))
            {
                throw Unsupported($"graph input '{name}' has a dynamic or missing shape [{(info.Shape is null ? "?" : string.Join(", ", info.Shape))}]");
            }

            long[] dims = info.Shape.Select(d => d.Value!.Value).ToArray();
            int[] perm = InputPermutation(name, dims.Length);
            Value value = _builder.Input(name, IrShape(perm.Select(a => dims[a]).ToArray()));
            var imported = new Imported(value, dims, dims, perm);
            _values[name] = imported;
            _inputLayouts.Add(Layout(name, imported));
            return imported;
        }

        /// <summary>
        /// The buffer order of a graph input: when every node reading it is a Transpose by the same permutation p, the
        /// order that makes the transposed tensor canonical (so a model exported from NHWC pays no transpose);
        /// otherwise canonical.
        /// </summary>
        private int[] InputPermutation(string name, int rank)
        {
            int[]? common = null;
            foreach (OnnxNode n in _model.Graph.Nodes.Where(n => n.Inputs.Contains(name)))
            {
                long[]? p = n.OpType == "Transpose" && n.Inputs.Count == 1 ? n.FindAttribute("perm")?.Ints.ToArray() : null;
                if (p is null || p.Length != rank || (common is not null && !common.Select(v => (long)v).SequenceEqual(p)))
                {
                    return Canonical(rank);
                }

                common = p.Select(v => (int)v).ToArray();
            }

            if (common is null || !common.Order().SequenceEqual(Identity(rank)))
            {
                return Canonical(rank);
            }

            int[] c = Canonical(rank);
            return c.Select(j => common[j]).ToArray();
        }

        /// <summary>An N×C×H×W activation held as the IR's N×H×W×C.</summary>
        private Imported Spatial(int index)
        {
            Imported x = ActivationAnyLayout(index);
            return x.IsNchw
                ? x
                : throw Unsupported($"input '{_node.Inputs[index]}' is {Dims(x.Dims)}{(x.Rank == 4 ? " in a transposed layout" : "")}; the operator needs an N×C×H×W tensor");
        }

        /// <summary>The same buffer with another IR shape (an IR Reshape when the shape changes).</summary>
        private Value Reshaped(Value v, TensorShape shape, string name) =>
            v.Shape == shape ? v : _builder.Reshape(v, shape, name);

        /// <summary>
        /// <paramref name="x"/> reshaped to the ONNX dimensions <paramref name="dims"/>: free when the buffer is in
        /// ONNX order or only axes of length 1 come and go; otherwise the reshape stays pending (the buffer keeps its
        /// source, which only layout-agnostic consumers accept).
        /// </summary>
        private Imported ReshapeTo(Imported x, long[] dims, string name)
        {
            if (!x.Pending && x.OnnxOrder)
            {
                int[] perm = Canonical(dims.Length);
                if (!OnnxTensorLayout.IsEffectivelyIdentity(dims, perm))
                {
                    perm = Identity(dims.Length);
                }

                return new Imported(Reshaped(x.Value, IrShape(perm.Select(a => dims[a]).ToArray()), name), dims, dims, perm);
            }

            long[] from = x.Dims.Where(d => d != 1).ToArray(), to = dims.Where(d => d != 1).ToArray();
            if (!x.Pending && from.SequenceEqual(to))
            {
                // Only unit axes change: the k-th long axis of the result is the k-th of x; keep x's buffer order of them.
                int[] longOld = Enumerable.Range(0, x.Rank).Where(a => x.Dims[a] != 1).ToArray();
                int[] longNew = Enumerable.Range(0, dims.Length).Where(a => dims[a] != 1).ToArray();
                int[] bufferLong = x.Perm.Where(a => x.Dims[a] != 1).Select(a => longNew[Array.IndexOf(longOld, a)]).ToArray();
                int[] candidate = Canonical(dims.Length);
                int[] perm = candidate.Where(a => dims[a] != 1).SequenceEqual(bufferLong)
                    ? candidate
                    : Enumerable.Range(0, dims.Length).Where(a => dims[a] == 1).Concat(bufferLong).ToArray();
                return new Imported(Reshaped(x.Value, IrShape(perm.Select(a => dims[a]).ToArray()), name), dims, dims, perm);
            }

            return x with { Dims = dims };
        }

        /// <summary>The constant tensor at input <paramref name="index"/>, or null when the optional input is absent.</summary>
        private OnnxTensor? ConstantInput(int index)
        {
            if (!HasInput(index))
            {
                return null;
            }

            string name = _node.Inputs[index];
            if (!_values.ContainsKey(name) && _constants.TryGetValue(name, out OnnxTensor? t))
            {
                return t;
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

        /// <summary>Integer values of an attribute (any count), or null when absent.</summary>
        private long[]? LongsAttribute(string name) => _node.FindAttribute(name)?.Ints.ToArray();

        /// <summary>Axes from an attribute (opset below <paramref name="inputSince"/>) or input 1, normalized to [0, rank).</summary>
        private int[]? Axes(int rank, long inputSince)
        {
            long[]? axes = _opset >= inputSince ? (ConstantInput(1) is { } t ? Ints(t) : null) : LongsAttribute("axes");
            return axes?.Select(a => a < -rank || a >= rank
                ? throw Unsupported($"axis {a} is outside a rank-{rank} tensor")
                : (int)(a < 0 ? a + rank : a)).ToArray();
        }

        // ---- constants ----------------------------------------------------------------------------------------

        private void DefineConstant(OnnxTensor t, int output = 0)
        {
            OnlyOutputs(output + 1);
            _constants[_node.Outputs[output]] = t.Reshaped(_node.Outputs[output], t.Dims);
        }

        /// <summary>Evaluates shape-only operators whose inputs are all constants; true when the node was folded.</summary>
        private bool FoldConstants(OnnxNode node)
        {
            bool all = node.Inputs.Count > 0 && Enumerable.Range(0, node.Inputs.Count).All(i => !HasInput(i) || IsConstant(i)) && IsConstant(0);
            if (!all)
            {
                return false;
            }

            OnnxTensor x = _constants[node.Inputs[0]];
            switch (node.OpType)
            {
                case "Identity":
                case "Dropout":
                    DefineConstant(x);
                    return true;
                case "Reshape":
                    DefineConstant(x.Reshaped(IrName(), ReshapeDims(x.Dims.ToArray(), Ints(RequiredConstant(1)))));
                    return true;
                case "Flatten":
                    {
                        int axis = FlattenAxis(x.Dims.Count);
                        long outer = x.Dims.Take(axis).Aggregate(1L, (a, b) => a * b);
                        DefineConstant(x.Reshaped(IrName(), [outer, x.ElementCount / outer]));
                        return true;
                    }

                case "Squeeze":
                    DefineConstant(x.Reshaped(IrName(), SqueezeDims(x.Dims.ToArray())));
                    return true;
                case "Unsqueeze":
                    DefineConstant(x.Reshaped(IrName(), UnsqueezeDims(x.Dims.ToArray())));
                    return true;
                case "Shape":
                    ImportShape();
                    return true;
                case "Transpose":
                    {
                        int[] perm = TransposePermutation(x.Dims.Count);
                        long[] dims = perm.Select(a => x.Dims[a]).ToArray();
                        float[] values = Floats(x);
                        var y = new float[values.Length];
                        int[] map = OnnxTensorLayout.BufferIndexMap(x.Dims, perm);
                        for (int i = 0; i < map.Length; i++)
                        {
                            y[map[i]] = values[i];
                        }

                        DefineConstant(OnnxTensor.FromFloats(IrName(), dims, y));
                        return true;
                    }

                case "Concat" when x.DataType is OnnxDataType.Int64 or OnnxDataType.Int32 && x.Dims.Count == 1:
                    {
                        OnlyOutputs(1);
                        long[] values = Enumerable.Range(0, node.Inputs.Count).SelectMany(i => Ints(RequiredConstant(i))).ToArray();
                        DefineConstant(OnnxTensor.FromInt64s(IrName(), [values.Length], values));
                        return true;
                    }

                case "Gather" when x.DataType is OnnxDataType.Int64 or OnnxDataType.Int32 && x.Dims.Count == 1:
                    {
                        OnlyOutputs(1);
                        long[] data = Ints(x);
                        OnnxTensor indices = RequiredConstant(1);
                        long[] picked = Ints(indices).Select(i => i >= -data.Length && i < data.Length
                            ? data[i < 0 ? i + data.Length : i]
                            : throw Unsupported($"index {i} is outside [{-data.Length}, {data.Length})")).ToArray();
                        DefineConstant(OnnxTensor.FromInt64s(IrName(), indices.Dims.ToArray(), picked));
                        return true;
                    }

                default:
                    return false;
            }
        }

        private void ImportConstant()
        {
            OnlyOutputs(1);
            if (_node.Attributes.Count != 1)
            {
                throw Unsupported("a Constant needs exactly one value attribute");
            }

            OnnxAttribute a = _node.Attributes[0];
            OnnxTensor t = a.Name switch
            {
                "value" when a.Tensor is not null => a.Tensor,
                "value_float" => OnnxTensor.FromFloats(IrName(), [], [a.Float]),
                "value_floats" => OnnxTensor.FromFloats(IrName(), [a.Floats.Count], a.Floats.ToArray()),
                "value_int" => OnnxTensor.FromInt64s(IrName(), [], [a.Int]),
                "value_ints" => OnnxTensor.FromInt64s(IrName(), [a.Ints.Count], a.Ints.ToArray()),
                _ => throw Unsupported($"the attribute '{a.Name}' is not supported (value, value_float(s), value_int(s))"),
            };
            DefineConstant(t);
        }

        private void ImportConstantOfShape()
        {
            OnlyOutputs(1);
            long[] dims = Ints(RequiredConstant(0));
            if (dims.Any(d => d < 0))
            {
                throw Unsupported($"the shape {Dims(dims)} has a negative dimension");
            }

            long count = dims.Aggregate(1L, (a, b) => checked(a * b));
            OnnxTensor? value = _node.FindAttribute("value")?.Tensor;
            if (value is not null && value.ElementCount != 1)
            {
                throw Unsupported($"the value tensor has {value.ElementCount} elements; one is needed");
            }

            if (value is null || value.DataType is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16)
            {
                float fill = value is null ? 0f : Floats(value)[0];
                DefineConstant(OnnxTensor.FromFloats(IrName(), dims, Enumerable.Repeat(fill, checked((int)count)).ToArray()));
                return;
            }

            long v = Ints(value)[0];
            DefineConstant(OnnxTensor.FromInt64s(IrName(), dims, Enumerable.Repeat(v, checked((int)count)).ToArray()));
        }

        private void ImportShape()
        {
            OnlyOutputs(1);
            long[] dims = IsConstant(0) ? _constants[_node.Inputs[0]].Dims.ToArray() : ActivationAnyLayout(0).Dims;
            int rank = dims.Length;
            long start = IntAttribute("start", 0), end = IntAttribute("end", rank);
            int Clamp(long v) => (int)Math.Clamp(v < 0 ? v + rank : v, 0, rank);
            long[] slice = dims[Clamp(start)..Math.Max(Clamp(start), Clamp(end))];
            DefineConstant(OnnxTensor.FromInt64s(IrName(), [slice.Length], slice));
        }

        // ---- shape-only operators -----------------------------------------------------------------------------

        private long[] ReshapeDims(long[] input, long[] shape)
        {
            if (IntAttribute("allowzero", 0) != 0 && shape.Contains(0))
            {
                throw Unsupported("allowzero = 1 with a zero in the shape is not supported");
            }

            long total = input.Aggregate(1L, (a, b) => a * b);
            var dims = new long[shape.Length];
            int inferred = -1;
            for (int i = 0; i < shape.Length; i++)
            {
                dims[i] = shape[i] switch
                {
                    0 when i < input.Length => input[i],
                    -1 when inferred < 0 => 1,
                    > 0 => shape[i],
                    _ => throw Unsupported($"the target shape {Dims(shape)} is not valid for an input of {Dims(input)}"),
                };
                if (shape[i] == -1)
                {
                    inferred = i;
                }
            }

            long known = dims.Aggregate(1L, (a, b) => a * b);
            if (inferred >= 0)
            {
                if (known == 0 || total % known != 0)
                {
                    throw Unsupported($"the target shape {Dims(shape)} does not divide an input of {Dims(input)}");
                }

                dims[inferred] = total / known;
            }

            return dims.Aggregate(1L, (a, b) => a * b) == total
                ? dims
                : throw Unsupported($"the target shape {Dims(shape)} holds another element count than the input {Dims(input)}");
        }

        private int FlattenAxis(int rank)
        {
            long axis = IntAttribute("axis", 1);
            return axis >= -rank && axis <= rank
                ? (int)(axis < 0 ? axis + rank : axis)
                : throw Unsupported($"axis {axis} is outside a rank-{rank} tensor");
        }

        private long[] SqueezeDims(long[] dims)
        {
            int[]? axes = Axes(dims.Length, 13);
            if (axes is not null && axes.Any(a => dims[a] != 1))
            {
                throw Unsupported($"an axis in [{string.Join(", ", axes)}] of {Dims(dims)} is not 1");
            }

            return dims.Where((d, i) => axes is null ? d != 1 : !axes.Contains(i)).ToArray();
        }

        private long[] UnsqueezeDims(long[] dims)
        {
            int rank = dims.Length + (_opset >= 13 ? (ConstantInput(1) is { } t ? (int)t.ElementCount : 0) : LongsAttribute("axes")?.Length ?? 0);
            int[] axes = Axes(rank, 13) ?? throw Unsupported("the axes are missing");
            if (axes.Distinct().Count() != axes.Length)
            {
                throw Unsupported("the axes repeat");
            }

            var result = new long[rank];
            int next = 0;
            for (int i = 0; i < rank; i++)
            {
                result[i] = axes.Contains(i) ? 1 : dims[next++];
            }

            return result;
        }

        private int[] TransposePermutation(int rank)
        {
            long[]? perm = LongsAttribute("perm");
            if (perm is null)
            {
                return Enumerable.Range(0, rank).Reverse().ToArray();
            }

            if (perm.Length != rank || !perm.Order().SequenceEqual(Enumerable.Range(0, rank).Select(i => (long)i)))
            {
                throw Unsupported($"perm [{string.Join(", ", perm)}] is not a permutation of {rank} axes");
            }

            return perm.Select(p => (int)p).ToArray();
        }

        private void ImportFlatten()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            int axis = FlattenAxis(x.Rank);
            long outer = x.Dims.Take(axis).Aggregate(1L, (a, b) => a * b), inner = x.Dims.Skip(axis).Aggregate(1L, (a, b) => a * b);
            Define(ReshapeTo(x, [outer, inner], IrName()));
        }

        private void ImportReshape()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            Define(ReshapeTo(x, ReshapeDims(x.Dims, Ints(RequiredConstant(1))), IrName()));
        }

        private void ImportSqueeze()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            Define(ReshapeTo(x, SqueezeDims(x.Dims), IrName()));
        }

        private void ImportUnsqueeze()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            Define(ReshapeTo(x, UnsqueezeDims(x.Dims), IrName()));
        }

        private void ImportTranspose()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            int[] p = TransposePermutation(x.Rank);
            if (x.Pending)
            {
                if (!x.OnnxOrder)
                {
                    throw Unsupported($"the input {Dims(x.Dims)} is a reshape of a transposed tensor; transposing it again would move data");
                }

                x = ReshapeTo(x with { Dims = x.Source }, x.Dims, IrName() + "/reshape");
            }

            // The buffer is unchanged: its axis j holds source axis Perm[j], which is axis pinv[Perm[j]] of the result.
            var pinv = new int[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                pinv[p[i]] = i;
            }

            long[] dims = p.Select(a => x.Dims[a]).ToArray();
            Define(new Imported(x.Value, dims, dims, x.Perm.Select(a => pinv[a]).ToArray()));
        }

        // ---- element-wise -------------------------------------------------------------------------------------

        private void ImportDropout()
        {
            OnlyOutputs(1);
            if (HasInput(2) && ConstantInput(2) is { } training && Ints(training).Any(v => v != 0))
            {
                throw Unsupported("training_mode is true; only inference is supported");
            }

            Imported x = ActivationAnyLayout(0);
            Define(x with { Value = _builder.Dropout(x.Value, name: IrName()) });
        }

        private void Elementwise(Func<Value, Value> make)
        {
            Imported x = ActivationAnyLayout(0);
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

        /// <summary>A constant broadcast (NumPy rules) to <paramref name="dims"/>, row-major; throws when it does not broadcast there.</summary>
        private float[] Broadcast(OnnxTensor t, long[] dims)
        {
            long[] k = t.Dims.ToArray();
            if (k.Length > dims.Length || k.Select((d, i) => d == 1 || d == dims[dims.Length - k.Length + i]).Any(ok => !ok))
            {
                throw Unsupported($"the constant '{t.Name}' {Dims(k)} does not broadcast to the activation's {Dims(dims)}");
            }

            float[] values = Floats(t);
            long count = dims.Aggregate(1L, (a, b) => a * b);
            var result = new float[count];
            var index = new long[dims.Length];
            for (long i = 0; i < count; i++)
            {
                long source = 0;
                for (int a = 0; a < k.Length; a++)
                {
                    source = (source * k[a]) + (k[a] == 1 ? 0 : index[dims.Length - k.Length + a]);
                }

                result[i] = values[source];
                for (int a = dims.Length - 1; a >= 0 && ++index[a] == dims[a]; a--)
                {
                    index[a] = 0;
                }
            }

            return result;
        }

        /// <summary>Add, Sub, Mul and Div: of two activations of one layout, or of an activation and a constant that broadcasts to it.</summary>
        private void ImportBinary()
        {
            OnlyOutputs(1);
            string op = _node.OpType;
            if (!HasInput(1))
            {
                throw Unsupported("input 1 is missing");
            }

            if (!IsConstant(0) && !IsConstant(1))
            {
                Imported a = ActivationAnyLayout(0), b = ActivationAnyLayout(1);
                if (!a.Dims.SequenceEqual(b.Dims))
                {
                    throw Unsupported($"the inputs are {Dims(a.Dims)} and {Dims(b.Dims)}; broadcasting between two activations is not supported");
                }

                if (!a.Source.SequenceEqual(b.Source) || !a.Perm.SequenceEqual(b.Perm) || a.Value.Shape != b.Value.Shape)
                {
                    throw Unsupported("the two inputs are held in different layouts");
                }

                Value y = op switch
                {
                    "Add" => _builder.Add(a.Value, b.Value, IrName()),
                    "Mul" => _builder.Mul(a.Value, b.Value, IrName()),
                    _ => throw Unsupported($"{op} of two activations is not supported (only of an activation and a constant)"),
                };
                Define(a with { Value = y });
                return;
            }

            bool constantFirst = IsConstant(0);
            Imported x = ActivationAnyLayout(constantFirst ? 1 : 0);
            OnnxTensor k = RequiredConstant(constantFirst ? 0 : 1);
            float[] full = Broadcast(k, x.Dims);

            // y = x·scale + shift with per-element (scale, shift) from the constant value v.
            (float Scale, float Shift) Affine(float v) => (op, constantFirst) switch
            {
                ("Add", _) => (1f, v),
                ("Mul", _) => (v, 0f),
                ("Sub", false) => (1f, -v),
                ("Sub", true) => (-1f, v),
                ("Div", false) => (1f / v, 0f),
                _ => throw Unsupported("a constant divided by an activation is not supported"),
            };

            // Per channel when the constant varies along the IR's channel axis at most.
            long[] kd = k.Dims.ToArray();
            int varying = -1;
            bool perChannel = true;
            for (int a = 0; a < kd.Length; a++)
            {
                if (kd[a] != 1)
                {
                    int axis = x.Rank - kd.Length + a;
                    perChannel &= varying < 0 && axis == x.ChannelAxis;
                    varying = axis;
                }
            }

            if (perChannel)
            {
                int c = x.Value.Shape.C;
                var scale = new float[c];
                var shift = new float[c];
                float[] values = Floats(k);
                for (int i = 0; i < c; i++)
                {
                    (scale[i], shift[i]) = Affine(values[varying < 0 ? 0 : i]);
                }

                Value y = _builder.ChannelAffine(
                    x.Value, MakeConstant("scale", ConstantRole.Scale, [c], scale), MakeConstant("shift", ConstantRole.Shift, [c], shift), IrName());
                Define(x with { Value = y });
                return;
            }

            if (op is "Div" or "Sub" && constantFirst)
            {
                throw Unsupported($"a constant {(op == "Div" ? "divided by" : "minus")} an activation is not supported");
            }

            // A full constant tensor in the activation's buffer order.
            var buffer = new float[full.Length];
            int[] map = OnnxTensorLayout.BufferIndexMap(x.Source, x.Perm);
            for (int i = 0; i < map.Length; i++)
            {
                float v = full[i];
                buffer[map[i]] = op switch { "Sub" => -v, "Div" => 1f / v, _ => v };
            }

            TensorShape s = x.Value.Shape;
            Value constant = _builder.ConstantTensor(MakeConstant("values", ConstantRole.Tensor, [s.N, s.H, s.W, s.C], buffer), s, IrName() + "/constant");
            Value result = op is "Add" or "Sub" ? _builder.Add(x.Value, constant, IrName()) : _builder.Mul(x.Value, constant, IrName());
            Define(x with { Value = result });

        }

        // ---- layers -------------------------------------------------------------------------------------------

        private void ImportConv()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            OnnxTensor w = ConvWeights(1);
            float[]? bias = ConstantInput(2) is { } b ? Vector(b, (int)w.Dims[0], "bias") : null;
            DefineNchw(Convolution(x, w, Floats(w), bias, IrName()));
        }

        /// <summary>The constant 4-D (OIHW) weights at input <paramref name="index"/>.</summary>
        private OnnxTensor ConvWeights(int index)
        {
            OnnxTensor w = RequiredConstant(index);
            return w.Dims.Count == 4
                ? w
                : throw Unsupported($"the weights '{w.Name}' are [{string.Join(", ", w.Dims)}]; only 2-D convolution (4-D weights) is supported");
        }

        /// <summary>The node's convolution (attributes from the node) of <paramref name="x"/> with OIHW weights <paramref name="src"/> of the shape of <paramref name="w"/>.</summary>
        private Value Convolution(Imported x, OnnxTensor w, float[] src, float[]? biasValues, string name)
        {
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
                x.Value.Shape.H, x.Value.Shape.W, ((kh - 1) * dilations[0]) + 1, ((kw - 1) * dilations[1]) + 1, strides[0], strides[1]);

            // OIHW -> OHWI.
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

            var weights = new Constant($"{name}.weights", ConstantRole.Weights, [m, kh, kw, cPerGroup], ohwi);
            Constant? bias = biasValues is null ? null : new Constant($"{name}.bias", ConstantRole.Bias, [m], biasValues);
            var descriptor = new Conv2DDescriptor
            {
                Batch = x.Value.Shape.N,
                InputHeight = x.Value.Shape.H,
                InputWidth = x.Value.Shape.W,
                InputChannels = x.Value.Shape.C,
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
            return _builder.Conv(x.Value, descriptor, weights, bias, name);
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

            (int top, int left, int bottom, int right) = Padding(x.Value.Shape.H, x.Value.Shape.W, kernel[0], kernel[1], strides[0], strides[1]);
            var descriptor = new Pool2DDescriptor
            {
                Kind = max ? PoolingKind.Max : PoolingKind.Average,
                Batch = x.Value.Shape.N,
                InputHeight = x.Value.Shape.H,
                InputWidth = x.Value.Shape.W,
                Channels = x.Value.Shape.C,
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
            DefineNchw(y);
        }

        /// <summary>Defines the node's output as an N×C×H×W tensor held as the IR value <paramref name="y"/> (NHWC).</summary>
        private void DefineNchw(Value y)
        {
            TensorShape s = y.Shape;
            long[] dims = [s.N, s.C, s.H, s.W];
            Define(new Imported(y, dims, dims, Canonical(4)));
        }

        private void ImportBatchNorm()
        {
            OnlyOutputs(1);
            RejectAttributes(("training_mode", 0));
            if (_opset < 9 && _node.FindAttribute("spatial") is { Int: 0 })
            {
                throw Unsupported("spatial = 0 is not supported");
            }

            Imported x = ActivationAnyLayout(0);
            if (x.Rank < 2 || x.ChannelAxis != 1)
            {
                throw Unsupported($"the input {Dims(x.Dims)} does not hold its channel axis 1 innermost");
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

        /// <summary>Concat along the axis the IR holds as channels; constant inputs become constant tensors in the same layout.</summary>
        private void ImportConcat()
        {
            OnlyOutputs(1);
            int first = Enumerable.Range(0, _node.Inputs.Count).FirstOrDefault(i => !IsConstant(i), -1);
            if (first < 0)
            {
                throw Unsupported("every input is a constant of a type that is not folded");
            }

            Imported reference = ActivationAnyLayout(first);
            int rank = reference.Rank;
            long axis = IntAttribute("axis", _opset < 11 ? 1 : long.MinValue);
            if (axis == long.MinValue)
            {
                throw Unsupported("the axis attribute is missing");
            }

            if (axis < -rank || axis >= rank)
            {
                throw Unsupported($"axis {axis} is outside a rank-{rank} tensor");
            }

            int a = (int)(axis < 0 ? axis + rank : axis);
            if (reference.Pending)
            {
                throw Unsupported($"input {first} {Dims(reference.Dims)} is a reshape of a transposed tensor");
            }

            // Along the innermost buffer axis this is the IR's channel concat. Along another, each input is a run of
            // equal outer blocks: viewed as (outer, 1, 1, block) rows the channel concat joins the blocks.
            bool innermost = reference.ChannelAxis == a;
            int position = Array.IndexOf(reference.Perm, a);
            long outer = reference.Perm.Take(position).Aggregate(1L, (p, d) => p * reference.Dims[d]);

            var values = new List<Value>();
            long total = 0;
            for (int i = 0; i < _node.Inputs.Count; i++)
            {
                Imported v;
                if (IsConstant(i))
                {
                    OnnxTensor k = RequiredConstant(i);
                    long[] dims = reference.Dims.ToArray();
                    dims[a] = k.Dims.Count == rank ? k.Dims[a] : -1;
                    if (!k.Dims.SequenceEqual(dims))
                    {
                        throw Unsupported($"the constant '{k.Name}' {Dims(k.Dims)} does not match the other inputs {Dims(reference.Dims)} off axis {a}");
                    }

                    float[] onnx = Floats(k), buffer = new float[onnx.Length];
                    int[] map = OnnxTensorLayout.BufferIndexMap(dims, reference.Perm);
                    for (int e = 0; e < map.Length; e++)
                    {
                        buffer[map[e]] = onnx[e];
                    }

                    TensorShape s = IrShape(reference.Perm.Select(p => dims[p]).ToArray());
                    Value c = _builder.ConstantTensor(MakeConstant($"input{i}", ConstantRole.Tensor, [s.N, s.H, s.W, s.C], buffer), s, $"{IrName()}/input{i}");
                    v = new Imported(c, dims, dims, reference.Perm);
                }
                else
                {
                    v = ActivationAnyLayout(i);
                }

                if (v.Pending || !v.Perm.SequenceEqual(reference.Perm) || v.Rank != rank
                    || Enumerable.Range(0, rank).Any(d => d != a && v.Dims[d] != reference.Dims[d]))
                {
                    throw Unsupported($"input {i} {Dims(v.Dims)} does not match input {first} {Dims(reference.Dims)} in shape or layout off axis {a}");
                }

                long block = v.Perm.Skip(position).Aggregate(1L, (p, d) => p * v.Dims[d]);
                if (!innermost && (outer > int.MaxValue || block > int.MaxValue))
                {
                    throw Unsupported($"input {i} {Dims(v.Dims)} is too large");
                }

                values.Add(innermost ? v.Value : Reshaped(v.Value, new TensorShape((int)outer, 1, 1, (int)block), $"{IrName()}/rows{i}"));
                total += v.Dims[a];
            }

            long[] outDims = reference.Dims.ToArray();
            outDims[a] = total;
            Value y = _builder.Concat(values, innermost ? IrName() : IrName() + "/concat");
            if (!innermost)
            {
                y = Reshaped(y, IrShape(reference.Perm.Select(d => outDims[d]).ToArray()), IrName());
            }

            Define(new Imported(y, outDims, outDims, reference.Perm));
        }

        private void ImportSoftmax()
        {
            OnlyOutputs(1);
            Imported x = ActivationAnyLayout(0);
            int rank = x.Rank;
            long axis = IntAttribute("axis", _opset < 13 ? 1 : -1);
            if (axis < -rank || axis >= rank)
            {
                throw Unsupported($"axis {axis} is outside a rank-{rank} tensor");
            }

            int a = (int)(axis < 0 ? axis + rank : axis);

            // The axes normalized together: from 'axis' on before opset 13, 'axis' alone from 13.
            int[] reduced = _opset < 13 ? Enumerable.Range(a, rank - a).ToArray() : [a];
            int[] longReduced = reduced.Where(r => x.Dims[r] != 1).ToArray();
            if (!x.Pending && (longReduced.Length == 0 ? x.ChannelAxis == a : longReduced.Length == 1 && longReduced[0] == x.ChannelAxis))
            {
                Define(x with { Value = _builder.Softmax(x.Value, IrName()) });
                return;
            }

            // In ONNX order, a suffix of the axes is a contiguous run of each row: softmax over rows of that length.
            bool suffix = Enumerable.Range(a, rank - a).All(r => reduced.Contains(r) || x.Dims[r] == 1);
            if (!x.Pending && x.OnnxOrder && suffix)
            {
                long inner = reduced.Aggregate(1L, (p, r) => p * x.Dims[r]);
                long outer = x.Value.Shape.ElementCount / inner;
                if (outer > int.MaxValue || inner > int.MaxValue)
                {
                    throw Unsupported($"the input {Dims(x.Dims)} is too large");
                }

                Value rows = Reshaped(x.Value, new TensorShape((int)outer, 1, 1, (int)inner), IrName() + "/rows");
                Value s = _builder.Softmax(rows, ReferenceEquals(rows, x.Value) ? IrName() : IrName() + "/softmax");
                Define(x with { Value = Reshaped(s, x.Value.Shape, IrName()) });
                return;
            }

            throw Unsupported($"axis {axis} of {Dims(x.Dims)} is not supported in this layout (only the axis the IR holds innermost, or a trailing run of axes in ONNX order)");
        }

        /// <summary>
        /// A fully connected layer over an activation whose ONNX dimensions are [N, K], from ONNX [K, OC] (or [OC, K]
        /// when <paramref name="transposed"/>) weights. The IR buffer may hold each row's K features in another order
        /// (a flattened NCHW tensor holds them NHWC): the weights' columns are permuted to match.
        /// </summary>
        private Imported FullyConnected(Imported x, OnnxTensor b, bool transposed, float alpha, float[]? bias, string name)
        {
            if (x.Rank != 2)
            {
                throw Unsupported($"the input is {Dims(x.Dims)}; only an N×K matrix is supported (flatten first)");
            }

            if (b.Dims.Count != 2)
            {
                throw Unsupported($"the weights '{b.Name}' are {Dims(b.Dims)}; a matrix is needed");
            }

            long n = x.Dims[0];
            int k = checked((int)x.Dims[1]);
            int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
            int outChannels = transposed ? rows : cols;
            if ((transposed ? cols : rows) != k)
            {
                throw Unsupported($"the weights '{b.Name}' are [{rows}, {cols}] but the input has {k} features");
            }

            // The buffer order of one row: the source without its batch axis, which must be outermost.
            int[] columnOf;
            if (x.OnnxOrder)
            {
                columnOf = Identity(k);
            }
            else if (n == 1)
            {
                columnOf = OnnxTensorLayout.BufferIndexMap(x.Source, x.Perm);
            }
            else if (x.Perm[0] == 0 && x.Source[0] == n)
            {
                columnOf = OnnxTensorLayout.BufferIndexMap(x.Source[1..], x.Perm[1..].Select(p => p - 1).ToArray());
            }
            else
            {
                throw Unsupported($"the input's rows are not contiguous in its layout (source {Dims(x.Source)})");
            }

            float[] src = Floats(b);
            var weights = new float[src.Length];
            for (int o = 0; o < outChannels; o++)
            {
                for (int j = 0; j < k; j++)
                {
                    // ONNX column j lands in buffer column columnOf[j].
                    weights[(o * k) + columnOf[j]] = alpha * (transposed ? src[(o * k) + j] : src[(j * outChannels) + o]);
                }
            }

            Value input = Reshaped(x.Value, new TensorShape(checked((int)n), 1, 1, k), name + "/rows");
            Constant w = MakeConstant("weights", ConstantRole.Weights, [outChannels, k], weights);
            Constant? c = bias is null ? null : MakeConstant("bias", ConstantRole.Bias, [outChannels], bias);
            Value y = _builder.FullyConnected(input, outChannels, w, c, name);
            long[] dims = [n, outChannels];
            return new Imported(y, dims, dims, Identity(2));
        }

        private void ImportGemm()
        {
            OnlyOutputs(1);
            RejectAttributes(("transA", 0));
            Imported a = ActivationAnyLayout(0);
            OnnxTensor b = RequiredConstant(1);
            if (b.Dims.Count != 2)
            {
                throw Unsupported($"B '{b.Name}' is {Dims(b.Dims)}; a matrix is needed");
            }

            bool transB = IntAttribute("transB", 0) != 0;
            float alpha = FloatAttribute("alpha", 1f), beta = FloatAttribute("beta", 1f);
            float[]? bias = null;
            OnnxTensor? matrix = null;
            if (ConstantInput(2) is { } c)
            {
                int n = (int)(transB ? b.Dims[0] : b.Dims[^1]);
                float[] values = Floats(c);
                bool scalar = c.ElementCount == 1;
                bool row = c.ElementCount == n && (c.Dims.Count < 2 || c.Dims[0] == 1);
                if (scalar || row)
                {
                    bias = new float[n];
                    for (int i = 0; i < n; i++)
                    {
                        bias[i] = beta * values[scalar ? 0 : i];
                    }
                }
                else
                {
                    // A bias per row too: added after the product as a constant tensor.
                    matrix = c;
                }
            }

            if (matrix is null)
            {
                Define(FullyConnected(a, b, transB, alpha, bias, IrName()));
                return;
            }

            Imported y = FullyConnected(a, b, transB, alpha, null, IrName() + "/product");
            float[] full = Broadcast(matrix, y.Dims);
            for (int i = 0; i < full.Length; i++)
            {
                full[i] *= beta;
            }

            TensorShape s = y.Value.Shape;
            Value constant = _builder.ConstantTensor(MakeConstant("c", ConstantRole.Tensor, [s.N, s.H, s.W, s.C], full), s, IrName() + "/c");
            Define(y with { Value = _builder.Add(y.Value, constant, IrName()) });
        }

        private void ImportMatMul()
        {
            OnlyOutputs(1);
            Define(MatMul(ActivationAnyLayout(0), RequiredConstant(1), IrName()));
        }

        /// <summary>A × B for a constant B (a matrix, or a stack of equal matrices that broadcasts as one).</summary>
        private Imported MatMul(Imported a, OnnxTensor b, string name)
        {
            if (b.Dims.Count > 2)
            {
                b = SingleMatrix(b);
            }

            if (a.Rank <= 2)
            {
                return FullyConnected(a, b, transposed: false, alpha: 1f, bias: null, name);
            }

            // [..., M, K] × [K, N]: one product per row of the leading axes, when the rows are contiguous.
            if (a.Pending || !a.OnnxOrder)
            {
                throw Unsupported($"the input {Dims(a.Dims)} is not held in ONNX order, so its rows are not contiguous");
            }

            long rows = a.Dims[..^1].Aggregate(1L, (p, d) => p * d);
            Imported product = FullyConnected(ReshapeTo(a, [rows, a.Dims[^1]], name + "/matrix"), b, transposed: false, alpha: 1f, bias: null, name + "/product");
            return ReshapeTo(product, [.. a.Dims[..^1], product.Dims[1]], name);
        }

        /// <summary>The one matrix of a stack [..., K, N] whose matrices are all equal (so it broadcasts over any batch).</summary>
        private OnnxTensor SingleMatrix(OnnxTensor b)
        {
            float[] values = Floats(b);
            long k = b.Dims[^2], n = b.Dims[^1], size = k * n;
            for (long i = size; i < values.LongLength; i++)
            {
                if (values[i] != values[i % size])
                {
                    throw Unsupported($"B '{b.Name}' {Dims(b.Dims)} is a stack of different matrices; only one matrix (or a stack of equal ones) is supported");
                }
            }

            return OnnxTensor.FromFloats(b.Name, [k, n], values[..(int)size]);
        }

        private void ImportPad()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            string mode = StringAttribute("mode", "constant");
            long[] pads;
            float value = 0f;
            if (_opset < 11)
            {
                pads = LongsAttribute("pads") ?? throw Unsupported("the pads attribute is missing");
                value = FloatAttribute("value", 0f);
            }
            else
            {
                pads = Ints(RequiredConstant(1));
                if (ConstantInput(2) is { } v)
                {
                    value = Scalar(v, "constant_value");
                }

                if (HasInput(3))
                {
                    throw Unsupported("the axes input is not supported");
                }
            }

            if (pads.Length != 8)
            {
                throw Unsupported($"pads has {pads.Length} values; 8 are needed for an N×C×H×W input");
            }

            if (pads.Any(p => p is < 0 or > int.MaxValue))
            {
                throw Unsupported($"pads [{string.Join(", ", pads)}] are negative (cropping) or too large");
            }

            if (pads[0] != 0 || pads[4] != 0)
            {
                throw Unsupported("padding the batch axis is not supported");
            }

            PadMode padMode = mode switch
            {
                "constant" => PadMode.Constant,
                "edge" => PadMode.Edge,
                "reflect" => PadMode.Reflect,
                _ => throw Unsupported($"mode '{mode}' is not supported"),
            };
            var attributes = new PadAttributes((int)pads[2], (int)pads[6], (int)pads[3], (int)pads[7], (int)pads[1], (int)pads[5], padMode, value);
            DefineNchw(_builder.Pad(x.Value, attributes, IrName()));
        }

    }
}
