using System.Numerics;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Kernels.Cpu.Layers;

namespace Kernels.Graph.Execution;

/// <summary>Where a tensor lives: the arena, the caller's input or the caller's output, and the float offset there.</summary>
internal enum BufferKind
{
    Arena,
    Input,
    Output,
}

/// <summary>A tensor's place: a buffer (the arena, or caller input/output number <paramref name="Index"/>) and a byte offset there (a channel offset for a concat slice).</summary>
internal readonly record struct TensorRef(BufferKind Buffer, long Offset, int Index = 0);

/// <summary>The base pointers of one run; resolving a reference is a load and an add, so a run needs no per-step state.</summary>
internal readonly unsafe struct RunBuffers(byte* arena, float** inputs, float** outputs)
{
    /// <summary>A float tensor's first element.</summary>
    public float* this[TensorRef r] => (float*)Bytes(r);

    /// <summary>A tensor's first byte (8-bit tensors).</summary>
    public byte* Bytes(TensorRef r) => r.Buffer switch
    {
        BufferKind.Arena => arena + r.Offset,
        BufferKind.Input => (byte*)inputs[r.Index] + r.Offset,
        _ => (byte*)outputs[r.Index] + r.Offset,
    };
}

/// <summary>One executed layer of a plan, with the description the profile reports.</summary>
internal abstract unsafe class ExecutionStep : IDisposable
{
    protected ExecutionStep(PlanStepInfo info) => Info = info;

    public PlanStepInfo Info { get; }

    /// <summary>Values this step clamped at the ends of the 8-bit range, over all runs (quantize steps count them).</summary>
    public long SaturatedValues { get; protected set; }

    /// <summary>The value the step writes (for calibration's observer); null for a step that writes none of the graph's values.</summary>
    public Value? Output { get; set; }

    /// <summary>Values this step completes besides <see cref="Output"/>: an in-place concat whose last slice it writes (dense, at its place).</summary>
    public List<(Value Value, TensorRef Place)>? Completes { get; set; }

    /// <summary>Where <see cref="Output"/> is, and its pixel stride in elements (a concat slice's is the concat's channel count).</summary>
    public (TensorRef Place, int PixelStride) OutputPlace { get; set; }

    public abstract void Run(in RunBuffers b, WorkerGroup? workers);

    public virtual void Dispose()
    {
    }
}

/// <summary>What the profile says about a step; fixed at plan time.</summary>
internal sealed record PlanStepInfo(string Name, string Operator, TensorShape InputShape, TensorShape OutputShape, string Algorithm, double Flops, bool Quantized = false);

internal sealed unsafe class ConvolutionStep(PlanStepInfo info, ConvolutionKernel kernel, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => kernel.Run(b[input], b[output], workers);

    public override void Dispose() => kernel.Dispose();
}

internal sealed unsafe class FullyConnectedStep(PlanStepInfo info, FullyConnectedWeights weights, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => FullyConnected.Run(weights, b[input], b[output], workers);

    public override void Dispose() => weights.Dispose();
}

internal sealed unsafe class PoolingStep(PlanStepInfo info, Pool2DDescriptor descriptor, KernelIsa isa, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => Pooling2D.Run(descriptor, b[input], b[output], isa, workers);
}

internal sealed unsafe class GlobalAveragePoolStep(PlanStepInfo info, GlobalAveragePoolDescriptor descriptor, KernelIsa isa, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => GlobalAveragePooling.Run(descriptor, b[input], b[output], isa);
}

internal sealed unsafe class LrnStep(PlanStepInfo info, LrnDescriptor descriptor, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => LocalResponseNormalization.Run(descriptor, b[input], b[output], workers);
}

internal sealed unsafe class SoftmaxStep(PlanStepInfo info, SoftmaxDescriptor descriptor, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => Softmax.Run(descriptor, b[input], b[output], workers);
}

internal sealed unsafe class AddStep(PlanStepInfo info, ElementwiseAddDescriptor descriptor, KernelIsa isa, TensorRef a, TensorRef bIn, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => Elementwise.Add(descriptor, b[a], b[bIn], b[output], isa, workers);
}

internal sealed unsafe class ActivationStep(PlanStepInfo info, ActivationDescriptor descriptor, KernelIsa isa, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers) => Elementwise.Activate(descriptor, b[input], b[output], isa, workers);
}

/// <summary>A batch normalization or channel affine map no convolution could absorb: y = x·scale[c] + shift[c] (batch-norm's precomputed in float64).</summary>
internal sealed unsafe class BatchNormStep(PlanStepInfo info, float[] scale, float[] shift, long pixels, TensorRef input, TensorRef output, int outputStride) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* x = b[input], y = b[output];
        int c = scale.Length;
        for (long p = 0; p < pixels; p++)
        {
            float* xr = x + (p * c), yr = y + (p * outputStride);
            for (int i = 0; i < c; i++)
            {
                yr[i] = MathF.FusedMultiplyAdd(xr[i], scale[i], shift[i]);
            }
        }
    }
}

/// <summary>A channel concat whose inputs could not be written in place: copies each input's pixels into its slice.</summary>
internal sealed unsafe class ConcatCopyStep(PlanStepInfo info, TensorRef[] inputs, int[] channels, long pixels, TensorRef output, int outputStride) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* y = b[output];
        int offset = 0;
        for (int k = 0; k < inputs.Length; k++)
        {
            float* x = b[inputs[k]];
            int c = channels[k];
            long bytes = (long)c * sizeof(float);
            for (long p = 0; p < pixels; p++)
            {
                Buffer.MemoryCopy(x + (p * c), y + (p * outputStride) + offset, bytes, bytes);
            }

            offset += c;
        }
    }
}

/// <summary>Dense element-wise 1 / (1 + e^-x), SIMD over <see cref="Vector{T}"/> lanes; the input may be the output.</summary>
internal sealed unsafe class SigmoidStep(PlanStepInfo info, long count, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* x = b[input], y = b[output];
        long i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<float> one = Vector<float>.One;
            for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector<float> v = Vector.Load(x + i);
                Vector.Store(one / (one + Vector.Exp(-v)), y + i);
            }
        }

        for (; i < count; i++)
        {
            y[i] = 1f / (1f + MathF.Exp(-x[i]));
        }
    }
}

/// <summary>Dense element-wise max(0, min(1, α·x + β)), SIMD over <see cref="Vector{T}"/> lanes; the input may be the output.</summary>
internal sealed unsafe class HardSigmoidStep(PlanStepInfo info, float alpha, float beta, long count, TensorRef input, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* x = b[input], y = b[output];
        long i = 0;
        var a = new Vector<float>(alpha);
        var c = new Vector<float>(beta);
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector<float> v = Vector.FusedMultiplyAdd(Vector.Load(x + i), a, c);
            Vector.Store(Vector.Min(Vector.Max(v, Vector<float>.Zero), Vector<float>.One), y + i);
        }

        for (; i < count; i++)
        {
            y[i] = Math.Clamp(MathF.FusedMultiplyAdd(x[i], alpha, beta), 0f, 1f);
        }
    }
}

/// <summary>Dense element-wise product, SIMD over <see cref="Vector{T}"/> lanes; an input may be the output.</summary>
internal sealed unsafe class MulStep(PlanStepInfo info, long count, TensorRef a, TensorRef bIn, TensorRef output) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* x = b[a], z = b[bIn], y = b[output];
        long i = 0;
        for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
        {
            Vector.Store(Vector.Load(x + i) * Vector.Load(z + i), y + i);
        }

        for (; i < count; i++)
        {
            y[i] = x[i] * z[i];
        }
    }
}

/// <summary>Writes a constant tensor (a constant read as an activation) into its buffer, pixel by pixel when it is a concat slice.</summary>
internal sealed unsafe class ConstantTensorStep(PlanStepInfo info, float[] values, int channels, TensorRef output, int outputStride) : ExecutionStep(info)
{
    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* y = b[output];
        long pixels = values.Length / channels, bytes = (long)channels * sizeof(float);
        fixed (float* x = values)
        {
            for (long p = 0; p < pixels; p++)
            {
                Buffer.MemoryCopy(x + (p * channels), y + (p * outputStride), bytes, bytes);
            }
        }
    }
}

/// <summary>
/// Pads H, W and C of an NHWC tensor: each output row copies the input row it maps to (edge and reflect resolve the
/// row and column first) and fills the channel border.
/// </summary>
internal sealed unsafe class PadStep(PlanStepInfo info, PadAttributes pads, TensorShape input, TensorRef x, TensorRef y, int outputStride) : ExecutionStep(info)
{
    private static int Source(int i, int before, int size, PadMode mode)
    {
        int j = i - before;
        if (j >= 0 && j < size)
        {
            return j;
        }

        return mode switch
        {
            PadMode.Edge => Math.Clamp(j, 0, size - 1),
            PadMode.Reflect => j < 0 ? -j : (2 * (size - 1)) - j,
            _ => -1,
        };
    }

    public override void Run(in RunBuffers b, WorkerGroup? workers)
    {
        float* src = b[x], dst = b[y];
        TensorShape o = pads.Apply(input);
        int c = input.C, before = pads.ChannelsBefore, after = pads.ChannelsAfter;
        long bytes = (long)c * sizeof(float);
        float fill = pads.Value;
        for (int n = 0; n < o.N; n++)
        {
            for (int h = 0; h < o.H; h++)
            {
                int sh = Source(h, pads.Top, input.H, pads.Mode);
                for (int w = 0; w < o.W; w++)
                {
                    int sw = Source(w, pads.Left, input.W, pads.Mode);
                    float* d = dst + (((((long)n * o.H) + h) * o.W) + w) * outputStride;
                    if (sh < 0 || sw < 0)
                    {
                        new Span<float>(d, o.C).Fill(fill);
                        continue;
                    }

                    float* s = src + (((((long)n * input.H) + sh) * input.W) + sw) * c;
                    Buffer.MemoryCopy(s, d + before, bytes, bytes);
                    for (int k = 0; k < before; k++)
                    {
                        d[k] = pads.Mode switch { PadMode.Edge => s[0], PadMode.Reflect => s[before - k], _ => fill };
                    }

                    for (int k = 0; k < after; k++)
                    {
                        d[before + c + k] = pads.Mode switch { PadMode.Edge => s[c - 1], PadMode.Reflect => s[c - 2 - k], _ => fill };
                    }
                }
            }
        }
    }
}
