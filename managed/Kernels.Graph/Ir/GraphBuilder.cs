using System.Globalization;
using Kernels.Core;
using Kernels.Cpu.Layers;

namespace Kernels.Graph;

/// <summary>
/// Builds a <see cref="NetworkGraph"/> one operator at a time, inferring every output shape at the call, so a mistake
/// (a channel mismatch in Add or Concat, a kernel larger than the padded input) fails at the line that makes it,
/// with an <see cref="ArgumentException"/> naming the node and the mismatch. Each node's output value has the
/// node's name. Nodes are appended in call order, which is a topological order by construction.
/// </summary>
/// <example><code>
/// var b = new GraphBuilder("tiny");
/// var x = b.Input("data", new TensorShape(1, 224, 224, 3));
/// var y = b.Relu(b.Conv(x, outChannels: 64, kernel: 7, stride: 2, padding: 3, weights, bias));
/// NetworkGraph g = b.Build(b.GlobalAveragePool(y));
/// </code></example>
public sealed partial class GraphBuilder
{
    private readonly List<Node> _nodes = [];
    private readonly List<Value> _inputs = [];
    private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Constant> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<OperatorKind, int> _autoNames = [];

    /// <summary>Starts an empty graph.</summary>
    public GraphBuilder(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; }

    /// <summary>Nodes added so far.</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>Declares a graph input.</summary>
    /// <exception cref="ArgumentException">The name is taken.</exception>
    public Value Input(string name, TensorShape shape, DataType dataType = DataType.Float32)
    {
        var value = new Value(name, shape, dataType);
        if (!_values.TryAdd(name, value))
        {
            throw new ArgumentException($"Graph '{Name}': the name '{name}' is already used by another value.", nameof(name));
        }

        _inputs.Add(value);
        return value;
    }

    /// <summary>Square convolution with the same stride and padding in both directions (the zoo's form).</summary>
    /// <param name="input">N×H×W×C input.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="kernel">Kernel height and width.</param>
    /// <param name="stride">Stride in both directions.</param>
    /// <param name="padding">Zeros on every side.</param>
    /// <param name="weights">OHWI weights [outChannels, kernel, kernel, C / groups].</param>
    /// <param name="bias">Optional [outChannels] bias.</param>
    /// <param name="groups">Groups (C for depthwise).</param>
    /// <param name="dilation">Dilation in both directions.</param>
    /// <param name="name">Node name; generated when null.</param>
    /// <exception cref="ArgumentException">The parameters, weights or input do not fit; the message names the node.</exception>
    public Value Conv(
        Value input, int outChannels, int kernel, int stride, int padding, Constant weights, Constant? bias = null,
        int groups = 1, int dilation = 1, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        var descriptor = new Conv2DDescriptor
        {
            Batch = x.N,
            InputHeight = x.H,
            InputWidth = x.W,
            InputChannels = x.C,
            OutputChannels = outChannels,
            KernelHeight = kernel,
            KernelWidth = kernel,
            StrideHeight = stride,
            StrideWidth = stride,
            PadTop = padding,
            PadLeft = padding,
            PadBottom = padding,
            PadRight = padding,
            DilationHeight = dilation,
            DilationWidth = dilation,
            Groups = groups,
        };
        return Conv(input, descriptor, weights, bias, name);
    }

    /// <summary>
    /// Convolution from a full descriptor (rectangular kernels, asymmetric padding: what an importer needs). The
    /// descriptor must describe <paramref name="input"/> (batch, height, width, channels) and a dense output.
    /// </summary>
    /// <exception cref="ArgumentException">The descriptor, weights or input do not fit; the message names the node.</exception>
    public Value Conv(Value input, Conv2DDescriptor descriptor, Constant weights, Constant? bias = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(weights);
        Constant[] constants = bias is null ? [weights] : [weights, bias];
        return Add(OperatorKind.Conv, name, [input], constants, descriptor);
    }

    /// <summary>Inference batch normalization with per-channel γ, β, running mean and variance (each [C]).</summary>
    /// <exception cref="ArgumentException">A vector's length is not the input's channels, or ε is not positive.</exception>
    public Value BatchNormalization(
        Value input, Constant scale, Constant bias, Constant mean, Constant variance, float epsilon = 1e-5f, string? name = null) =>
        Add(OperatorKind.BatchNormalization, name, [input], [scale, bias, mean, variance], new BatchNormAttributes(epsilon));

    /// <summary>max(x, 0).</summary>
    public Value Relu(Value input, string? name = null) => Activation(OperatorKind.Relu, ActivationKind.Relu, input, name);

    /// <summary>min(max(x, 0), 6).</summary>
    public Value Relu6(Value input, string? name = null) => Activation(OperatorKind.Relu6, ActivationKind.Relu6, input, name);

    /// <summary>x for x ≥ 0, slope·x otherwise.</summary>
    public Value LeakyRelu(Value input, float slope = 0.01f, string? name = null) =>
        Activation(OperatorKind.LeakyRelu, ActivationKind.LeakyRelu, input, name, leakySlope: slope);

    /// <summary>min(max(x, min), max).</summary>
    /// <exception cref="ArgumentException">min &gt; max or either is NaN.</exception>
    public Value Clip(Value input, float min, float max, string? name = null) =>
        Activation(OperatorKind.Clip, ActivationKind.Clip, input, name, min, max);

    /// <summary>Square max pooling with the same stride and padding in both directions.</summary>
    /// <exception cref="ArgumentException">The window does not fit the padded input, or a pad is as large as the window.</exception>
    public Value MaxPool(Value input, int kernel, int stride, int padding = 0, bool ceilMode = false, string? name = null) =>
        Pool(OperatorKind.MaxPool, input, kernel, stride, padding, ceilMode, countIncludePad: false, name);

    /// <summary>Square average pooling with the same stride and padding in both directions.</summary>
    /// <exception cref="ArgumentException">The window does not fit the padded input, or a pad is as large as the window.</exception>
    public Value AveragePool(
        Value input, int kernel, int stride, int padding = 0, bool ceilMode = false, bool countIncludePad = false, string? name = null) =>
        Pool(OperatorKind.AveragePool, input, kernel, stride, padding, ceilMode, countIncludePad, name);

    /// <summary>Max or average pooling from a full descriptor (its kind picks the operator); it must describe <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentException">The descriptor does not fit the input.</exception>
    public Value Pool(Value input, Pool2DDescriptor descriptor, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        OperatorKind kind = descriptor.Kind == PoolingKind.Max ? OperatorKind.MaxPool : OperatorKind.AveragePool;
        return Add(kind, name, [input], [], descriptor);
    }

    /// <summary>Mean over H×W per channel: N×1×1×C.</summary>
    public Value GlobalAveragePool(Value input, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        return Add(OperatorKind.GlobalAveragePool, name, [input], [], new GlobalAveragePoolDescriptor(x.N, x.H, x.W, x.C));
    }

    /// <summary>Local response normalization across channels (Caffe/ONNX definition; see <see cref="LrnDescriptor"/>).</summary>
    /// <exception cref="ArgumentException">A parameter is out of range.</exception>
    public Value Lrn(Value input, int size = 5, float alpha = 1e-4f, float beta = 0.75f, float bias = 1f, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        return Add(OperatorKind.Lrn, name, [input], [], new LrnDescriptor(x.N, x.H, x.W, x.C, size, alpha, beta, bias));
    }

    /// <summary>Concatenates along channels, in order.</summary>
    /// <exception cref="ArgumentException">The inputs differ in N, H or W; the message names the node and both shapes.</exception>
    public Value Concat(IReadOnlyList<Value> inputs, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Add(OperatorKind.Concat, name, inputs, [], null);
    }

    /// <summary>Element-wise a + b of two equal shapes (residual shortcut).</summary>
    /// <exception cref="ArgumentException">The shapes differ (e.g. a channel mismatch); the message names the node and both shapes.</exception>
    public Value Add(Value a, Value b, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        TensorShape x = a.Shape;
        return Add(OperatorKind.Add, name, [a, b], [], new ElementwiseAddDescriptor(x.N, x.H, x.W, x.C));
    }

    /// <summary>Element-wise product of two values of the same shape.</summary>
    public Value Mul(Value a, Value b, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        TensorShape x = a.Shape;
        return Add(OperatorKind.Mul, name, [a, b], [], new ElementwiseAddDescriptor(x.N, x.H, x.W, x.C));
    }

    /// <summary>y = x·scale[c] + shift[c] per channel (roles <see cref="ConstantRole.Scale"/> and <see cref="ConstantRole.Shift"/>, each [C]).</summary>
    public Value ChannelAffine(Value input, Constant scale, Constant shift, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(shift);
        return Add(OperatorKind.ChannelAffine, name, [input], [scale, shift], null);
    }

    /// <summary>A constant tensor used where an activation is read (role <see cref="ConstantRole.Tensor"/>, NHWC order).</summary>
    public Value ConstantTensor(Constant values, TensorShape shape, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Add(OperatorKind.ConstantTensor, name, [], [values], new ConstantTensorAttributes(shape));
    }

    /// <summary>The same values under another NHWC shape with the same element count.</summary>
    public Value Reshape(Value input, TensorShape shape, string? name = null) =>
        Add(OperatorKind.Reshape, name, [input], [], new ReshapeAttributes(shape));

    /// <summary>Pads H, W and C.</summary>
    public Value Pad(Value input, PadAttributes pads, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(pads);
        return Add(OperatorKind.Pad, name, [input], [], pads);
    }

    /// <summary>Fully connected layer over an N×1×1×C input (flatten first), weights [outChannels, C].</summary>
    /// <exception cref="ArgumentException">The input is not N×1×1×C or the weights do not fit.</exception>
    public Value FullyConnected(Value input, int outChannels, Constant weights, Constant? bias = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        Constant[] constants = bias is null ? [weights] : [weights, bias];
        return Add(OperatorKind.FullyConnected, name, [input], constants, new FullyConnectedDescriptor(input.Shape.N, input.Shape.C, outChannels));
    }

    /// <summary>Softmax over channels.</summary>
    public Value Softmax(Value input, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        return Add(OperatorKind.Softmax, name, [input], [], new SoftmaxDescriptor(x.N, x.H, x.W, x.C));
    }

    /// <summary>1 / (1 + e^-x) element-wise.</summary>
    public Value Sigmoid(Value input, string? name = null) => Add(OperatorKind.Sigmoid, name, [input], [], null);

    /// <summary>max(0, min(1, α·x + β)) element-wise (ONNX HardSigmoid).</summary>
    /// <exception cref="ArgumentException">α or β is not finite.</exception>
    public Value HardSigmoid(Value input, float alpha = 0.2f, float beta = 0.5f, string? name = null) =>
        Add(OperatorKind.HardSigmoid, name, [input], [], new HardSigmoidAttributes(alpha, beta));

    /// <summary>Dropout: the identity at inference.</summary>
    public Value Dropout(Value input, float ratio = 0.5f, string? name = null) =>
        Add(OperatorKind.Dropout, name, [input], [], new DropoutAttributes(ratio));

    /// <summary>N×H×W×C → N×1×1×(H·W·C), NHWC order.</summary>
    public Value Flatten(Value input, string? name = null) => Add(OperatorKind.Flatten, name, [input], [], null);

    /// <summary>Finishes the graph with these outputs and validates it.</summary>
    /// <exception cref="ArgumentException">No output, or an output that is not a value of this builder.</exception>
    public NetworkGraph Build(params Value[] outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        return new NetworkGraph(Name, _inputs, outputs, _nodes);
    }

    private Value Activation(
        OperatorKind kind, ActivationKind function, Value input, string? name,
        float min = float.NegativeInfinity, float max = float.PositiveInfinity, float leakySlope = 0.01f)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        return Add(kind, name, [input], [], new ActivationDescriptor(x.N, x.H, x.W, x.C, function, min, max, leakySlope));
    }

    private Value Pool(OperatorKind kind, Value input, int kernel, int stride, int padding, bool ceilMode, bool countIncludePad, string? name)
    {
        ArgumentNullException.ThrowIfNull(input);
        TensorShape x = input.Shape;
        var descriptor = Pool2DDescriptor.Create(
            kind == OperatorKind.MaxPool ? PoolingKind.Max : PoolingKind.Average,
            x.H, x.W, x.C, kernel, stride, padding, ceilMode, countIncludePad, x.N);
        return Add(kind, name, [input], [], descriptor);
    }

    private Value Add(OperatorKind kind, string? name, IReadOnlyList<Value> inputs, IReadOnlyList<Constant> constants, object? attributes)
    {
        name ??= NextName(kind);
        if (_values.ContainsKey(name))
        {
            throw new ArgumentException($"Node '{name}' ({kind}): the name is already used by another value.", nameof(name));
        }

        foreach (Value input in inputs)
        {
            ArgumentNullException.ThrowIfNull(input, nameof(inputs));
            if (!_values.TryGetValue(input.Name, out Value? known) || !ReferenceEquals(known, input))
            {
                throw new ArgumentException($"Node '{name}' ({kind}): input '{input.Name}' is not a value of graph '{Name}'.", nameof(inputs));
            }
        }

        foreach (Constant constant in constants)
        {
            ArgumentNullException.ThrowIfNull(constant, nameof(constants));
            if (_constants.TryGetValue(constant.Name, out Constant? other) && !ReferenceEquals(other, constant))
            {
                throw new ArgumentException($"Node '{name}' ({kind}): constant name '{constant.Name}' is already used by another constant.", nameof(constants));
            }
        }

        TensorShape shape = ShapeInference.Infer(name, kind, inputs, constants, attributes);
        var output = new Value(name, shape, inputs.Count > 0 ? inputs[0].DataType : DataType.Float32);
        foreach (Constant constant in constants)
        {
            _constants[constant.Name] = constant;
        }

        _values.Add(name, output);
        _nodes.Add(new Node(name, kind, inputs, constants, attributes, output));
        return output;
    }

    private string NextName(OperatorKind kind)
    {
        string stem = kind.ToString().ToLowerInvariant();
        while (true)
        {
            int n = _autoNames.GetValueOrDefault(kind);
            _autoNames[kind] = n + 1;
            string candidate = string.Create(CultureInfo.InvariantCulture, $"{stem}_{n}");
            if (!_values.ContainsKey(candidate))
            {
                return candidate;
            }
        }
    }
}
