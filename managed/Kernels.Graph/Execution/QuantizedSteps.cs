using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Kernels.Graph.Passes;

namespace Kernels.Graph.Execution;

/// <summary>The steps of 8-bit layers and of the conversions at the borders of the 8-bit regions.</summary>
internal static class QuantizedSteps
{
    /// <summary>Whether the node's 8-bit kernel can write its output with a pixel stride (into a concat's channel slice).</summary>
    public static bool TakesStride(PlanNode n) => n.Kind is OperatorKind.Conv or OperatorKind.FullyConnected or OperatorKind.MaxPool
        or OperatorKind.AveragePool or OperatorKind.GlobalAveragePool or OperatorKind.Lrn or OperatorKind.Add or OperatorKind.ConstantTensor;

    public static ExecutionStep Create(PlanNode n, QuantizedPlan q, KernelIsa isa, Func<Value, TensorRef> reference, int outStride)
    {
        TensorShape inShape = n.Source.Inputs.Count > 0 ? n.Source.Inputs[0].Shape : n.Output.Shape, outShape = n.Output.Shape;
        string op = string.Join('+', n.AbsorbedKinds.Prepend(n.Kind));
        TensorRef x = n.Inputs.Count > 0 ? reference(n.Inputs[0]) : default, y = reference(n.Output);
        int stride = outStride == outShape.C ? 0 : outStride;
        QuantizationParameters qy = q.Parameters(n.Output);
        QuantizationParameters qx = n.Inputs.Count > 0 ? q.Parameters(n.Inputs[0]) : qy;
        PlanStepInfo Info(string algorithm, double ops) => new(n.Name, op, inShape, outShape, algorithm, ops, Quantized: true);
        try
        {
            switch (n.Kind)
            {
                case OperatorKind.Conv:
                {
                    var d = (Conv2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    QuantizedConvolution conv = QuantizedConvolutions.Create(d, n.Weights!, n.Bias, qx, qy, isa);
                    return new QuantizedConvolutionStep(Info(conv.Name, 2.0 * d.Batch * d.OutputHeight * d.OutputWidth * d.OutputChannels * d.ReductionLength), conv, x, y);
                }

                case OperatorKind.FullyConnected:
                {
                    var d = (FullyConnectedDescriptor)n.Attributes! with { OutputStride = stride };
                    QuantizedFullyConnectedWeights w = QuantizedFullyConnected.Pack(d, n.Weights!, n.Bias, qx, qy);
                    return new QuantizedFullyConnectedStep(Info("q8-fc", 2.0 * d.Batch * d.InputChannels * d.OutputChannels), w, x, y);
                }

                case OperatorKind.MaxPool or OperatorKind.AveragePool:
                {
                    var d = (Pool2DDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new QuantizedPoolingStep(Info("q8-pool", (double)outShape.ElementCount * d.KernelHeight * d.KernelWidth), d, qx, qy, x, y);
                }

                case OperatorKind.GlobalAveragePool:
                {
                    var d = (GlobalAveragePoolDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new QuantizedGlobalAveragePoolStep(Info("q8-gap", inShape.ElementCount), d, qx, qy, x, y);
                }

                case OperatorKind.Lrn:
                {
                    var d = (LrnDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new QuantizedLrnStep(Info("q8-lrn", (double)inShape.ElementCount * (d.Size + 3)), d, qx, qy, x, y);
                }

                case OperatorKind.Add:
                {
                    var d = (ElementwiseAddDescriptor)n.Attributes! with { OutputPixelStride = stride };
                    d.Validate();
                    return new QuantizedAddStep(Info("q8-add", outShape.ElementCount), d, qx, q.Parameters(n.Inputs[1]), qy, x, reference(n.Inputs[1]), y);
                }

                case OperatorKind.Concat:
                {
                    // Every input shares the output's parameters (QuantizedPlan), so the copy is exact.
                    TensorRef[] inputs = n.Inputs.Select(reference).ToArray();
                    int[] channels = n.Source.Inputs.Select(v => v.Shape.C).ToArray();
                    return new QuantizedConcatCopyStep(Info("q8-copy", 0), inputs, channels, (long)outShape.N * outShape.H * outShape.W, y, outStride);
                }

                case OperatorKind.ConstantTensor:
                {
                    ReadOnlySpan<float> values = n.Source.Constants[0].Data.Span;
                    var bytes = new byte[values.Length];
                    for (int i = 0; i < bytes.Length; i++)
                    {
                        bytes[i] = (byte)qy.Quantize(values[i]);
                    }

                    return new QuantizedConstantStep(Info("q8-constant", 0), bytes, outShape.C, y, outStride);
                }

                default:
                    throw new NotSupportedException($"Node '{n.Name}': no 8-bit step for {n.Kind}.");
            }
        }
        catch (Exception e) when (e is ArgumentException)
        {
            throw new ArgumentException($"Node '{n.Name}' ({n.Kind}, 8-bit): {e.Message}", e);
        }
    }

    /// <summary>A quantize (float → uint8, counting saturated values) or dequantize step; both tensors dense.</summary>
    public static ExecutionStep Convert(QuantizedPlan.Conversion c, TensorRef from, TensorRef to)
    {
        TensorShape s = c.From.Shape;
        var info = new PlanStepInfo(c.To.Name == c.From.Name ? c.From.Name + "/f32" : c.To.Name, c.Quantize ? "Quantize" : "Dequantize", s, s, c.Quantize ? "q8-quantize" : "q8-dequantize", s.ElementCount, Quantized: true);
        return c.Quantize
            ? new QuantizeStep(info, c.Parameters, s.ElementCount, from, to)
            : new DequantizeStep(info, c.Parameters, s.ElementCount, from, to);
    }
}

internal sealed unsafe class QuantizedConvolutionStep(PlanStepInfo info, QuantizedConvolution conv, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => conv.Run(b.Bytes(input), b.Bytes(output), workers);

    public override void Dispose() => conv.Dispose();
}

internal sealed unsafe class QuantizedFullyConnectedStep(PlanStepInfo info, QuantizedFullyConnectedWeights weights, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedFullyConnected.Run(weights, b.Bytes(input), b.Bytes(output), workers);

    public override void Dispose() => weights.Dispose();
}

internal sealed unsafe class QuantizedPoolingStep(PlanStepInfo info, Pool2DDescriptor d, QuantizationParameters qx, QuantizationParameters qy, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedPooling.Run(d, b.Bytes(input), b.Bytes(output), qx, qy, workers);
}

internal sealed unsafe class QuantizedGlobalAveragePoolStep(PlanStepInfo info, GlobalAveragePoolDescriptor d, QuantizationParameters qx, QuantizationParameters qy, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedPooling.GlobalAverage(d, b.Bytes(input), b.Bytes(output), qx, qy);
}

internal sealed unsafe class QuantizedLrnStep(PlanStepInfo info, LrnDescriptor d, QuantizationParameters qx, QuantizationParameters qy, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedNormalization.Lrn(d, b.Bytes(input), b.Bytes(output), qx, qy, workers);
}

internal sealed unsafe class QuantizedAddStep(
    PlanStepInfo info, ElementwiseAddDescriptor d, QuantizationParameters qa, QuantizationParameters qb, QuantizationParameters qy, TensorRef a, TensorRef bIn, TensorRef output)
    : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedElementwise.Add(d, b.Bytes(a), qa, b.Bytes(bIn), qb, b.Bytes(output), qy, workers);
}

internal sealed unsafe class QuantizedConcatCopyStep(PlanStepInfo info, TensorRef[] inputs, int[] channels, long pixels, TensorRef output, int outputStride) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        byte* y = b.Bytes(output);
        int offset = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            QuantizedTensors.CopyChannels(b.Bytes(inputs[k]), channels[k], pixels, y + offset, outputStride);
            offset += channels[k];
        }
    }
}

internal sealed unsafe class QuantizedConstantStep(PlanStepInfo info, byte[] values, int channels, TensorRef output, int outputStride) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        fixed (byte* x = values)
        {
            QuantizedTensors.CopyChannels(x, channels, values.Length / channels, b.Bytes(output), outputStride);
        }
    }
}

/// <summary>float → uint8 (round half to even, saturating), counting the values that saturated.</summary>
internal sealed unsafe class QuantizeStep(PlanStepInfo info, QuantizationParameters q, long count, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => SaturatedValues += QuantizedTensors.Quantize(b[input], b.Bytes(output), count, q);
}

/// <summary>uint8 → float.</summary>
internal sealed unsafe class DequantizeStep(PlanStepInfo info, QuantizationParameters q, long count, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => QuantizedTensors.Dequantize(b.Bytes(input), b[output], count, q);
}
