using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Layers;

/// <summary>A standalone activation layer's function.</summary>
public enum ActivationKind
{
    /// <summary>max(x, 0).</summary>
    Relu,

    /// <summary>min(max(x, 0), 6).</summary>
    Relu6,

    /// <summary>fma(min(x, 0), slope, max(x, 0)), as <see cref="FusedActivation.Apply"/>.</summary>
    LeakyRelu,

    /// <summary>min(max(x, Min), Max) (ONNX Clip).</summary>
    Clip,
}

/// <summary>
/// Element-wise add of two dense NHWC tensors, out = act(a + b) (ResNet's shortcut, MobileNet v2's residual).
/// The output may be one of the inputs (in place) when it is dense, or a channel slice of a wider tensor.
/// </summary>
/// <param name="Batch">Images per call.</param>
/// <param name="Height">Height.</param>
/// <param name="Width">Width.</param>
/// <param name="Channels">Channels.</param>
/// <param name="Activation">Activation fused into the store.</param>
/// <param name="OutputPixelStride">Floats between consecutive output pixels; 0 means <paramref name="Channels"/>.</param>
public sealed record ElementwiseAddDescriptor(int Batch, int Height, int Width, int Channels, FusedActivation Activation = default, int OutputPixelStride = 0)
{
    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Floats of each input.</summary>
    public long InputLength => (long)Batch * Height * Width * Channels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength((long)Batch * Height * Width, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate()
    {
        Elementwise.ValidateShape(Batch, Height, Width, Channels, OutputPixelStride);
        Activation.Validate(nameof(Activation));
    }
}

/// <summary>A standalone activation over a dense NHWC tensor; in place allowed (dense output), or into a channel slice.</summary>
/// <param name="Batch">Images per call.</param>
/// <param name="Height">Height.</param>
/// <param name="Width">Width.</param>
/// <param name="Channels">Channels.</param>
/// <param name="Kind">The function.</param>
/// <param name="Min">Clip's lower bound (ignored otherwise).</param>
/// <param name="Max">Clip's upper bound (ignored otherwise).</param>
/// <param name="LeakySlope">LeakyReLU's slope (ignored otherwise; ONNX's default 0.01).</param>
/// <param name="OutputPixelStride">Floats between consecutive output pixels; 0 means <paramref name="Channels"/>.</param>
public sealed record ActivationDescriptor(
    int Batch, int Height, int Width, int Channels, ActivationKind Kind,
    float Min = float.NegativeInfinity, float Max = float.PositiveInfinity, float LeakySlope = 0.01f, int OutputPixelStride = 0)
{
    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Input floats.</summary>
    public long InputLength => (long)Batch * Height * Width * Channels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength((long)Batch * Height * Width, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>The function of one value: the definition every kernel matches.</summary>
    public float Apply(float x) => Kind switch
    {
        ActivationKind.Relu => MathF.Max(x, 0f),
        ActivationKind.Relu6 => MathF.Min(MathF.Max(x, 0f), 6f),
        ActivationKind.LeakyRelu => MathF.FusedMultiplyAdd(MathF.Min(x, 0f), LeakySlope, MathF.Max(x, 0f)),
        _ => MathF.Min(MathF.Max(x, Min), Max),
    };

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate()
    {
        Elementwise.ValidateShape(Batch, Height, Width, Channels, OutputPixelStride);
        // A range check, not Enum.IsDefined, which allocates on every call and Validate runs on every Run.
        if ((uint)Kind > (uint)ActivationKind.Clip)
        {
            throw new ArgumentException($"Unknown activation {(int)Kind}.", nameof(Kind));
        }

        if (Kind == ActivationKind.LeakyRelu)
        {
            LayerChecks.Finite(LeakySlope, nameof(LeakySlope));
        }

        if (Kind == ActivationKind.Clip && (float.IsNaN(Min) || float.IsNaN(Max) || Min > Max))
        {
            throw new ArgumentException($"Clip needs Min ≤ Max; they are {Min} and {Max}.", nameof(Min));
        }
    }

    internal (float P0, float P1, bool Leaky) Parameters => Kind switch
    {
        ActivationKind.Relu => (0f, float.PositiveInfinity, false),
        ActivationKind.Relu6 => (0f, 6f, false),
        ActivationKind.LeakyRelu => (LeakySlope, 0f, true),
        _ => (Min, Max, false),
    };
}

/// <summary>
/// Runs <see cref="ElementwiseAddDescriptor"/> and <see cref="ActivationDescriptor"/>. A dense output is one
/// flat pass split into cache-sized chunks over the workers; a strided output goes pixel by pixel. Allocates nothing.
/// </summary>
public static unsafe class Elementwise
{
    // Below this many floats a fork-join costs more than the pass (~a few µs of memory traffic).
    private const int ParallelThreshold = 1 << 15;

    // 16 KiB per chunk and operand: a multiple of every vector width, small enough to balance workers.
    private const int ChunkFloats = 4096;

    /// <summary>out = act(a + b). <paramref name="output"/> may be <paramref name="a"/> or <paramref name="b"/> itself when dense.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, a span is too short, the output overlaps an input other than exactly, or the ISA cannot run here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ElementwiseAddDescriptor descriptor, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        LayerChecks.Length(a.Length, descriptor.InputLength, nameof(a));
        LayerChecks.Length(b.Length, descriptor.InputLength, nameof(b));
        LayerChecks.Length(output.Length, descriptor.OutputLength, nameof(output));
        int dense = descriptor.EffectiveOutputPixelStride == descriptor.Channels ? (int)descriptor.InputLength : 0;
        CheckAlias(output[..(int)descriptor.OutputLength], a[..(int)descriptor.InputLength], dense);
        CheckAlias(output[..(int)descriptor.OutputLength], b[..(int)descriptor.InputLength], dense);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* po = output)
        {
            ExecuteAdd(descriptor, pa, pb, po, isa ?? KernelIsas.Best, workers);
        }
    }

    /// <summary>As the span overload on raw pointers (lengths and aliasing unchecked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(ElementwiseAddDescriptor descriptor, float* a, float* b, float* output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        Pooling2D.NotNull(a, nameof(a));
        Pooling2D.NotNull(b, nameof(b));
        Pooling2D.NotNull(output, nameof(output));
        ExecuteAdd(descriptor, a, b, output, isa ?? KernelIsas.Best, workers);
    }

    /// <summary>out = f(input). <paramref name="output"/> may be <paramref name="input"/> itself when dense.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, a span is too short, the output overlaps the input other than exactly, or the ISA cannot run here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(ActivationDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        LayerChecks.Length(input.Length, descriptor.InputLength, nameof(input));
        LayerChecks.Length(output.Length, descriptor.OutputLength, nameof(output));
        int dense = descriptor.EffectiveOutputPixelStride == descriptor.Channels ? (int)descriptor.InputLength : 0;
        CheckAlias(output[..(int)descriptor.OutputLength], input[..(int)descriptor.InputLength], dense);
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            ExecuteActivate(descriptor, pi, po, isa ?? KernelIsas.Best, workers);
        }
    }

    /// <summary>As the span overload on raw pointers (lengths and aliasing unchecked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(ActivationDescriptor descriptor, float* input, float* output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        Pooling2D.NotNull(input, nameof(input));
        Pooling2D.NotNull(output, nameof(output));
        ExecuteActivate(descriptor, input, output, isa ?? KernelIsas.Best, workers);
    }

    internal static void ValidateShape(int batch, int height, int width, int channels, int outputPixelStride)
    {
        LayerChecks.Positive(batch, "Batch");
        LayerChecks.Positive(height, "Height");
        LayerChecks.Positive(width, "Width");
        LayerChecks.Positive(channels, "Channels");
        LayerChecks.PixelStride(outputPixelStride, channels, "OutputPixelStride");
        if ((long)batch * height * width * channels > int.MaxValue)
        {
            throw new ArgumentException("The input has more than 2^31 - 1 elements.", "Batch");
        }

        _ = LayerChecks.StridedLength((long)batch * height * width, outputPixelStride == 0 ? channels : outputPixelStride, channels, "OutputPixelStride");
    }

    // Each element is read before it is written, so only an output that is the input, element for element, is safe.
    private static void CheckAlias(ReadOnlySpan<float> output, ReadOnlySpan<float> input, int denseLength)
    {
        if (output.Overlaps(input, out int offset) && (offset != 0 || denseLength == 0))
        {
            throw new ArgumentException("The output overlaps an input without being exactly that input (dense, same start).", nameof(output));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExecuteAdd(ElementwiseAddDescriptor d, float* a, float* b, float* o, KernelIsa isa, WorkerGroup? workers)
    {
        LayerChecks.Isa(isa, nameof(isa));
        bool leaky = d.Activation.Kind == Activation.LeakyRelu;
        var (p0, p1) = leaky ? (d.Activation.LeakySlope, 0f) : d.Activation.Kind.ClampBounds();
        var body = new Rows
        {
            Add = isa switch
            {
                KernelIsa.Avx512 => &F32ElementwiseAvx512.Add,
                KernelIsa.Avx2 => &F32ElementwiseAvx2.Add,
                _ => &F32ElementwiseAdvSimd.Add,
            },
            A = a,
            B = b,
            O = o,
            P0 = p0,
            P1 = p1,
            Leaky = leaky,
        };
        Dispatch(ref body, (long)d.Batch * d.Height * d.Width, d.Channels, d.EffectiveOutputPixelStride, workers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExecuteActivate(ActivationDescriptor d, float* x, float* o, KernelIsa isa, WorkerGroup? workers)
    {
        LayerChecks.Isa(isa, nameof(isa));
        var (p0, p1, leaky) = d.Parameters;
        var body = new Rows
        {
            Activate = isa switch
            {
                KernelIsa.Avx512 => &F32ElementwiseAvx512.Activate,
                KernelIsa.Avx2 => &F32ElementwiseAvx2.Activate,
                _ => &F32ElementwiseAdvSimd.Activate,
            },
            A = x,
            O = o,
            P0 = p0,
            P1 = p1,
            Leaky = leaky,
        };
        Dispatch(ref body, (long)d.Batch * d.Height * d.Width, d.Channels, d.EffectiveOutputPixelStride, workers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dispatch(ref Rows body, long pixels, int channels, int stride, WorkerGroup? workers)
    {
        long total = pixels * channels;
        if (stride == channels)
        {
            // Dense: one flat run, cut into chunks so the workers share it evenly.
            body.Length = (nint)total;
            body.Row = ChunkFloats;
            body.Stride = ChunkFloats;
            int chunks = (int)((total + ChunkFloats - 1) / ChunkFloats);
            Run(ref body, chunks, total, workers);
        }
        else
        {
            body.Length = (nint)((pixels - 1) * stride) + channels;
            body.Row = channels;
            body.Stride = stride;
            body.InputStride = channels;
            Run(ref body, (int)pixels, total, workers);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(ref Rows body, int count, long total, WorkerGroup? workers)
    {
        if (workers is null || total < ParallelThreshold)
        {
            body.Execute(0, count);
        }
        else
        {
            workers.ParallelFor(count, ref body);
        }
    }

    /// <summary>Rows of <c>Row</c> floats; output rows <c>Stride</c> apart, input rows <c>InputStride</c> apart (dense: both the chunk size).</summary>
    private struct Rows : IRangeBody
    {
        public delegate*<float*, float*, float*, nint, float, float, bool, void> Add;
        public delegate*<float*, float*, nint, float, float, bool, void> Activate;
        public float* A, B, O;
        public float P0, P1;
        public bool Leaky;
        public nint Length, Row, Stride, InputStride;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            nint inputStride = InputStride == 0 ? Stride : InputStride;
            for (int r = begin; r < end; r++)
            {
                nint inputOffset = r * inputStride, outputOffset = r * Stride;
                nint n = InputStride == 0 ? Math.Min(Row, Length - outputOffset) : Row;
                if (Add != null)
                {
                    Add(A + inputOffset, B + inputOffset, O + outputOffset, n, P0, P1, Leaky);
                }
                else
                {
                    Activate(A + inputOffset, O + outputOffset, n, P0, P1, Leaky);
                }
            }
        }
    }
}
