using System.Globalization;
using Kernels.Core;
using Kernels.Graph.Quantization;

namespace Kernels.Graph.Onnx;

/// <summary>
/// The quantized side of ONNX import. QDQ models: an activation x → QuantizeLinear → DequantizeLinear → consumers is
/// folded away (the consumers read x as float) and its parameters recorded for the IR value of x; a DequantizeLinear of
/// a constant (int8 weights with per-channel scales, int32 biases) is evaluated at import, so the float operators see
/// exactly the dequantized weights. The integer operators map onto the float IR with integers held exactly as float
/// values: QuantizeLinear and DequantizeLinear standalone; QLinearConv and QLinearMatMul as centring (x − zero point,
/// exact) → convolution or product with the integer weights minus their zero points (exact while the accumulator stays
/// below 2^24) → requantization (the accumulator times the float32 multiplier x_scale·w_scale/y_scale, rounded half
/// to even, as ONNX Runtime does); ConvInteger and MatMulInteger as the same without the requantization (an int32
/// result). Parameters that cannot be right (a scale not finite and positive, a zero point outside its type, per-axis
/// vectors that do not fit the axis, a pair whose two halves disagree) raise <see cref="InvalidDataException"/> naming
/// the tensor.
/// </summary>
public static partial class OnnxImporter
{
    /// <summary>Linear quantization parameters of one tensor: a scale and zero point per tensor (Axis −1) or per index along Axis.</summary>
    private sealed record LinearParameters(string Tensor, float[] Scale, int[] ZeroPoint, OnnxDataType Type, int Axis)
    {
        public bool PerTensor => Axis < 0;

        public bool SameAs(LinearParameters other) =>
            Type == other.Type && Axis == other.Axis && Scale.AsSpan().SequenceEqual(other.Scale) && ZeroPoint.AsSpan().SequenceEqual(other.ZeroPoint);

        public override string ToString() => PerTensor
            ? string.Create(CultureInfo.InvariantCulture, $"{Type} scale {Scale[0]:R}, zero point {ZeroPoint[0]}")
            : string.Create(CultureInfo.InvariantCulture, $"{Type} per axis {Axis}, scales [{string.Join(", ", Scale.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}], zero points [{string.Join(", ", ZeroPoint)}]");
    }

    /// <summary>A QuantizeLinear whose every consumer is a DequantizeLinear: folded, its input read through as float.</summary>
    private sealed record FoldedQuantization(Imported Input, LinearParameters Parameters);

    private static (int Min, int Max) Range(OnnxDataType type) => type switch
    {
        OnnxDataType.UInt8 => (byte.MinValue, byte.MaxValue),
        OnnxDataType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        _ => (int.MinValue, int.MaxValue),
    };

    private sealed partial class Importer
    {
        private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);
        private readonly Dictionary<string, FoldedQuantization> _folded = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (QuantizationParameters Parameters, string Tensor)> _quantization = new(StringComparer.Ordinal);

        private void IndexConsumers()
        {
            foreach (OnnxNode n in _model.Graph.Nodes)
            {
                foreach (string input in n.Inputs.Where(i => i.Length > 0).Distinct())
                {
                    if (!_consumers.TryGetValue(input, out List<OnnxNode>? list))
                    {
                        _consumers[input] = list = [];
                    }

                    list.Add(n);
                }
            }
        }

        /// <summary>The recorded activation parameters as a table, or null when the model annotates none.</summary>
        private QuantizationTable? QuantizationTable() =>
            _quantization.Count == 0
                ? null
                : new QuantizationTable(_quantization.ToDictionary(kv => kv.Key, kv => kv.Value.Parameters, StringComparer.Ordinal), CalibrationMethod.MinMax, samples: 0);

        private InvalidDataException BadParameters(string tensor, string why) =>
            new($"ONNX node '{_nodeName}' ({_node.OpType}): tensor '{tensor}': {why}.");

        /// <summary>
        /// The scale (input <paramref name="scaleIndex"/>) and zero point (input <paramref name="zeroPointIndex"/>, optional:
        /// zero of <paramref name="defaultType"/>) of <paramref name="tensor"/> with ONNX dimensions <paramref name="dims"/>,
        /// checked: finite positive scales, zero points inside their type, per-axis vectors the length of the axis.
        /// </summary>
        private LinearParameters Parameters(string tensor, IReadOnlyList<long> dims, int scaleIndex, int zeroPointIndex, OnnxDataType defaultType, int axis)
        {
            OnnxTensor s = ConstantInput(scaleIndex) ?? throw Unsupported($"the scale (input {scaleIndex}) is missing");
            OnnxTensor? z = ConstantInput(zeroPointIndex);
            if (s.DataType is not (OnnxDataType.Float or OnnxDataType.Float16 or OnnxDataType.BFloat16))
            {
                throw BadParameters(tensor, $"the scale '{s.Name}' is {s.DataType}, not float");
            }

            OnnxDataType type = z?.DataType ?? defaultType;
            if (type is not (OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Int32))
            {
                throw Unsupported($"tensor '{tensor}' is quantized to {type}; uint8, int8 and int32 are supported");
            }

            float[] scale = s.ToFloatArray();
            int[] zeroPoint = z is null ? new int[scale.Length] : z.ToInt32Array();
            if (scale.Length == 0)
            {
                throw BadParameters(tensor, $"the scale '{s.Name}' is empty");
            }

            if (z is not null && (z.ElementCount != s.ElementCount || (z.Dims.Count != s.Dims.Count && z.ElementCount != 1)))
            {
                throw BadParameters(tensor, $"the zero point '{z.Name}' {Dims(z.Dims)} does not match the scale '{s.Name}' {Dims(s.Dims)}");
            }

            int resolvedAxis = -1;
            if (s.ElementCount > 1 || s.Dims.Count > 1)
            {
                int rank = dims.Count;
                if (s.Dims.Count != 1)
                {
                    throw BadParameters(tensor, $"the scale '{s.Name}' is {Dims(s.Dims)}; a scalar or a vector along one axis is needed");
                }

                if (axis < -rank || axis >= rank)
                {
                    throw BadParameters(tensor, $"axis {axis} is outside its rank {rank}");
                }

                resolvedAxis = axis < 0 ? axis + rank : axis;
                if (dims[resolvedAxis] != s.ElementCount)
                {
                    throw BadParameters(tensor, $"{s.ElementCount} scales in '{s.Name}' for axis {resolvedAxis} of length {dims[resolvedAxis]} (dimensions {Dims(dims)})");
                }
            }

            for (int i = 0; i < scale.Length; i++)
            {
                if (!float.IsFinite(scale[i]) || scale[i] <= 0f)
                {
                    throw BadParameters(tensor, $"scale {scale[i]} (element {i} of '{s.Name}') is not finite and positive");
                }

                (int min, int max) = Range(type);
                if (zeroPoint[i] < min || zeroPoint[i] > max)
                {
                    throw BadParameters(tensor, $"zero point {zeroPoint[i]} (element {i} of '{z!.Name}') is outside {type} [{min}, {max}]");
                }
            }

            return new LinearParameters(tensor, scale, zeroPoint, type, resolvedAxis);
        }

        private int AxisAttribute() => checked((int)IntAttribute("axis", 1));

        /// <summary>The per-channel vectors of <paramref name="p"/> for an IR value of <paramref name="channels"/> channels holding <paramref name="x"/>.</summary>
        private (float[] Scale, float[] ZeroPoint) ChannelVectors(Imported x, LinearParameters p, int channels)
        {
            if (!p.PerTensor && (x.Pending || x.ChannelAxis != p.Axis))
            {
                throw Unsupported($"tensor '{p.Tensor}' is quantized per axis {p.Axis}, which its layout {Dims(x.Dims)} does not hold innermost");
            }

            var scale = new float[channels];
            var zeroPoint = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                int k = p.PerTensor ? 0 : c;
                scale[c] = p.Scale[k];
                zeroPoint[c] = p.ZeroPoint[k];
            }

            return (scale, zeroPoint);
        }

        /// <summary>The index along <paramref name="axis"/> of each element of a row-major tensor (all zero for −1).</summary>
        private static int[] AxisIndices(IReadOnlyList<long> dims, int axis)
        {
            long count = dims.Aggregate(1L, (a, b) => a * b);
            var index = new int[count];
            if (axis < 0)
            {
                return index;
            }

            long inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
            for (long i = 0; i < count; i++)
            {
                index[i] = (int)(i / inner % dims[axis]);
            }

            return index;
        }

        // ---- QuantizeLinear / DequantizeLinear ----------------------------------------------------------------

        private void ImportQuantizeLinear()
        {
            OnlyOutputs(1);
            string name = _node.Inputs.Count > 0 ? _node.Inputs[0] : "";
            if (IsConstant(0))
            {
                // A float constant quantized in the model (weights stored as float behind a QDQ pair): quantized here.
                OnnxTensor k = RequiredConstant(0);
                LinearParameters p = Parameters(k.Name, k.Dims, 1, 2, OnnxDataType.UInt8, AxisAttribute());
                if (p.Type == OnnxDataType.Int32)
                {
                    throw Unsupported("QuantizeLinear to int32 is not supported");
                }

                float[] values = Floats(k);
                int[] axisIndex = AxisIndices(k.Dims, p.Axis);
                (int min, int max) = Range(p.Type);
                var q = new int[values.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    float r = MathF.Round(values[i] / p.Scale[axisIndex[i]]) + p.ZeroPoint[axisIndex[i]];
                    q[i] = float.IsNaN(r) ? p.ZeroPoint[axisIndex[i]] : (int)Math.Clamp(r, min, max);
                }

                DefineConstant(OnnxTensor.FromIntegers(IrName(), p.Type, k.Dims, q));
                return;
            }

            Imported x = ActivationAnyLayout(0);
            LinearParameters parameters = Parameters(name, x.Dims, 1, 2, OnnxDataType.UInt8, AxisAttribute());
            if (parameters.Type == OnnxDataType.Int32)
            {
                throw Unsupported("QuantizeLinear to int32 is not supported");
            }

            string output = _node.Outputs[0];
            bool onlyDequantized = _consumers.TryGetValue(output, out List<OnnxNode>? consumers)
                && consumers.All(n => n.OpType == "DequantizeLinear" && n.Inputs.Count > 0 && n.Inputs[0] == output && n.Domain is "" or "ai.onnx")
                && !_model.Graph.Outputs.Any(o => o.Name == output);
            if (onlyDequantized && parameters.PerTensor)
            {
                _folded[output] = new FoldedQuantization(x, parameters);
                return;
            }

            Value y = QuantizeValue(x, parameters, IrName());
            Define(x with { Value = y });
        }

        private Value QuantizeValue(Imported x, LinearParameters p, string name)
        {
            int channels = x.Value.Shape.C;
            (float[] scale, float[] zeroPoint) = ChannelVectors(x, p, channels);
            (int min, int max) = Range(p.Type);
            return _builder.QuantizeLinear(
                x.Value,
                new Constant($"{name}.scale", ConstantRole.Scale, [channels], scale),
                new Constant($"{name}.zero_point", ConstantRole.ZeroPoint, [channels], zeroPoint),
                new QuantizeAttributes(min, max),
                name);
        }

        private void ImportDequantizeLinear()
        {
            OnlyOutputs(1);
            string name = _node.Inputs.Count > 0 ? _node.Inputs[0] : "";
            if (IsConstant(0))
            {
                OnnxTensor k = RequiredConstant(0);
                if (k.DataType is not (OnnxDataType.UInt8 or OnnxDataType.Int8 or OnnxDataType.Int32))
                {
                    throw Unsupported($"the constant '{k.Name}' is {k.DataType}; uint8, int8 or int32 is needed");
                }

                LinearParameters p = Parameters(k.Name, k.Dims, 1, 2, k.DataType, AxisAttribute());
                if (p.Type != k.DataType)
                {
                    throw BadParameters(k.Name, $"it is {k.DataType} but its zero point is {p.Type}");
                }

                // Exactly what ONNX computes: the integer difference, then one float32 product.
                int[] q = k.ToInt32Array();
                int[] axisIndex = AxisIndices(k.Dims, p.Axis);
                var values = new float[q.Length];
                for (int i = 0; i < q.Length; i++)
                {
                    values[i] = (float)((long)q[i] - p.ZeroPoint[axisIndex[i]]) * p.Scale[axisIndex[i]];
                }

                DefineConstant(OnnxTensor.FromFloats(IrName(), k.Dims, values));
                return;
            }

            if (HasInput(0) && _folded.TryGetValue(name, out FoldedQuantization? folded))
            {
                LinearParameters p = Parameters(folded.Parameters.Tensor, folded.Input.Dims, 1, 2, OnnxDataType.UInt8, AxisAttribute());
                if (!p.SameAs(folded.Parameters))
                {
                    throw BadParameters(
                        folded.Parameters.Tensor, $"it is quantized with {folded.Parameters} but dequantized with {p}; a QuantizeLinear/DequantizeLinear pair must use the same parameters");
                }

                Record(folded.Input.Value.Name, p);
                Define(folded.Input);
                return;
            }

            Imported x = ActivationAnyLayout(0);
            LinearParameters parameters = Parameters(name, x.Dims, 1, 2, OnnxDataType.UInt8, AxisAttribute());
            int channels = x.Value.Shape.C;
            (float[] scale, float[] zeroPoint) = ChannelVectors(x, parameters, channels);
            Value y = _builder.DequantizeLinear(
                x.Value,
                MakeConstant("scale", ConstantRole.Scale, [channels], scale),
                MakeConstant("zero_point", ConstantRole.ZeroPoint, [channels], zeroPoint),
                IrName());
            Define(x with { Value = y });
        }

        /// <summary>Records the uint8 parameters of an IR value (an int8 zero point z is the uint8 z + 128 at the same scale).</summary>
        private void Record(string value, LinearParameters p)
        {
            int zeroPoint = p.Type == OnnxDataType.Int8 ? p.ZeroPoint[0] + 128 : p.ZeroPoint[0];
            var q = new QuantizationParameters(p.Scale[0], zeroPoint, DataType.UInt8);
            if (_quantization.TryGetValue(value, out var known) && known.Parameters != q)
            {
                throw BadParameters(
                    p.Tensor,
                    string.Create(CultureInfo.InvariantCulture, $"it is quantized as scale {q.Scale:R}, zero point {q.ZeroPoint} (uint8) but '{known.Tensor}', the same value, as scale {known.Parameters.Scale:R}, zero point {known.Parameters.ZeroPoint}"));
            }

            _quantization[value] = (q, p.Tensor);
        }

        // ---- integer convolution and product ------------------------------------------------------------------

        /// <summary>x − zero point, exact: the integer values an integer operator accumulates.</summary>
        private Imported Centered(Imported x, LinearParameters p, string name)
        {
            if (!p.PerTensor)
            {
                throw Unsupported($"tensor '{p.Tensor}' has a zero point per axis; only one per tensor is supported for an integer operator's input");
            }

            if (p.ZeroPoint[0] == 0)
            {
                return x;
            }

            int channels = x.Value.Shape.C;
            Value y = _builder.DequantizeLinear(
                x.Value,
                new Constant($"{name}.scale", ConstantRole.Scale, [channels], Enumerable.Repeat(1f, channels).ToArray()),
                new Constant($"{name}.zero_point", ConstantRole.ZeroPoint, [channels], Enumerable.Repeat((float)p.ZeroPoint[0], channels).ToArray()),
                name);
            return x with { Value = y };
        }

        /// <summary>An integer constant minus its zero point (per tensor or per index along the parameters' axis), as float.</summary>
        private float[] CenteredConstant(OnnxTensor w, LinearParameters p)
        {
            if (w.DataType is not (OnnxDataType.UInt8 or OnnxDataType.Int8))
            {
                throw Unsupported($"the weights '{w.Name}' are {w.DataType}; uint8 or int8 is needed");
            }

            if (p.Type != w.DataType)
            {
                throw BadParameters(w.Name, $"it is {w.DataType} but its zero point is {p.Type}");
            }

            int[] q = w.ToInt32Array();
            int[] axisIndex = AxisIndices(w.Dims, p.Axis);
            var values = new float[q.Length];
            for (int i = 0; i < q.Length; i++)
            {
                values[i] = q[i] - p.ZeroPoint[axisIndex[i]];
            }

            return values;
        }

        /// <summary>The weights' zero point parameters alone (no scale): optional input <paramref name="index"/>, zero by default.</summary>
        private LinearParameters ZeroPointOnly(OnnxTensor w, int index, int axis)
        {
            OnnxTensor? z = ConstantInput(index);
            if (z is null)
            {
                return new LinearParameters(w.Name, [1f], [0], w.DataType, -1);
            }

            if (z.DataType is not (OnnxDataType.UInt8 or OnnxDataType.Int8))
            {
                throw BadParameters(w.Name, $"the zero point '{z.Name}' is {z.DataType}, not uint8 or int8");
            }

            int[] zeroPoint = z.ToInt32Array();
            (int min, int max) = Range(z.DataType);
            int bad = Array.FindIndex(zeroPoint, v => v < min || v > max);
            if (bad >= 0)
            {
                throw BadParameters(w.Name, $"zero point {zeroPoint[bad]} (element {bad} of '{z.Name}') is outside {z.DataType}");
            }

            if (z.ElementCount == 1)
            {
                return new LinearParameters(w.Name, [1f], [zeroPoint[0]], z.DataType, -1);
            }

            int rank = w.Dims.Count;
            int a = axis < 0 ? axis + rank : axis;
            if (z.Dims.Count != 1 || a < 0 || a >= rank || w.Dims[a] != z.ElementCount)
            {
                throw BadParameters(w.Name, $"the zero point '{z.Name}' {Dims(z.Dims)} does not fit axis {a} of {Dims(w.Dims)}");
            }

            return new LinearParameters(w.Name, Enumerable.Repeat(1f, zeroPoint.Length).ToArray(), zeroPoint, z.DataType, a);
        }

        /// <summary>
        /// The zero point of an integer operator's activation input (optional input <paramref name="index"/>, zero by
        /// default): one per tensor (a vector of equal values, as per-row zero points of MatMulInteger may be written, counts as one).
        /// </summary>
        private LinearParameters TensorZeroPoint(string tensor, int index)
        {
            OnnxTensor? z = ConstantInput(index);
            if (z is null)
            {
                return new LinearParameters(tensor, [1f], [0], OnnxDataType.UInt8, -1);
            }

            if (z.DataType is not (OnnxDataType.UInt8 or OnnxDataType.Int8) || z.ElementCount == 0)
            {
                throw BadParameters(tensor, $"the zero point '{z.Name}' is {z.DataType}{Dims(z.Dims)}, not uint8 or int8");
            }

            int[] zeroPoint = z.ToInt32Array();
            (int min, int max) = Range(z.DataType);
            if (zeroPoint[0] < min || zeroPoint[0] > max)
            {
                throw BadParameters(tensor, $"zero point {zeroPoint[0]} of '{z.Name}' is outside {z.DataType}");
            }

            return zeroPoint.All(v => v == zeroPoint[0])
                ? new LinearParameters(tensor, [1f], [zeroPoint[0]], z.DataType, -1)
                : throw Unsupported($"the zero point '{z.Name}' of '{tensor}' differs along an axis; one per tensor is supported");
        }

        /// <summary>The requantization of accumulator <paramref name="y"/>: one multiplier, or one per index along <paramref name="axis"/>.</summary>
        private Value RequantizeValue(Imported y, float[] multiplier, int axis, LinearParameters output, string name)
        {
            int channels = y.Value.Shape.C;
            var p = new LinearParameters(output.Tensor, multiplier, Enumerable.Repeat(output.ZeroPoint[0], multiplier.Length).ToArray(), output.Type, multiplier.Length == 1 ? -1 : axis);
            (float[] m, float[] zeroPoint) = ChannelVectors(y, p, channels);
            (int min, int max) = Range(output.Type);
            return _builder.Requantize(
                y.Value,
                new Constant($"{name}.multiplier", ConstantRole.Scale, [channels], m),
                new Constant($"{name}.zero_point", ConstantRole.ZeroPoint, [channels], zeroPoint),
                new QuantizeAttributes(min, max),
                name);
        }

        /// <summary>fl(fl(xScale·wScale[k]) / yScale), as ONNX Runtime computes the requantization multiplier.</summary>
        private static float[] Multipliers(float xScale, float[] wScale, float yScale) =>
            wScale.Select(w => xScale * w / yScale).ToArray();

        private void ImportQLinearConv()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            OnnxTensor w = ConvWeights(3);
            LinearParameters xp = Parameters(_node.Inputs[0], x.Dims, 1, 2, OnnxDataType.UInt8, 1);
            LinearParameters wp = Parameters(w.Name, w.Dims, 4, 5, w.DataType, 0);
            LinearParameters yp = Parameters(_node.Outputs[0], [x.Dims[0], w.Dims[0], 1, 1], 6, 7, OnnxDataType.UInt8, 1);
            if (!xp.PerTensor || !yp.PerTensor)
            {
                throw Unsupported("x and y must be quantized per tensor");
            }

            float[]? bias = null;
            if (ConstantInput(8) is { } b)
            {
                if (b.DataType != OnnxDataType.Int32 || b.ElementCount != w.Dims[0])
                {
                    throw Unsupported($"the bias '{b.Name}' is {b.DataType}{Dims(b.Dims)}; int32[{w.Dims[0]}] is needed");
                }

                bias = Array.ConvertAll(b.ToInt32Array(), v => (float)v);
            }

            Imported centered = Centered(x, xp, IrName() + "/centered");
            Value accumulator = Convolution(centered, w, CenteredConstant(w, wp), bias, IrName() + "/accumulator");
            TensorShape s = accumulator.Shape;
            long[] dims = [s.N, s.C, s.H, s.W];
            var acc = new Imported(accumulator, dims, dims, [0, 2, 3, 1]);
            DefineNchw(RequantizeValue(acc, Multipliers(xp.Scale[0], wp.Scale, yp.Scale[0]), 1, yp, IrName()));
        }

        private void ImportConvInteger()
        {
            OnlyOutputs(1);
            Imported x = Spatial(0);
            OnnxTensor w = ConvWeights(1);
            LinearParameters xp = TensorZeroPoint(_node.Inputs[0], 2);
            LinearParameters wp = ZeroPointOnly(w, 3, 0);
            Imported centered = Centered(x, xp, IrName() + "/centered");
            DefineNchw(Convolution(centered, w, CenteredConstant(w, wp), null, IrName()));
        }

        /// <summary>The integer product of QLinearMatMul and MatMulInteger: (a − a_zp) × (b − b_zp), exact.</summary>
        private Imported IntegerProduct(Imported a, LinearParameters ap, OnnxTensor b, LinearParameters bp, string name)
        {
            Imported centered = Centered(a, ap, name + "/centered");
            var weights = OnnxTensor.FromFloats(b.Name, b.Dims, CenteredConstant(b, bp));
            return MatMul(centered, weights, name);
        }

        private void ImportQLinearMatMul()
        {
            OnlyOutputs(1);
            Imported a = ActivationAnyLayout(0);
            OnnxTensor b = RequiredConstant(3);
            if (b.Dims.Count < 2)
            {
                throw Unsupported($"B '{b.Name}' is {Dims(b.Dims)}; a matrix is needed");
            }

            LinearParameters ap = Parameters(_node.Inputs[0], a.Dims, 1, 2, OnnxDataType.UInt8, -1);
            LinearParameters bp = Parameters(b.Name, b.Dims, 4, 5, b.DataType, -1);
            LinearParameters yp = Parameters(_node.Outputs[0], [1], 6, 7, OnnxDataType.UInt8, -1);
            if (!ap.PerTensor || !yp.PerTensor)
            {
                throw Unsupported("a and y must be quantized per tensor");
            }

            Imported product = IntegerProduct(a, ap, b, bp, IrName() + "/accumulator");
            Define(product with { Value = RequantizeValue(product, Multipliers(ap.Scale[0], bp.Scale, yp.Scale[0]), product.Rank - 1, yp, IrName()) });
        }

        private void ImportMatMulInteger()
        {
            OnlyOutputs(1);
            Imported a = ActivationAnyLayout(0);
            OnnxTensor b = RequiredConstant(1);
            if (b.Dims.Count < 2)
            {
                throw Unsupported($"B '{b.Name}' is {Dims(b.Dims)}; a matrix is needed");
            }

            LinearParameters ap = TensorZeroPoint(_node.Inputs[0], 2);
            LinearParameters bp = ZeroPointOnly(b, 3, -1);
            Define(IntegerProduct(a, ap, b, bp, IrName()));
        }
    }
}
