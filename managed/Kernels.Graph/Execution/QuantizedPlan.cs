using Kernels.Core;
using Kernels.Graph.Passes;
using Kernels.Graph.Quantization;

namespace Kernels.Graph.Execution;

/// <summary>
/// The 8-bit side of a plan: which layers run on uint8 tensors, every such tensor's quantization parameters, and
/// the conversions where an 8-bit layer reads a float value or a float layer (or the caller) reads an 8-bit one.
/// A layer runs 8-bit when its operator has an 8-bit kernel (convolution and fully connected with no activation,
/// ReLU or ReLU6; pooling; LRN; add; concat; constant tensors), it is not kept float, and calibration gave its input and
/// output values parameters. Max pooling keeps its input's parameters (the max of quantized values is exact); all
/// inputs of an 8-bit concat and its output share one set (the union of their ranges), so the concat stays a
/// copy-free slice.
/// </summary>
internal sealed class QuantizedPlan
{
    /// <summary>A conversion of <paramref name="From"/> into <paramref name="To"/>: quantize (float → uint8) or dequantize.</summary>
    internal sealed record Conversion(Value From, Value To, QuantizationParameters Parameters, bool Quantize);

    private readonly HashSet<PlanNode> _layers = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<Value> _bytes = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Value, QuantizationParameters> _parameters = new(ReferenceEqualityComparer.Instance);

    private QuantizedPlan()
    {
    }

    /// <summary>Conversions, in the order of the nodes that need them.</summary>
    public List<Conversion> Conversions { get; } = [];

    /// <summary>Layers that run on 8-bit tensors.</summary>
    public int QuantizedLayers => _layers.Count;

    public bool IsQuantized(PlanNode n) => _layers.Contains(n);

    public bool IsQuantized(Value v) => _bytes.Contains(v);

    /// <summary>Bytes per element of a tensor.</summary>
    public int ElementSize(Value v) => _bytes.Contains(v) ? 1 : sizeof(float);

    public QuantizationParameters Parameters(Value v) =>
        _parameters.TryGetValue(v, out QuantizationParameters p) ? p : throw new InvalidOperationException($"Value '{v.Name}' has no quantization parameters.");

    /// <summary>Whether the operator has an 8-bit kernel for this node's attributes.</summary>
    public static bool HasKernel(PlanNode n) => n.Kind switch
    {
        OperatorKind.Conv => ((Conv2DDescriptor)n.Attributes!).Activation.Kind is Activation.None or Activation.Relu or Activation.Relu6,
        OperatorKind.FullyConnected => ((Cpu.Layers.FullyConnectedDescriptor)n.Attributes!).Activation.Kind is Activation.None or Activation.Relu or Activation.Relu6,
        OperatorKind.Add => ((Cpu.Layers.ElementwiseAddDescriptor)n.Attributes!).Activation.Kind is Activation.None or Activation.Relu or Activation.Relu6,
        OperatorKind.MaxPool or OperatorKind.AveragePool or OperatorKind.GlobalAveragePool or OperatorKind.Lrn or OperatorKind.Concat or OperatorKind.ConstantTensor => true,
        _ => false,
    };

    /// <summary>
    /// Decides the 8-bit layers and rewrites the inputs of the nodes that need a conversion to read the converted
    /// value. With no table, nothing is quantized.
    /// </summary>
    public static QuantizedPlan Create(List<PlanNode> nodes, Value[] graphInputs, Value[] graphOutputs, QuantizationTable? table, IReadOnlySet<string>? floatLayers)
    {
        var plan = new QuantizedPlan();
        if (table is null)
        {
            return plan;
        }

        bool Known(Value v) => table.TryGet(v.Name, out _);
        foreach (PlanNode n in nodes)
        {
            // A layer that writes a graph output keeps float precision there: its 8-bit input is dequantized instead,
            // so the network's outputs are not rounded to 256 levels (detection heads and logits need more).
            bool keep = (floatLayers is not null && (floatLayers.Contains(n.Name) || n.Absorbed.Any(floatLayers.Contains)))
                || (n.Kind is not (OperatorKind.Concat or OperatorKind.MaxPool) && graphOutputs.Any(o => ReferenceEquals(o, n.Output)));
            if (HasKernel(n) && !keep && Known(n.Output) && n.Inputs.All(Known))
            {
                plan._layers.Add(n);
                plan._bytes.Add(n.Output);
            }
        }

        // A concat none of whose inputs comes from an 8-bit layer, or a constant no 8-bit layer reads, would only add
        // conversions: they stay float (until nothing changes, since a concat may feed another).
        var producers = new Dictionary<Value, PlanNode>(ReferenceEqualityComparer.Instance);
        nodes.ForEach(n => producers[n.Output] = n);
        for (int removed = 1; removed > 0;)
        {
            removed = plan._layers.RemoveWhere(n =>
                (n.Kind == OperatorKind.Concat && !n.Inputs.Any(v => producers.TryGetValue(v, out PlanNode? p) && plan._layers.Contains(p)))
                || (n.Kind == OperatorKind.ConstantTensor && !nodes.Any(c => plan._layers.Contains(c) && c.Inputs.Any(v => ReferenceEquals(v, n.Output)))));
        }

        plan._bytes.Clear();
        foreach (PlanNode n in plan._layers)
        {
            plan._bytes.Add(n.Output);
        }

        foreach (PlanNode n in plan._layers)
        {
            foreach (Value v in n.Inputs.Append(n.Output))
            {
                table.TryGet(v.Name, out QuantizationParameters p);
                plan._parameters[v] = p;
            }
        }

        // Max pooling passes its input's parameters on (exact); concats unify theirs, until nothing changes (a value
        // read by two concats joins both). Unions are of the calibrated ranges: a constant zero input (range [0, 0],
        // parameters of scale 1) must not widen the others'.
        var ranges = new Dictionary<Value, (float Min, float Max)>(ReferenceEqualityComparer.Instance);
        foreach ((Value v, QuantizationParameters p) in plan._parameters)
        {
            ranges[v] = table.RangeOf(v.Name, p);
        }

        foreach (PlanNode n in nodes.Where(n => n.Kind == OperatorKind.MaxPool && plan._layers.Contains(n)))
        {
            plan._parameters[n.Output] = plan._parameters[n.Inputs[0]];
            ranges[n.Output] = ranges[n.Inputs[0]];
        }

        // Ranges only widen, so this settles; the bound is a guard.
        for (int round = 0, changes = 1; changes > 0 && round < 64; round++)
        {
            changes = 0;
            foreach (PlanNode n in nodes.Where(n => n.Kind == OperatorKind.Concat && plan._layers.Contains(n)))
            {
                Value[] members = [.. n.Inputs, n.Output];
                float lo = members.Min(v => ranges[v].Min), hi = members.Max(v => ranges[v].Max);
                var shared = QuantizationParameters.FromRange(lo, hi);
                foreach (Value v in members)
                {
                    ranges[v] = (lo, hi);
                    if (plan._parameters[v] != shared)
                    {
                        plan._parameters[v] = shared;
                        changes++;
                    }
                }
            }
        }

        // Conversions where a node reads a value of the other precision (one per value and direction).
        var converted = new Dictionary<(Value, bool), Value>();
        foreach (PlanNode n in nodes)
        {
            bool wantBytes = plan._layers.Contains(n);
            for (int k = 0; k < n.Inputs.Count; k++)
            {
                Value v = n.Inputs[k];
                if (plan._bytes.Contains(v) == wantBytes)
                {
                    continue;
                }

                if (!converted.TryGetValue((v, wantBytes), out Value? to))
                {
                    to = new Value($"{v.Name}/{(wantBytes ? "q8" : "f32")}", v.Shape);
                    converted[(v, wantBytes)] = to;
                    QuantizationParameters p = plan._parameters[v];
                    plan._parameters[to] = p;
                    if (wantBytes)
                    {
                        plan._bytes.Add(to);
                    }

                    plan.Conversions.Add(new Conversion(v, to, p, Quantize: wantBytes));
                }

                n.Inputs[k] = to;
            }
        }

        return plan;
    }
}
