using Kernels.Core;
using Kernels.Cpu.Layers;

namespace Kernels.Graph;

/// <summary>
/// The one definition of what each operator accepts and produces: the builder runs it at every call and
/// <see cref="NetworkGraph.Validate"/> runs it again over a finished (e.g. imported or rewritten) graph, so the two can
/// never disagree. Every error names the node and the operator.
/// </summary>
public static class ShapeInference
{
    /// <summary>
    /// Checks that the inputs, constants and attributes fit together and returns the output shape.
    /// Descriptors must describe the whole input (batch, height, width, channels) and a dense output.
    /// </summary>
    /// <exception cref="ArgumentException">Anything does not fit; the message starts with the node's name and operator.</exception>
    public static TensorShape Infer(string nodeName, OperatorKind kind, IReadOnlyList<Value> inputs, IReadOnlyList<Constant> constants, object? attributes)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(constants);
        var c = new Context(nodeName, kind);
        if (kind == OperatorKind.ConstantTensor)
        {
            c.InputCount(inputs, 0);
            c.ConstantCount(constants, 1, 1);
            TensorShape shape = c.Attributes<ConstantTensorAttributes>(attributes).Shape;
            if (constants[0].Role != ConstantRole.Tensor || constants[0].ElementCount != shape.ElementCount)
            {
                throw c.Error($"constant '{constants[0].Name}' ({constants[0].Role}, {constants[0].ElementCount} values) must be a {ConstantRole.Tensor} of {shape.ElementCount} values for {shape}.");
            }

            return shape;
        }

        if (inputs.Count == 0)
        {
            throw c.Error("it has no input.");
        }

        for (int i = 1; i < inputs.Count; i++)
        {
            if (inputs[i].DataType != inputs[0].DataType)
            {
                throw c.Error($"input '{inputs[i].Name}' is {inputs[i].DataType} but input '{inputs[0].Name}' is {inputs[0].DataType}.");
            }
        }

        if (kind is not (OperatorKind.Concat or OperatorKind.Add or OperatorKind.Mul))
        {
            c.InputCount(inputs, 1);
        }

        if (kind is not (OperatorKind.Conv or OperatorKind.BatchNormalization or OperatorKind.FullyConnected or OperatorKind.ChannelAffine
            or OperatorKind.QuantizeLinear or OperatorKind.DequantizeLinear or OperatorKind.Requantize))
        {
            c.ConstantCount(constants, 0, 0);
        }

        TensorShape x = inputs[0].Shape;
        switch (kind)
        {
            case OperatorKind.Conv:
                return Conv(c, x, constants, c.Attributes<Conv2DDescriptor>(attributes));
            case OperatorKind.BatchNormalization:
                c.Validate(c.Attributes<BatchNormAttributes>(attributes).Validate);
                c.ConstantCount(constants, 4, 4);
                c.Vector(constants[0], ConstantRole.BatchNormScale, x.C, "scale");
                c.Vector(constants[1], ConstantRole.BatchNormBias, x.C, "bias");
                c.Vector(constants[2], ConstantRole.BatchNormMean, x.C, "mean");
                c.Vector(constants[3], ConstantRole.BatchNormVariance, x.C, "variance");
                return x;
            case OperatorKind.Relu:
                return Activation(c, x, attributes, ActivationKind.Relu);
            case OperatorKind.Relu6:
                return Activation(c, x, attributes, ActivationKind.Relu6);
            case OperatorKind.LeakyRelu:
                return Activation(c, x, attributes, ActivationKind.LeakyRelu);
            case OperatorKind.Clip:
                return Activation(c, x, attributes, ActivationKind.Clip);
            case OperatorKind.MaxPool:
                return Pool(c, x, attributes, PoolingKind.Max);
            case OperatorKind.AveragePool:
                return Pool(c, x, attributes, PoolingKind.Average);
            case OperatorKind.GlobalAveragePool:
            {
                var d = c.Attributes<GlobalAveragePoolDescriptor>(attributes);
                c.Validate(d.Validate);
                c.Covers(x, d.Batch, d.Height, d.Width, d.Channels);
                c.Dense(d.OutputPixelStride);
                return new TensorShape(x.N, 1, 1, x.C);
            }

            case OperatorKind.Lrn:
            {
                var d = c.Attributes<LrnDescriptor>(attributes);
                c.Validate(d.Validate);
                c.Covers(x, d.Batch, d.Height, d.Width, d.Channels);
                c.Dense(d.OutputPixelStride);
                return x;
            }

            case OperatorKind.Concat:
                c.NoAttributes(attributes);
                return Concat(c, inputs);
            case OperatorKind.Add or OperatorKind.Mul:
            {
                c.InputCount(inputs, 2);
                TensorShape y = inputs[1].Shape;
                if (x != y)
                {
                    string what = x.C != y.C ? "channel mismatch" : "shape mismatch";
                    throw c.Error($"{what}: input '{inputs[0].Name}' is {x} but input '{inputs[1].Name}' is {y}.");
                }

                var d = c.Attributes<ElementwiseAddDescriptor>(attributes);
                c.Validate(d.Validate);
                c.Covers(x, d.Batch, d.Height, d.Width, d.Channels);
                c.Dense(d.OutputPixelStride);
                return x;
            }

            case OperatorKind.FullyConnected:
                return FullyConnected(c, inputs[0], constants, c.Attributes<FullyConnectedDescriptor>(attributes));
            case OperatorKind.Softmax:
            {
                var d = c.Attributes<SoftmaxDescriptor>(attributes);
                c.Validate(d.Validate);
                c.Covers(x, d.Batch, d.Height, d.Width, d.Channels);
                c.Dense(d.OutputPixelStride);
                return x;
            }

            case OperatorKind.Dropout:
                c.Validate(c.Attributes<DropoutAttributes>(attributes).Validate);
                return x;
            case OperatorKind.Sigmoid:
                c.NoAttributes(attributes);
                return x;
            case OperatorKind.HardSigmoid:
                c.Validate(c.Attributes<HardSigmoidAttributes>(attributes).Validate);
                return x;
            case OperatorKind.Flatten:
            {
                c.NoAttributes(attributes);
                long features = (long)x.H * x.W * x.C;
                if (features > int.MaxValue)
                {
                    throw c.Error($"the flattened input {x} has more than 2^31 - 1 features per image.");
                }

                return new TensorShape(x.N, 1, 1, (int)features);
            }

            case OperatorKind.ChannelAffine:
                c.NoAttributes(attributes);
                c.ConstantCount(constants, 2, 2);
                c.Vector(constants[0], ConstantRole.Scale, x.C, "scale");
                c.Vector(constants[1], ConstantRole.Shift, x.C, "shift");
                return x;
            case OperatorKind.Reshape:
            {
                TensorShape y = c.Attributes<ReshapeAttributes>(attributes).Shape;
                if (y.ElementCount != x.ElementCount)
                {
                    throw c.Error($"the new shape {y} holds {y.ElementCount} elements but the input {x} has {x.ElementCount}.");
                }

                return y;
            }

            case OperatorKind.Pad:
            {
                var d = c.Attributes<PadAttributes>(attributes);
                c.Validate(() => d.Validate(x));
                return d.Apply(x);
            }

            case OperatorKind.QuantizeLinear or OperatorKind.Requantize or OperatorKind.DequantizeLinear:
                if (kind == OperatorKind.DequantizeLinear)
                {
                    c.NoAttributes(attributes);
                }
                else
                {
                    c.Validate(c.Attributes<QuantizeAttributes>(attributes).Validate);
                }

                c.ConstantCount(constants, 2, 2);
                c.Vector(constants[0], ConstantRole.Scale, x.C, kind == OperatorKind.Requantize ? "multiplier" : "scale");
                c.Vector(constants[1], ConstantRole.ZeroPoint, x.C, "zero point");
                return x;
            default:
                throw c.Error("unknown operator.");
        }
    }

    private static TensorShape Conv(Context c, TensorShape x, IReadOnlyList<Constant> constants, Conv2DDescriptor d)
    {
        // Checked against the input before Validate, so a channel mismatch is reported as one rather than as whatever
        // the descriptor's own (self-consistent) numbers lead to.
        c.Covers(x, d.Batch, d.InputHeight, d.InputWidth, d.InputChannels);
        c.Validate(d.Validate);
        c.Dense(d.OutputPixelStride);
        c.ConstantCount(constants, 1, 2);
        c.Expect(constants[0], ConstantRole.Weights, [d.OutputChannels, d.KernelHeight, d.KernelWidth, d.GroupInputChannels], "weights (OHWI)");
        if (constants.Count == 2)
        {
            c.Vector(constants[1], ConstantRole.Bias, d.OutputChannels, "bias");
        }

        return new TensorShape(x.N, d.OutputHeight, d.OutputWidth, d.OutputChannels);
    }

    private static TensorShape Activation(Context c, TensorShape x, object? attributes, ActivationKind expected)
    {
        var d = c.Attributes<ActivationDescriptor>(attributes);
        if (d.Kind != expected)
        {
            throw c.Error($"the descriptor's function is {d.Kind}, not {expected}.");
        }

        c.Validate(d.Validate);
        c.Covers(x, d.Batch, d.Height, d.Width, d.Channels);
        c.Dense(d.OutputPixelStride);
        return x;
    }

    private static TensorShape Pool(Context c, TensorShape x, object? attributes, PoolingKind expected)
    {
        var d = c.Attributes<Pool2DDescriptor>(attributes);
        if (d.Kind != expected)
        {
            throw c.Error($"the descriptor's pooling is {d.Kind}, not {expected}.");
        }

        c.Covers(x, d.Batch, d.InputHeight, d.InputWidth, d.Channels);
        c.Validate(d.Validate);
        c.Dense(d.OutputPixelStride);
        return new TensorShape(x.N, d.OutputHeight, d.OutputWidth, x.C);
    }

    private static TensorShape Concat(Context c, IReadOnlyList<Value> inputs)
    {
        TensorShape first = inputs[0].Shape;
        long channels = 0;
        foreach (Value v in inputs)
        {
            TensorShape s = v.Shape;
            if (s.N != first.N || s.H != first.H || s.W != first.W)
            {
                throw c.Error($"input '{v.Name}' is {s} but input '{inputs[0].Name}' is {first}; channel concatenation needs equal N, H and W.");
            }

            channels += s.C;
        }

        return channels <= int.MaxValue
            ? first with { C = (int)channels }
            : throw c.Error($"the concatenation has {channels} channels, more than 2^31 - 1.");
    }

    private static TensorShape FullyConnected(Context c, Value input, IReadOnlyList<Constant> constants, FullyConnectedDescriptor d)
    {
        TensorShape x = input.Shape;
        if (x.H != 1 || x.W != 1)
        {
            throw c.Error($"input '{input.Name}' is {x}; a fully connected layer takes N×1×1×C (insert a Flatten).");
        }

        if (d.Batch != x.N || d.InputChannels != x.C)
        {
            throw c.Error($"the descriptor is for batch {d.Batch} × {d.InputChannels} inputs but input '{input.Name}' is {x}.");
        }

        c.Validate(d.Validate);
        c.Dense(d.OutputStride);
        c.ConstantCount(constants, 1, 2);
        c.Expect(constants[0], ConstantRole.Weights, [d.OutputChannels, d.InputChannels], "weights [OC, IC]");
        if (constants.Count == 2)
        {
            c.Vector(constants[1], ConstantRole.Bias, d.OutputChannels, "bias");
        }

        return new TensorShape(x.N, 1, 1, d.OutputChannels);
    }

    private readonly struct Context(string node, OperatorKind kind)
    {
        public ArgumentException Error(string message) => new($"Node '{node}' ({kind}): {message}");

        public T Attributes<T>(object? attributes)
            where T : class =>
            attributes as T ?? throw Error($"expected attributes of type {typeof(T).Name}, got {attributes?.GetType().Name ?? "none"}.");

        public void NoAttributes(object? attributes)
        {
            if (attributes is not null)
            {
                throw Error($"takes no attributes, got {attributes.GetType().Name}.");
            }
        }

        public void Validate(Action validate)
        {
            try
            {
                validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Node '{node}' ({kind}): {e.Message}", e.ParamName, e);
            }
        }

        public void InputCount(IReadOnlyList<Value> inputs, int expected)
        {
            if (inputs.Count != expected)
            {
                throw Error($"expected {expected} input(s), got {inputs.Count}.");
            }
        }

        public void ConstantCount(IReadOnlyList<Constant> constants, int min, int max)
        {
            if (constants.Count < min || constants.Count > max)
            {
                string expected = min == max ? $"{min}" : $"{min} to {max}";
                throw Error($"expected {expected} constant(s), got {constants.Count}.");
            }
        }

        public void Covers(TensorShape x, int batch, int height, int width, int channels)
        {
            if (x.C != channels)
            {
                throw Error($"channel mismatch: the input has {x.C} channels ({x}) but the attributes expect {channels}.");
            }

            if (x.N != batch || x.H != height || x.W != width)
            {
                throw Error($"the attributes describe a {batch}x{height}x{width}x{channels} input but the input is {x}.");
            }
        }

        public void Dense(int outputStride)
        {
            if (outputStride != 0)
            {
                throw Error($"graph values are dense; the output stride must be 0, not {outputStride}.");
            }
        }

        public void Expect(Constant constant, ConstantRole role, int[] dimensions, string what)
        {
            if (constant.Role != role)
            {
                throw Error($"constant '{constant.Name}' has role {constant.Role} where the {what} ({role}) belong.");
            }

            if (!constant.HasDimensions(dimensions))
            {
                throw Error($"{what} '{constant.Name}' are [{string.Join(", ", constant.Dimensions)}], expected [{string.Join(", ", dimensions)}].");
            }
        }

        public void Vector(Constant constant, ConstantRole role, int length, string what) => Expect(constant, role, [length], what);
    }
}
