using Kernels.Core;
using Kernels.Cpu.Layers;

namespace Kernels.Graph.Passes;

/// <summary>
/// One operator of the mutable graph the executor's passes rewrite. It owns copies of its weights so folding can
/// change them without touching the (shared, lazily generated) constants of the source <see cref="NetworkGraph"/>.
/// </summary>
internal sealed class PlanNode
{
    public PlanNode(Node node)
    {
        Name = node.Name;
        Kind = node.Kind;
        Inputs = node.Inputs.ToList();
        Output = node.Output;
        Attributes = node.Attributes;
        Source = node;
    }

    public string Name { get; }

    public OperatorKind Kind { get; }

    public Node Source { get; }

    public List<Value> Inputs { get; }

    public Value Output { get; set; }

    public object? Attributes { get; set; }

    /// <summary>Weights (OHWI for convolutions, [out, in] for fully connected), copied from the constants.</summary>
    public float[]? Weights { get; set; }

    /// <summary>Bias, one per output channel, or null.</summary>
    public float[]? Bias { get; set; }

    /// <summary>Names of the nodes folded or fused into this one (for the profile).</summary>
    public List<string> Absorbed { get; } = [];

    /// <summary>Operators of the nodes folded or fused into this one, in the order they were absorbed.</summary>
    public List<OperatorKind> AbsorbedKinds { get; } = [];
}

/// <summary>The executor's graph rewrites: identity removal, batch-norm folding and activation fusion.</summary>
internal static class PlanGraph
{
    /// <summary>The graph's nodes as mutable plan nodes, with weights copied for the weighted operators.</summary>
    public static List<PlanNode> FromGraph(NetworkGraph graph)
    {
        var nodes = new List<PlanNode>(graph.Nodes.Count);
        foreach (Node node in graph.Nodes)
        {
            var p = new PlanNode(node);
            if (node.Kind is OperatorKind.Conv or OperatorKind.FullyConnected)
            {
                p.Weights = node.Constants[0].Data.ToArray();
                p.Bias = node.Constants.Count > 1 ? node.Constants[1].Data.ToArray() : null;
            }

            nodes.Add(p);
        }

        return nodes;
    }

    /// <summary>
    /// Removes Dropout (inference is the identity) and Flatten (NHWC flattening keeps the memory order): their
    /// consumers read the input directly. A graph output that was such a node's output becomes its input.
    /// </summary>
    public static int RemoveIdentities(List<PlanNode> nodes, Value[] graphOutputs)
    {
        int removed = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            PlanNode n = nodes[i];
            if (n.Kind is not (OperatorKind.Dropout or OperatorKind.Flatten))
            {
                continue;
            }

            Replace(nodes, graphOutputs, n.Output, n.Inputs[0]);
            nodes.RemoveAt(i--);
            removed++;
        }

        return removed;
    }

    /// <summary>Folds every BatchNormalization that is the only consumer of a convolution into that convolution.</summary>
    public static int FoldBatchNorms(List<PlanNode> nodes, Value[] graphOutputs)
    {
        int folded = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            PlanNode bn = nodes[i];
            if (bn.Kind != OperatorKind.BatchNormalization)
            {
                continue;
            }

            PlanNode? conv = SoleProducer(nodes, graphOutputs, bn.Inputs[0], OperatorKind.Conv);
            if (conv is null || ((Conv2DDescriptor)conv.Attributes!).Activation.Kind != Activation.None)
            {
                continue;
            }

            var d = (Conv2DDescriptor)conv.Attributes!;
            conv.Bias ??= new float[d.OutputChannels];
            IReadOnlyList<Constant> c = bn.Source.Constants;
            BatchNormFolding.Fold(
                conv.Weights, conv.Bias,
                c[0].Data.Span, c[1].Data.Span, c[2].Data.Span, c[3].Data.Span,
                bn.Source.GetAttributes<BatchNormAttributes>().Epsilon);
            Absorb(nodes, conv, bn);
            i--;
            folded++;
        }

        return folded;
    }

    /// <summary>
    /// Fuses Relu, Relu6, LeakyRelu and the Clips that are one of those into the Conv, FullyConnected or Add that
    /// produces their input, when the activation is that output's only consumer (otherwise the pre-activation
    /// value is still needed).
    /// </summary>
    public static int FuseActivations(List<PlanNode> nodes, Value[] graphOutputs)
    {
        int fused = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            PlanNode act = nodes[i];
            if (act.Kind is not (OperatorKind.Relu or OperatorKind.Relu6 or OperatorKind.LeakyRelu or OperatorKind.Clip)
                || AsFused((ActivationDescriptor)act.Attributes!) is not { } activation)
            {
                continue;
            }

            PlanNode? producer = SoleProducer(nodes, graphOutputs, act.Inputs[0], OperatorKind.Conv, OperatorKind.FullyConnected, OperatorKind.Add);
            switch (producer?.Attributes)
            {
                case Conv2DDescriptor d when d.Activation.Kind == Activation.None:
                    producer.Attributes = d with { Activation = activation };
                    break;
                case FullyConnectedDescriptor d when d.Activation.Kind == Activation.None:
                    producer.Attributes = d with { Activation = activation };
                    break;
                case ElementwiseAddDescriptor d when d.Activation.Kind == Activation.None:
                    producer.Attributes = d with { Activation = activation };
                    break;
                default:
                    continue;
            }

            Absorb(nodes, producer, act);
            i--;
            fused++;
        }

        return fused;
    }

    /// <summary>The fused form of a standalone activation, or null when the kernels' epilogues cannot express it.</summary>
    public static FusedActivation? AsFused(ActivationDescriptor d) => d.Kind switch
    {
        ActivationKind.Relu => Activation.Relu,
        ActivationKind.Relu6 => Activation.Relu6,
        ActivationKind.LeakyRelu => new FusedActivation(Activation.LeakyRelu, d.LeakySlope),
        ActivationKind.Clip when d.Min == 0f && d.Max == 6f => Activation.Relu6,
        ActivationKind.Clip when d.Min == 0f && float.IsPositiveInfinity(d.Max) => Activation.Relu,
        _ => null,
    };

    /// <summary>How many times each value is read by the nodes (a node reading it twice counts twice).</summary>
    public static Dictionary<Value, int> UseCounts(List<PlanNode> nodes)
    {
        var uses = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        foreach (PlanNode n in nodes)
        {
            foreach (Value v in n.Inputs)
            {
                uses[v] = uses.GetValueOrDefault(v) + 1;
            }
        }

        return uses;
    }

    // The producer of value when it is one of kinds, value is read exactly once and is no graph output.
    private static PlanNode? SoleProducer(List<PlanNode> nodes, Value[] graphOutputs, Value value, params OperatorKind[] kinds)
    {
        if (Array.IndexOf(graphOutputs, value) >= 0)
        {
            return null;
        }

        PlanNode? producer = nodes.Find(n => ReferenceEquals(n.Output, value));
        if (producer is null || Array.IndexOf(kinds, producer.Kind) < 0)
        {
            return null;
        }

        int uses = nodes.Sum(n => n.Inputs.Count(v => ReferenceEquals(v, value)));
        return uses == 1 ? producer : null;
    }

    // The producer takes over the absorbed node's output value, so every consumer of it now reads the producer.
    private static void Absorb(List<PlanNode> nodes, PlanNode producer, PlanNode absorbed)
    {
        producer.Output = absorbed.Output;
        producer.Absorbed.Add(absorbed.Name);
        producer.Absorbed.AddRange(absorbed.Absorbed);
        producer.AbsorbedKinds.Add(absorbed.Kind);
        producer.AbsorbedKinds.AddRange(absorbed.AbsorbedKinds);
        nodes.Remove(absorbed);
    }

    private static void Replace(List<PlanNode> nodes, Value[] graphOutputs, Value from, Value to)
    {
        foreach (PlanNode n in nodes)
        {
            for (int k = 0; k < n.Inputs.Count; k++)
            {
                if (ReferenceEquals(n.Inputs[k], from))
                {
                    n.Inputs[k] = to;
                }
            }
        }

        for (int k = 0; k < graphOutputs.Length; k++)
        {
            if (ReferenceEquals(graphOutputs[k], from))
            {
                graphOutputs[k] = to;
            }
        }
    }
}
