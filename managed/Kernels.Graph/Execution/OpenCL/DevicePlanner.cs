using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.Graph.Passes;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;

namespace Kernels.Graph.Execution.OpenCL;

/// <summary>The result of planning for one device: steps with their buffers bound, and what the passes did.</summary>
internal sealed record DevicePlan(
    DeviceStep[] Steps,
    DeviceBuffer[] Inputs,
    DeviceBuffer[] Outputs,
    IReadOnlyList<IDisposable> Owned,
    long IntermediateBytes,
    long TotalIntermediateBytes,
    int IntermediateBuffers,
    int RemovedIdentities,
    int FoldedBatchNorms,
    int FusedActivations,
    int InPlaceConcats,
    int CopiedConcats);

/// <summary>
/// Plans a <see cref="NetworkGraph"/> for one OpenCL device: the CPU executor's rewrites (<see cref="PlanGraph"/>),
/// one device operator per remaining node, concat inputs written straight into their channel slice where the
/// producer takes an output offset and pixel stride (else copied there by <see cref="ChannelSliceCopy"/>), constants
/// uploaded once (in the session's <see cref="DevicePrecision"/>, as every tensor), and intermediate tensors in whole device buffers reused by liveness (the operators read their input
/// from a buffer's start, so one arena with offsets would need sub-buffers, whose alignment rules vary by device).
/// </summary>
internal static class DevicePlanner
{
    // A value's storage: the tensor that owns the buffer (itself, or the concat it is a slice of), its channel offset
    // and pixel stride there.
    private readonly record struct Placement(Value Root, int ChannelOffset, int PixelStride);

    public static DevicePlan Build(NetworkGraph graph, OpenCLContext context, DeviceSessionOptions options)
    {
        List<PlanNode> nodes = PlanGraph.FromGraph(graph);
        string device = context.Device.Name;
        foreach (Value v in graph.Inputs.Concat(nodes.Select(n => n.Output)))
        {
            if (v.DataType != DataType.Float32)
            {
                throw new NotSupportedException($"Value '{v.Name}' is {v.DataType}: the OpenCL executor on {device} runs float32 tensors only.");
            }
        }

        Value[] outputs = graph.Outputs.ToArray();
        Value[] inputs = graph.Inputs.ToArray();
        int removed = PlanGraph.RemoveIdentities(nodes, outputs);
        int folded = PlanGraph.FoldBatchNorms(nodes, outputs);
        folded += PlanGraph.FoldChannelAffines(nodes, outputs);
        removed += PlanGraph.FoldPads(nodes, outputs);
        int fused = PlanGraph.FuseActivations(nodes, outputs);

        // Everything is checked before the first device allocation or program build.
        foreach (PlanNode n in nodes)
        {
            if (WhyNotSupported(n) is string why)
            {
                throw new NotSupportedException($"Node '{n.Name}' ({n.Kind}) cannot run on OpenCL device {device}: {why}.");
            }
        }

        var inputIndex = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++)
        {
            inputIndex.TryAdd(inputs[i], i);
        }

        var outputValues = new HashSet<Value>(outputs, ReferenceEqualityComparer.Instance);
        var placements = new Dictionary<Value, Placement>(ReferenceEqualityComparer.Instance);
        var inPlace = new HashSet<PlanNode>(ReferenceEqualityComparer.Instance);
        int copied = PlaceConcats(nodes, new HashSet<Value>(inputs.Concat(outputs), ReferenceEqualityComparer.Instance), placements, inPlace);
        Placement Place(Value v) => placements.TryGetValue(v, out Placement p) ? p : new Placement(v, 0, v.Shape.C);

        // Constants are uploaded once and have no step; in-place concats have none either.
        var constants = nodes.Where(n => n.Kind == OperatorKind.ConstantTensor).ToList();
        var constantValues = new HashSet<Value>(constants.Select(n => n.Output), ReferenceEqualityComparer.Instance);
        var executed = nodes.Where(n => !inPlace.Contains(n) && n.Kind != OperatorKind.ConstantTensor).ToList();
        bool Fixed(Value root) => inputIndex.ContainsKey(root) || outputValues.Contains(root) || constantValues.Contains(root);

        var lifetimes = new Dictionary<Value, (int First, int Last)>(ReferenceEqualityComparer.Instance);
        for (int s = 0; s < executed.Count; s++)
        {
            foreach (Value v in executed[s].Inputs.Append(executed[s].Output))
            {
                Value root = Place(v).Root;
                if (!Fixed(root))
                {
                    lifetimes[root] = lifetimes.TryGetValue(root, out var t) ? (Math.Min(t.First, s), Math.Max(t.Last, s)) : (s, s);
                }
            }
        }

        DevicePrecision precision = options.Precision;
        int elementBytes = precision.ElementBytes();
        (Dictionary<Value, int> slotOf, List<long> slotBytes) = AssignSlots(lifetimes, elementBytes);
        var owned = new List<IDisposable>();
        var steps = new List<DeviceStep>(executed.Count);
        try
        {
            DeviceBuffer Allocate(long elements)
            {
                DeviceBuffer b = context.CreateBuffer(Math.Max(elements, 1) * elementBytes);
                owned.Add(b);
                return b;
            }

            DeviceBuffer[] slots = slotBytes.Select(b => Allocate(b / elementBytes)).ToArray();
            DeviceBuffer[] inputBuffers = inputs.Select(v => Allocate(v.Shape.ElementCount)).ToArray();
            var buffers = new Dictionary<Value, DeviceBuffer>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < inputs.Length; i++)
            {
                buffers.TryAdd(inputs[i], inputBuffers[i]);
            }

            foreach (PlanNode c in constants)
            {
                float[] values = c.Source.Constants[0].Data.ToArray();
                if (values.Length != c.Output.Shape.ElementCount)
                {
                    throw new NotSupportedException(
                        $"Node '{c.Name}' (ConstantTensor) cannot run on OpenCL device {device}: it holds {values.Length} values for a {c.Output.Shape} tensor.");
                }

                DeviceBuffer b = Allocate(values.Length);
                b.WriteFloats(values, precision);
                buffers[c.Output] = b;
            }

            foreach (Value v in outputs)
            {
                if (!buffers.ContainsKey(v))
                {
                    buffers[v] = Allocate(v.Shape.ElementCount);
                }
            }

            foreach ((Value root, int slot) in slotOf)
            {
                buffers[root] = slots[slot];
            }

            (DeviceBuffer Buffer, int Offset, int Stride) Where(Value v)
            {
                Placement p = Place(v);
                return (buffers[p.Root], p.ChannelOffset, p.PixelStride);
            }

            var shared = new SharedOperators(context, owned, precision);
            foreach (PlanNode n in executed)
            {
                steps.Add(CreateStep(n, context, options, shared, Where));
            }

            return new DevicePlan(
                steps.ToArray(), inputBuffers, outputs.Select(v => buffers[v]).ToArray(), owned,
                slotBytes.Sum(), lifetimes.Keys.Sum(v => v.Shape.ElementCount * elementBytes), slots.Length,
                removed, folded, fused, inPlace.Count, copied);
        }
        catch
        {
            steps.ForEach(s => s.Dispose());
            owned.ForEach(o => o.Dispose());
            throw;
        }
    }

    /// <summary>Null when the device executor has a kernel for the node; else why not.</summary>
    internal static string? WhyNotSupported(PlanNode n) => n.Kind switch
    {
        OperatorKind.Conv or OperatorKind.FullyConnected or OperatorKind.MaxPool or OperatorKind.AveragePool
            or OperatorKind.GlobalAveragePool or OperatorKind.Lrn or OperatorKind.Softmax or OperatorKind.Concat or OperatorKind.ConstantTensor => null,
        OperatorKind.Add when n.Inputs.Count != 2 || n.Inputs.Any(v => v.Shape.ElementCount != n.Output.Shape.ElementCount) =>
            "the device add takes two inputs of the output's size (no broadcasting)",
        OperatorKind.Add => null,
        OperatorKind.BatchNormalization or OperatorKind.ChannelAffine =>
            "there is no device kernel for a per-channel affine that could not be folded into the convolution before it",
        OperatorKind.Relu or OperatorKind.Relu6 or OperatorKind.LeakyRelu or OperatorKind.Clip =>
            "the device runs activations fused into a convolution, fully connected layer or add, and this one could not be fused",
        OperatorKind.Pad => "only zero padding of H and W that folds into the convolution reading it runs on the device",
        _ => $"there is no OpenCL kernel for {n.Kind}",
    };

    // The device operators that take an output offset and pixel stride, so a concat's input can be written in place.
    private static bool TakesStride(PlanNode n) => n.Kind is OperatorKind.Conv or OperatorKind.FullyConnected
        or OperatorKind.MaxPool or OperatorKind.AveragePool or OperatorKind.GlobalAveragePool or OperatorKind.Lrn
        or OperatorKind.Softmax or OperatorKind.Concat;

    // Concats whose every input is produced only for them by an operator that takes a stride are written in place.
    private static int PlaceConcats(List<PlanNode> nodes, HashSet<Value> pinned, Dictionary<Value, Placement> placements, HashSet<PlanNode> inPlace)
    {
        Dictionary<Value, int> uses = PlanGraph.UseCounts(nodes);
        var producers = new Dictionary<Value, PlanNode>(ReferenceEqualityComparer.Instance);
        nodes.ForEach(n => producers[n.Output] = n);
        int copied = 0;
        foreach (PlanNode concat in nodes.Where(n => n.Kind == OperatorKind.Concat))
        {
            bool ok = !placements.ContainsKey(concat.Output)
                && concat.Inputs.Select((v, k) => v.Shape == concat.Source.Inputs[k].Shape).All(same => same)
                && concat.Inputs.All(v => !pinned.Contains(v)
                    && uses.GetValueOrDefault(v) == 1
                    && !placements.ContainsKey(v)
                    && producers.TryGetValue(v, out PlanNode? p)
                    && !inPlace.Contains(p)
                    && TakesStride(p));
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

    // Tensors in order of first use each take a buffer whose last tensor is dead by then (the smallest that fits, else
    // the largest, grown), or a new one: the buffers are the most tensors live at once, sized by their largest tenant.
    private static (Dictionary<Value, int> SlotOf, List<long> SlotBytes) AssignSlots(Dictionary<Value, (int First, int Last)> lifetimes, int elementBytes)
    {
        var slotOf = new Dictionary<Value, int>(ReferenceEqualityComparer.Instance);
        var bytes = new List<long>();
        var freeAfter = new List<int>();
        foreach ((Value v, (int first, int last)) in lifetimes.OrderBy(e => e.Value.First).ThenByDescending(e => e.Key.Shape.ElementCount))
        {
            long need = v.Shape.ElementCount * elementBytes;
            int best = -1;
            for (int s = 0; s < bytes.Count; s++)
            {
                if (freeAfter[s] >= first)
                {
                    continue;
                }

                bool fits = bytes[s] >= need, bestFits = best >= 0 && bytes[best] >= need;
                if (best < 0 || (fits && (!bestFits || bytes[s] < bytes[best])) || (!fits && !bestFits && bytes[s] > bytes[best]))
                {
                    best = s;
                }
            }

            if (best < 0)
            {
                best = bytes.Count;
                bytes.Add(0);
                freeAfter.Add(0);
            }

            bytes[best] = Math.Max(bytes[best], need);
            freeAfter[best] = last;
            slotOf[v] = best;
        }

        return (slotOf, bytes);
    }

    private static DeviceStep CreateStep(
        PlanNode n, OpenCLContext context, DeviceSessionOptions options, SharedOperators shared, Func<Value, (DeviceBuffer Buffer, int Offset, int Stride)> where)
    {
        // Shapes from the source node: an input whose Reshape was removed still has its producer's shape.
        TensorShape inShape = n.Source.Inputs.Count > 0 ? n.Source.Inputs[0].Shape : n.Output.Shape, outShape = n.Output.Shape;
        string op = string.Join('+', n.AbsorbedKinds.Prepend(n.Kind));
        (DeviceBuffer y, int offset, int pixelStride) = where(n.Output);
        int stride = pixelStride == outShape.C ? 0 : pixelStride;
        DeviceBuffer X(int k) => where(n.Inputs[k]).Buffer;
        PlanStepInfo Info(string kernel, double flops) => new(n.Name, op, inShape, outShape, kernel, flops);
        try
        {
            switch (n.Kind)
            {
                case OperatorKind.Conv:
                {
                    var d = (Conv2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    IDeviceConvolution conv = CreateConvolution(context, d, n.Weights!, n.Bias, options);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(conv.KernelName, d.Flops), p => conv.Run(x, y, offset, p), conv);
                }

                case OperatorKind.FullyConnected:
                {
                    var d = (FullyConnectedDescriptor)n.Attributes! with { OutputStride = stride };
                    var fc = new DeviceFullyConnected(context, d, n.Weights!, n.Bias, options.Precision);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(fc.KernelName, 2.0 * d.Batch * d.InputChannels * d.OutputChannels), p => fc.Run(x, y, offset, p), fc);
                }

                case OperatorKind.MaxPool or OperatorKind.AveragePool:
                {
                    var d = (Pool2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    var pool = new DevicePooling2D(context, d, options.Precision);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(pool.KernelName, (double)outShape.ElementCount * d.KernelHeight * d.KernelWidth), p => pool.Run(x, y, offset, p), pool);
                }

                case OperatorKind.GlobalAveragePool:
                {
                    var d = (GlobalAveragePoolDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    var gap = new DeviceGlobalAveragePooling(context, d, options.Precision);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(gap.KernelName, inShape.ElementCount), p => gap.Run(x, y, offset, p), gap);
                }

                case OperatorKind.Lrn:
                {
                    var d = (LrnDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    var lrn = new DeviceLocalResponseNormalization(context, d, options.Precision);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(lrn.KernelName, (double)inShape.ElementCount * (d.Size + 3)), p => lrn.Run(x, y, offset, p), lrn);
                }

                case OperatorKind.Softmax:
                {
                    var d = (SoftmaxDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    var softmax = new DeviceSoftmax(context, d, options.Precision);
                    DeviceBuffer x = X(0);
                    return new DeviceStep(Info(softmax.KernelName, 3.0 * inShape.ElementCount), p => softmax.Run(x, y, offset, p), softmax);
                }

                case OperatorKind.Add:
                {
                    var d = (ElementwiseAddDescriptor)n.Attributes!;
                    ElementwiseAdd add = shared.Add;
                    DeviceBuffer a = X(0), b = X(1);
                    int count = checked((int)outShape.ElementCount);
                    return new DeviceStep(Info(add.KernelName, outShape.ElementCount), p => add.Run(a, b, y, count, d.Activation, p), null);
                }

                case OperatorKind.Concat:
                {
                    ChannelSliceCopy copy = shared.Copy;
                    DeviceBuffer[] sources = n.Inputs.Select((_, k) => X(k)).ToArray();
                    int[] channels = n.Source.Inputs.Select(v => v.Shape.C).ToArray();
                    int pixels = checked((int)((long)outShape.N * outShape.H * outShape.W));
                    return new DeviceStep(Info(copy.KernelName, 0), p =>
                    {
                        double ms = 0;
                        int at = offset;
                        for (int k = 0; k < sources.Length; k++)
                        {
                            ms += copy.Run(sources[k], y, pixels, channels[k], destinationStride: pixelStride, destinationOffset: at, profile: p);
                            at += channels[k];
                        }

                        return ms;
                    }, null);
                }

                default:
                    throw new NotSupportedException($"Node '{n.Name}' ({n.Kind}) cannot run on OpenCL device {context.Device.Name}: {WhyNotSupported(n) ?? "no step"}.");
            }
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Node '{n.Name}' ({n.Kind}) on OpenCL device {context.Device.Name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// 1x1 without padding → <see cref="PointwiseConvolution"/>; depthwise → <see cref="DepthwiseConvolution"/>;
    /// 3x3 stride 1 with enough channels for the transforms to pay → <see cref="WinogradF2x3Convolution"/>; anything
    /// else (groups, dilation, large kernels) → <see cref="DirectConvolution"/>.
    /// </summary>
    internal static IDeviceConvolution CreateConvolution(OpenCLContext context, Conv2DDescriptor d, float[] weights, float[]? bias, DeviceSessionOptions options)
    {
        if (d.IsDepthwise)
        {
            return new DepthwiseConvolution(context, d, weights, bias, options.Precision);
        }

        if (PointwiseConvolution.WhyNotApplicable(d) is null)
        {
            return new PointwiseConvolution(context, d, weights, bias, options.Precision);
        }

        if (options.Winograd && d.InputChannels >= DeviceSessionOptions.WinogradMinimumChannels && WinogradF2x3Convolution.WhyNotApplicable(d) is null)
        {
            return new WinogradF2x3Convolution(context, d, weights, bias, options.Precision);
        }

        return new DirectConvolution(context, d, weights, bias, options.Precision);
    }

    // One add and one copy operator per session: they keep no per-layer state, only their kernel object.
    private sealed class SharedOperators(OpenCLContext context, List<IDisposable> owned, DevicePrecision precision)
    {
        private ElementwiseAdd? _add;
        private ChannelSliceCopy? _copy;

        public ElementwiseAdd Add => _add ??= Own(new ElementwiseAdd(context, precision));

        public ChannelSliceCopy Copy => _copy ??= Own(new ChannelSliceCopy(context, precision));

        private T Own<T>(T operation)
            where T : IDisposable
        {
            owned.Add(operation);
            return operation;
        }
    }
}
