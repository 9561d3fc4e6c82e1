using Kernels.Core;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Layers;
using Kernels.Graph.Passes;
using Kernels.Graph.Planning;
using Kernels.Graph.Quantization;

namespace Kernels.Graph.Execution;

/// <summary>The result of planning: steps, arena layout and what the passes did.</summary>
internal sealed record ExecutionPlan(
    ExecutionStep[] Steps,
    long ArenaBytes,
    long TotalIntermediateBytes,
    int RemovedIdentities,
    int FoldedBatchNorms,
    int FusedActivations,
    int InPlaceConcats,
    int CopiedConcats,
    int QuantizedLayers);

/// <summary>
/// Turns a <see cref="NetworkGraph"/> into executable steps: runs the rewrites, places concat inputs in their
/// output's channel slices, picks and packs each convolution, and lays every intermediate tensor out in one arena.
/// </summary>
internal static class ExecutionPlanner
{
    private const int ArenaAlignment = 64;

    // A value's storage: the tensor that owns the memory (itself, or the concat it is a slice of) and its channel
    // offset and pixel stride there.
    private readonly record struct Placement(Value Root, int ChannelOffset, int PixelStride);

    public static ExecutionPlan Build(
        NetworkGraph graph, KernelIsa isa, int threads, Func<Conv2DDescriptor, ConvolutionAlgorithm>? chooseAlgorithm = null,
        QuantizationTable? quantization = null, IReadOnlySet<string>? floatLayers = null)
    {
        List<PlanNode> nodes = PlanGraph.FromGraph(graph);
        foreach (PlanNode n in nodes)
        {
            if (n.Output.DataType != DataType.Float32)
            {
                throw new NotSupportedException($"Node '{n.Name}' ({n.Kind}): the session runs float32 tensors, not {n.Output.DataType}.");
            }
        }

        foreach (Value v in graph.Inputs)
        {
            if (v.DataType != DataType.Float32)
            {
                throw new NotSupportedException($"Graph input '{v.Name}': the session runs float32 tensors, not {v.DataType}.");
            }
        }

        Value[] outputs = graph.Outputs.ToArray();
        Value[] graphInputs = graph.Inputs.ToArray();
        int removed = PlanGraph.RemoveIdentities(nodes, outputs);
        int folded = PlanGraph.FoldBatchNorms(nodes, outputs);
        folded += PlanGraph.FoldChannelAffines(nodes, outputs);
        removed += PlanGraph.FoldPads(nodes, outputs);
        int fused = PlanGraph.FuseActivations(nodes, outputs);

        // Precision: which layers run on 8-bit tensors, each value's parameters, and the conversions at the borders.
        var q = QuantizedPlan.Create(nodes, graphInputs, outputs, quantization, floatLayers);

        var inputIndex = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < graphInputs.Length; i++)
        {
            inputIndex[graphInputs[i]] = i;
        }

        // Each float graph output is written straight into the caller's buffer unless it is a graph input or the same
        // value as an earlier output: those are copied at the end of the run. An 8-bit one is dequantized into it.
        var outputIndex = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        var copies = new List<(Value Source, int Output)>();
        for (int k = 0; k < outputs.Length; k++)
        {
            if (q.IsQuantized(outputs[k]) || inputIndex.ContainsKey(outputs[k]) || !outputIndex.TryAdd(outputs[k], k))
            {
                copies.Add((outputs[k], k));
            }
        }

        var placements = new Dictionary<Value, Placement>(ReferenceEqualityComparer.Instance);
        var inPlace = new HashSet<PlanNode>(ReferenceEqualityComparer.Instance);
        var pinned = new HashSet<Value>(graphInputs.Concat(outputs), ReferenceEqualityComparer.Instance);
        int copied = PlaceConcats(nodes, pinned, placements, inPlace, q);

        Placement Place(Value v) => placements.TryGetValue(v, out Placement p) ? p : new Placement(v, 0, v.Shape.C);
        bool External(Value root) => inputIndex.ContainsKey(root) || outputIndex.ContainsKey(root);

        // The executed operations in order: the nodes (in-place concats have no step, their producers already wrote
        // the result), each conversion right after the producer of what it converts (graph inputs' first).
        var executed = new List<object>();
        foreach (QuantizedPlan.Conversion c in q.Conversions.Where(c => inputIndex.ContainsKey(c.From)))
        {
            executed.Add(c);
        }

        foreach (PlanNode n in nodes.Where(n => !inPlace.Contains(n)))
        {
            executed.Add(n);
            executed.AddRange(q.Conversions.Where(c => ReferenceEquals(c.From, n.Output)));
        }

        // A conversion of a concat's output made in place (no step of its own) follows the concat's last producer.
        foreach (QuantizedPlan.Conversion c in q.Conversions.Where(c => !executed.Contains(c)))
        {
            int last = executed.FindLastIndex(o => o is PlanNode p && ReferenceEquals(Place(p.Output).Root, Place(c.From).Root));
            executed.Insert(last + 1, c);
        }

        // Lifetimes of the arena tensors (roots that are neither a caller's input nor output), in step indices.
        var lifetimes = new Dictionary<Value, (int First, int Last)>(ReferenceEqualityComparer.Instance);
        void Touch(Value v, int step)
        {
            Value root = Place(v).Root;
            if (External(root))
            {
                return;
            }

            lifetimes[root] = lifetimes.TryGetValue(root, out var t) ? (Math.Min(t.First, step), Math.Max(t.Last, step)) : (step, step);
        }

        for (int s = 0; s < executed.Count; s++)
        {
            switch (executed[s])
            {
                case PlanNode n:
                    n.Inputs.ForEach(v => Touch(v, s));
                    Touch(n.Output, s);
                    break;
                case QuantizedPlan.Conversion c:
                    Touch(c.From, s);
                    Touch(c.To, s);
                    break;
            }
        }

        foreach ((Value source, _) in copies)
        {
            Touch(source, executed.Count);
        }

        Value[] roots = lifetimes.Keys.ToArray();
        ArenaPlan arena = ArenaPlanner.Plan(
            roots.Select(r => new TensorLifetime(r.Shape.ElementCount * q.ElementSize(r), lifetimes[r].First, lifetimes[r].Last)).ToArray(),
            ArenaAlignment);
        var rootOffsets = new Dictionary<Value, long>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < roots.Length; i++)
        {
            rootOffsets[roots[i]] = arena.Offsets[i];
        }

        TensorRef Ref(Value v)
        {
            Placement p = Place(v);
            long offset = (long)p.ChannelOffset * q.ElementSize(p.Root);
            if (inputIndex.TryGetValue(p.Root, out int i))
            {
                return new TensorRef(BufferKind.Input, offset, i);
            }

            return outputIndex.TryGetValue(p.Root, out int k)
                ? new TensorRef(BufferKind.Output, offset, k)
                : new TensorRef(BufferKind.Arena, rootOffsets[p.Root] + offset);
        }

        var steps = new List<ExecutionStep>(executed.Count + copies.Count);
        try
        {
            foreach (object op in executed)
            {
                ExecutionStep step;
                if (op is PlanNode n)
                {
                    step = q.IsQuantized(n)
                        ? QuantizedSteps.Create(n, q, isa, Ref, Place(n.Output).PixelStride)
                        : CreateStep(n, isa, threads, chooseAlgorithm, Ref, Place(n.Output).PixelStride);
                    step.Output = n.Output;
                    step.OutputPlace = (Ref(n.Output), Place(n.Output).PixelStride);
                }
                else
                {
                    var c = (QuantizedPlan.Conversion)op;
                    step = QuantizedSteps.Convert(c, Ref(c.From), Ref(c.To));
                }

                steps.Add(step);
            }

            // An in-place concat has no step: its value is complete once the last step writing a slice of it has run.
            foreach (PlanNode concat in inPlace)
            {
                int last = steps.FindLastIndex(st => st.Output is { } o && concat.Inputs.Any(v => ReferenceEquals(v, o)));
                if (last >= 0)
                {
                    (steps[last].Completes ??= []).Add((concat.Output, Ref(concat.Output)));
                }
            }

            foreach ((Value source, int k) in copies)
            {
                // An output that is 8-bit (dequantized into the caller's buffer), a graph input (the graph computes
                // nothing for it) or repeats an earlier output.
                TensorShape s = source.Shape;
                var target = new TensorRef(BufferKind.Output, 0, k);
                steps.Add(q.IsQuantized(source)
                    ? QuantizedSteps.Convert(new QuantizedPlan.Conversion(source, source, q.Parameters(source), Quantize: false), Ref(source), target)
                    : new ConcatCopyStep(new PlanStepInfo($"{graph.Name}/copy{k}", "Copy", s, s, "memcpy", 0), [Ref(source)], [s.C], (long)s.N * s.H * s.W, target, s.C));
            }
        }
        catch
        {
            steps.ForEach(s => s.Dispose());
            throw;
        }

        return new ExecutionPlan(steps.ToArray(), arena.ArenaBytes, arena.TotalTensorBytes, removed, folded, fused, inPlace.Count, copied, q.QuantizedLayers);
    }

    // Decides which concats run without copies: each input is produced by a step that can write with a pixel
    // stride, is read by nothing else and is no graph input or output. Returns how many concats still copy.
    private static int PlaceConcats(List<PlanNode> nodes, HashSet<Value> pinned, Dictionary<Value, Placement> placements, HashSet<PlanNode> inPlace, QuantizedPlan q)
    {
        Dictionary<Value, int> uses = PlanGraph.UseCounts(nodes);

        // A conversion reads its value densely: a value it reads is not the concat's alone (QuantizedPlan rewrote the
        // converted reader's input, so the node use counts miss this read).
        foreach (QuantizedPlan.Conversion c in q.Conversions)
        {
            uses[c.From] = uses.GetValueOrDefault(c.From) + 1;
        }

        var producers = new Dictionary<Value, PlanNode>(ReferenceEqualityComparer.Instance);
        nodes.ForEach(n => producers[n.Output] = n);
        int copied = 0;
        foreach (PlanNode concat in nodes.Where(n => n.Kind == OperatorKind.Concat))
        {
            // An input reshaped on its way in (its removed Reshape left the value's own shape) is copied.
            bool ok = !placements.ContainsKey(concat.Output) && concat.Inputs.Select((v, k) => (v, k)).All(e => e.v.Shape == concat.Source.Inputs[e.k].Shape) && concat.Inputs.All(v =>
                !pinned.Contains(v)
                && uses.GetValueOrDefault(v) == 1
                && !placements.ContainsKey(v)
                && producers.TryGetValue(v, out PlanNode? p)
                && !inPlace.Contains(p)
                && q.IsQuantized(p) == q.IsQuantized(concat)
                && (q.IsQuantized(p) ? QuantizedSteps.TakesStride(p) : TakesStride(p)));
            if (!ok)
            {
                copied++;
                continue;
            }

            int offset = 0, stride = concat.Output.Shape.C;
            foreach (Value v in concat.Inputs)
            {
                placements[v] = new Placement(concat.Output, offset, stride);
                offset += v.Shape.C;
            }

            inPlace.Add(concat);
        }

        return copied;
    }

    private static bool TakesStride(PlanNode n) => n.Kind is OperatorKind.Conv or OperatorKind.FullyConnected
        or OperatorKind.MaxPool or OperatorKind.AveragePool or OperatorKind.GlobalAveragePool or OperatorKind.Lrn
        or OperatorKind.Add or OperatorKind.Softmax or OperatorKind.ConstantTensor or OperatorKind.Pad or OperatorKind.Relu or OperatorKind.Relu6 or OperatorKind.LeakyRelu or OperatorKind.Clip;

    private static ExecutionStep CreateStep(
        PlanNode n, KernelIsa isa, int threads, Func<Conv2DDescriptor, ConvolutionAlgorithm>? chooseAlgorithm, Func<Value, TensorRef> reference, int outStride)
    {
        // Shapes from the source node: an input whose Reshape was removed still has its producer's shape.
        TensorShape inShape = n.Source.Inputs.Count > 0 ? n.Source.Inputs[0].Shape : n.Output.Shape, outShape = n.Output.Shape;
        string op = string.Join('+', n.AbsorbedKinds.Prepend(n.Kind));
        TensorRef x = n.Inputs.Count > 0 ? reference(n.Inputs[0]) : default, y = reference(n.Output);
        int stride = outStride == outShape.C ? 0 : outStride;
        PlanStepInfo Info(string algorithm, double flops) => new(n.Name, op, inShape, outShape, algorithm, flops);
        try
        {
            switch (n.Kind)
            {
                case OperatorKind.Conv:
                {
                    var d = (Conv2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    ConvolutionAlgorithm algorithm = chooseAlgorithm?.Invoke(d) ?? ConvolutionSelector.Heuristic(d, isa, threads).Algorithm;
                    ConvolutionKernel kernel = Convolutions.Create(d, n.Weights, n.Bias, algorithm, isa);
                    double flops = 2.0 * d.Batch * d.OutputHeight * d.OutputWidth * d.OutputChannels * d.ReductionLength;
                    return new ConvolutionStep(Info(kernel.Name, flops), kernel, x, y);
                }

                case OperatorKind.FullyConnected:
                {
                    var d = (FullyConnectedDescriptor)n.Attributes! with { OutputStride = stride };
                    FullyConnectedWeights w = FullyConnected.Pack(d, n.Weights, n.Bias, isa);
                    return new FullyConnectedStep(Info($"f32-fc-{w.Isa.ToName()}", 2.0 * d.Batch * d.InputChannels * d.OutputChannels), w, x, y);
                }

                case OperatorKind.MaxPool or OperatorKind.AveragePool:
                {
                    var d = (Pool2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new PoolingStep(Info("pool", (double)outShape.ElementCount * d.KernelHeight * d.KernelWidth), d, isa, x, y);
                }

                case OperatorKind.GlobalAveragePool:
                {
                    var d = (GlobalAveragePoolDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new GlobalAveragePoolStep(Info("gap", inShape.ElementCount), d, isa, x, y);
                }

                case OperatorKind.Lrn:
                {
                    var d = (LrnDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new LrnStep(Info("lrn", (double)inShape.ElementCount * (d.Size + 3)), d, x, y);
                }

                case OperatorKind.Softmax:
                {
                    var d = (SoftmaxDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new SoftmaxStep(Info("softmax", 3.0 * inShape.ElementCount), d, x, y);
                }

                case OperatorKind.Add:
                {
                    var d = (ElementwiseAddDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new AddStep(Info("add", outShape.ElementCount), d, isa, x, reference(n.Inputs[1]), y);
                }

                case OperatorKind.Relu or OperatorKind.Relu6 or OperatorKind.LeakyRelu or OperatorKind.Clip:
                {
                    var d = (ActivationDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new ActivationStep(Info("activation", outShape.ElementCount), d, isa, x, y);
                }

                case OperatorKind.BatchNormalization:
                {
                    IReadOnlyList<Constant> c = n.Source.Constants;
                    double eps = n.Source.GetAttributes<BatchNormAttributes>().Epsilon;
                    ReadOnlySpan<float> gamma = c[0].Data.Span, beta = c[1].Data.Span, mean = c[2].Data.Span, variance = c[3].Data.Span;
                    var scale = new float[inShape.C];
                    var shift = new float[inShape.C];
                    for (int i = 0; i < scale.Length; i++)
                    {
                        double s = gamma[i] / Math.Sqrt(variance[i] + eps);
                        scale[i] = (float)s;
                        shift[i] = (float)(beta[i] - (mean[i] * s));
                    }

                    return new BatchNormStep(Info("affine", 2.0 * inShape.ElementCount), scale, shift, (long)inShape.N * inShape.H * inShape.W, x, y, outStride);
                }

                case OperatorKind.Concat:
                {
                    TensorRef[] inputs = n.Inputs.Select(reference).ToArray();
                    int[] channels = n.Source.Inputs.Select(v => v.Shape.C).ToArray();
                    return new ConcatCopyStep(Info("copy", 0), inputs, channels, (long)outShape.N * outShape.H * outShape.W, y, outStride);
                }

                case OperatorKind.Sigmoid:
                    return new SigmoidStep(Info("sigmoid", 4.0 * inShape.ElementCount), inShape.ElementCount, x, y);

                case OperatorKind.HardSigmoid:
                {
                    HardSigmoidAttributes a = n.Source.GetAttributes<HardSigmoidAttributes>();
                    return new HardSigmoidStep(Info("hard-sigmoid", 3.0 * inShape.ElementCount), a.Alpha, a.Beta, inShape.ElementCount, x, y);
                }

                case OperatorKind.ChannelAffine:
                {
                    IReadOnlyList<Constant> c = n.Source.Constants;
                    return new BatchNormStep(Info("affine", 2.0 * inShape.ElementCount), c[0].Data.ToArray(), c[1].Data.ToArray(), (long)inShape.N * inShape.H * inShape.W, x, y, outStride);
                }

                case OperatorKind.Mul:
                    return new MulStep(Info("mul", outShape.ElementCount), outShape.ElementCount, x, reference(n.Inputs[1]), y);

                case OperatorKind.ConstantTensor:
                    return new ConstantTensorStep(Info("constant", 0), n.Source.Constants[0].Data.ToArray(), outShape.C, y, outStride);

                case OperatorKind.Pad:
                    return new PadStep(Info("pad", 0), n.Source.GetAttributes<PadAttributes>(), inShape, x, y, outStride);

                case OperatorKind.QuantizeLinear or OperatorKind.DequantizeLinear or OperatorKind.Requantize:
                    return new LinearQuantizationStep(Info("linear-quantization", 2.0 * inShape.ElementCount), n.Source, x, y);

                default:
                    throw new NotSupportedException($"Node '{n.Name}': the executor has no {n.Kind} step.");
            }
        }
        catch (Exception e) when (e is ArgumentException)
        {
            throw new ArgumentException($"Node '{n.Name}' ({n.Kind}): {e.Message}", e);
        }
    }
}
