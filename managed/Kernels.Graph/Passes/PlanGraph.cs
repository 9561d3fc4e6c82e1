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
            if (n.Kind is not (OperatorKind.Dropout or OperatorKind.Flatten or OperatorKind.Reshape))
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
            if (conv is null || ((Conv2DDescriptor)conv.Attributes!).Activation.Kind != Activation.None || conv.Output.Shape != bn.Source.Inputs[0].Shape)
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
    /// Folds each <see cref="OperatorKind.ChannelAffine"/> whose input is produced only for it by a convolution without
    /// an activation (and not reshaped in between) into that convolution: w·scale, b·scale + shift per output channel.
    /// </summary>
    public static int FoldChannelAffines(List<PlanNode> nodes, Value[] graphOutputs)
    {
        int folded = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            PlanNode affine = nodes[i];
            if (affine.Kind != OperatorKind.ChannelAffine)
            {
                continue;
            }

            PlanNode? conv = SoleProducer(nodes, graphOutputs, affine.Inputs[0], OperatorKind.Conv);
            if (conv is null || ((Conv2DDescriptor)conv.Attributes!).Activation.Kind != Activation.None || conv.Output.Shape != affine.Source.Inputs[0].Shape)
            {
                continue;
            }

            var d = (Conv2DDescriptor)conv.Attributes!;
            conv.Bias ??= new float[d.OutputChannels];
            ReadOnlySpan<float> scale = affine.Source.Constants[0].Data.Span, shift = affine.Source.Constants[1].Data.Span;
            int perChannel = conv.Weights!.Length / d.OutputChannels;
            for (int o = 0; o < d.OutputChannels; o++)
            {
                Span<float> w = conv.Weights.AsSpan(o * perChannel, perChannel);
                for (int k = 0; k < w.Length; k++)
                {
                    w[k] *= scale[o];
                }

                conv.Bias[o] = (conv.Bias[o] * scale[o]) + shift[o];
            }

            Absorb(nodes, conv, affine);
            i--;
            folded++;
        }

        return folded;
    }

    /// <summary>
    /// Folds each zero <see cref="OperatorKind.Pad"/> of H and W only (constant mode) whose output only a convolution
    /// reads into that convolution's padding. Returns how many pads went.
    /// </summary>
    public static int FoldPads(List<PlanNode> nodes, Value[] graphOutputs)
    {
        Dictionary<Value, int> uses = UseCounts(nodes);
        int folded = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            PlanNode pad = nodes[i];
            if (pad.Kind != OperatorKind.Pad || Array.IndexOf(graphOutputs, pad.Output) >= 0 || uses.GetValueOrDefault(pad.Output) != 1
                || pad.Attributes is not PadAttributes { Mode: PadMode.Constant, Value: 0f, ChannelsBefore: 0, ChannelsAfter: 0 } p
                || pad.Inputs[0].Shape != pad.Source.Inputs[0].Shape)
            {
                continue;
            }

            PlanNode? conv = nodes.Find(n => n.Kind == OperatorKind.Conv && n.Inputs.Count == 1 && ReferenceEquals(n.Inputs[0], pad.Output));
            if (conv is null || conv.Source.Inputs[0].Shape != pad.Output.Shape)
            {
                continue;
            }

            // Kept within what every convolution kernel is tested with: no output pixel entirely in the padding.
            var d = (Conv2DDescriptor)conv.Attributes!;
            int kh = d.DilatedKernelHeight - 1, kw = d.DilatedKernelWidth - 1;
            if (d.PadTop + p.Top > kh || d.PadBottom + p.Bottom > kh || d.PadLeft + p.Left > kw || d.PadRight + p.Right > kw)
            {
                continue;
            }

            TensorShape x = pad.Inputs[0].Shape;
            conv.Attributes = d with
            {
                InputHeight = x.H,
                InputWidth = x.W,
                PadTop = d.PadTop + p.Top,
                PadBottom = d.PadBottom + p.Bottom,
                PadLeft = d.PadLeft + p.Left,
                PadRight = d.PadRight + p.Right,
            };
            conv.Inputs[0] = pad.Inputs[0];
            conv.Absorbed.Add(pad.Name);
            conv.AbsorbedKinds.Add(OperatorKind.Pad);
            nodes.RemoveAt(i--);
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
