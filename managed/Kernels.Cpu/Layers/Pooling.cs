using System.Runtime.CompilerServices;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Layers;

/// <summary>Which reduction a pooling window applies.</summary>
public enum PoolingKind
{
    /// <summary>The largest value of the window (padded positions never win).</summary>
    Max,

    /// <summary>The mean of the window; <see cref="Pool2DDescriptor.CountIncludePad"/> says what the divisor counts.</summary>
    Average,
}

/// <summary>
/// One 2-D max or average pooling layer on NHWC activations. Output size follows ONNX/PyTorch:
/// floor((H + pads - K) / S) + 1, or ceil(...) + 1 in <see cref="CeilMode"/>, where a last window that would
/// start in the bottom/right padding is dropped. With ceil mode a window may run past the padded input;
/// those positions never count, not even with <see cref="CountIncludePad"/>.
/// The output may be a channel slice of a wider tensor (a concat written in place).
/// </summary>
public sealed record Pool2DDescriptor
{
    /// <summary>Max or average.</summary>
    public required PoolingKind Kind { get; init; }

    /// <summary>Images per call.</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Input height.</summary>
    public required int InputHeight { get; init; }

    /// <summary>Input width.</summary>
    public required int InputWidth { get; init; }

    /// <summary>Channels (input and output).</summary>
    public required int Channels { get; init; }

    /// <summary>Window height.</summary>
    public required int KernelHeight { get; init; }

    /// <summary>Window width.</summary>
    public required int KernelWidth { get; init; }

    /// <summary>Vertical stride.</summary>
    public int StrideHeight { get; init; } = 1;

    /// <summary>Horizontal stride.</summary>
    public int StrideWidth { get; init; } = 1;

    /// <summary>Padding rows above the input.</summary>
    public int PadTop { get; init; }

    /// <summary>Padding columns left of the input.</summary>
    public int PadLeft { get; init; }

    /// <summary>Padding rows below the input.</summary>
    public int PadBottom { get; init; }

    /// <summary>Padding columns right of the input.</summary>
    public int PadRight { get; init; }

    /// <summary>Round the output size up (Caffe's default, ONNX ceil_mode=1) instead of down.</summary>
    public bool CeilMode { get; init; }

    /// <summary>Average only: the divisor counts padded positions (ONNX count_include_pad=1, Caffe) or only real ones.</summary>
    public bool CountIncludePad { get; init; }

    /// <summary>Floats between consecutive output pixels; 0 means <see cref="Channels"/> (a dense output).</summary>
    public int OutputPixelStride { get; init; }

    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Output height.</summary>
    public int OutputHeight => OutputSize(InputHeight, KernelHeight, StrideHeight, PadTop, PadBottom, CeilMode);

    /// <summary>Output width.</summary>
    public int OutputWidth => OutputSize(InputWidth, KernelWidth, StrideWidth, PadLeft, PadRight, CeilMode);

    /// <summary>Input floats per call.</summary>
    public long InputLength => (long)Batch * InputHeight * InputWidth * Channels;

    /// <summary>Output floats a call may touch: up to the last channel of the last pixel, with the pixel stride.</summary>
    public long OutputLength => LayerChecks.StridedLength((long)Batch * OutputHeight * OutputWidth, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>A square window with the same padding on all sides.</summary>
    public static Pool2DDescriptor Create(
        PoolingKind kind, int height, int width, int channels, int kernel, int stride = 1, int padding = 0,
        bool ceilMode = false, bool countIncludePad = false, int batch = 1) => new()
        {
            Kind = kind,
            Batch = batch,
            InputHeight = height,
            InputWidth = width,
            Channels = channels,
            KernelHeight = kernel,
            KernelWidth = kernel,
            StrideHeight = stride,
            StrideWidth = stride,
            PadTop = padding,
            PadLeft = padding,
            PadBottom = padding,
            PadRight = padding,
            CeilMode = ceilMode,
            CountIncludePad = countIncludePad,
        };

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range or the window does not fit; the parameter name is the field's.</exception>
    public void Validate()
    {
        // A range check, not Enum.IsDefined, which allocates on every call and Validate runs on every Run.
        if ((uint)Kind > (uint)PoolingKind.Average)
        {
            throw new ArgumentException($"Unknown pooling kind {(int)Kind}.", nameof(Kind));
        }

        LayerChecks.Positive(Batch, nameof(Batch));
        LayerChecks.Positive(InputHeight, nameof(InputHeight));
        LayerChecks.Positive(InputWidth, nameof(InputWidth));
        LayerChecks.Positive(Channels, nameof(Channels));
        LayerChecks.Positive(KernelHeight, nameof(KernelHeight));
        LayerChecks.Positive(KernelWidth, nameof(KernelWidth));
        LayerChecks.Positive(StrideHeight, nameof(StrideHeight));
        LayerChecks.Positive(StrideWidth, nameof(StrideWidth));
        LayerChecks.NotNegative(PadTop, nameof(PadTop));
        LayerChecks.NotNegative(PadLeft, nameof(PadLeft));
        LayerChecks.NotNegative(PadBottom, nameof(PadBottom));
        LayerChecks.NotNegative(PadRight, nameof(PadRight));
        LayerChecks.PixelStride(OutputPixelStride, Channels, nameof(OutputPixelStride));

        // A pad as large as the window would allow windows made only of padding: no maximum, divisor 0.
        CheckPad(PadTop, KernelHeight, nameof(PadTop));
        CheckPad(PadBottom, KernelHeight, nameof(PadBottom));
        CheckPad(PadLeft, KernelWidth, nameof(PadLeft));
        CheckPad(PadRight, KernelWidth, nameof(PadRight));

        if ((long)InputHeight + PadTop + PadBottom < KernelHeight)
        {
            throw new ArgumentException($"The window height {KernelHeight} is larger than the padded input height {InputHeight + PadTop + PadBottom}.", nameof(KernelHeight));
        }

        if ((long)InputWidth + PadLeft + PadRight < KernelWidth)
        {
            throw new ArgumentException($"The window width {KernelWidth} is larger than the padded input width {InputWidth + PadLeft + PadRight}.", nameof(KernelWidth));
        }

        if (InputLength > int.MaxValue)
        {
            throw new ArgumentException("The input has more than 2^31 - 1 elements.", nameof(Batch));
        }

        _ = OutputLength;
    }

    private static void CheckPad(int pad, int kernel, string name)
    {
        if (pad >= kernel)
        {
            throw new ArgumentException($"{name} {pad} must be smaller than the window ({kernel}).", name);
        }
    }

    private static int OutputSize(int input, int kernel, int stride, int padBefore, int padAfter, bool ceil)
    {
        int span = input + padBefore + padAfter - kernel;
        int size = (ceil ? (span + stride - 1) / stride : span / stride) + 1;

        // Ceil mode must not add a window that starts in the trailing padding (PyTorch, Caffe after 2016).
        if (ceil && (size - 1) * stride >= input + padBefore)
        {
            size--;
        }

        return size;
    }
}

/// <summary>
/// Max and average pooling (<see cref="Pool2DDescriptor"/>), vectorized over channels: for every output pixel
/// the window is clipped to the real input once, then a per-ISA kernel reduces it channel block by channel
/// block. Multithreaded over output rows. Allocates nothing.
/// </summary>
public static unsafe class Pooling2D
{
    /// <summary>Pools <paramref name="input"/> (NHWC, dense) into <paramref name="output"/> (NHWC, with the descriptor's pixel stride; only the layer's channels of each pixel are written).</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, a span is too short or the ISA cannot run here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(Pool2DDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        LayerChecks.Length(input.Length, descriptor.InputLength, nameof(input));
        LayerChecks.Length(output.Length, descriptor.OutputLength, nameof(output));
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Execute(descriptor, pi, po, isa ?? KernelIsas.Best, workers);
        }
    }

    /// <summary>As <see cref="Run(Pool2DDescriptor, ReadOnlySpan{float}, Span{float}, KernelIsa?, WorkerGroup?)"/> on raw pointers (lengths unchecked: <see cref="Pool2DDescriptor.InputLength"/> and <see cref="Pool2DDescriptor.OutputLength"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(Pool2DDescriptor descriptor, float* input, float* output, KernelIsa? isa = null, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        NotNull(input, nameof(input));
        NotNull(output, nameof(output));
        Execute(descriptor, input, output, isa ?? KernelIsas.Best, workers);
    }

    internal static void NotNull(float* pointer, string name)
    {
        if (pointer == null)
        {
            throw new ArgumentNullException(name);
        }
    }

    internal static delegate*<float*, nint, int, int, int, float*, float, void> Kernel(PoolingKind kind, KernelIsa isa) => (kind, isa) switch
    {
        (PoolingKind.Max, KernelIsa.Avx512) => &F32Pool.MaxAvx512,
        (PoolingKind.Max, KernelIsa.Avx2) => &F32Pool.MaxAvx2,
        (PoolingKind.Max, _) => &F32PoolAdvSimd.Max,
        (PoolingKind.Average, KernelIsa.Avx512) => &F32Pool.AverageAvx512,
        (PoolingKind.Average, KernelIsa.Avx2) => &F32Pool.AverageAvx2,
        _ => &F32PoolAdvSimd.Average,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(Pool2DDescriptor d, float* input, float* output, KernelIsa isa, WorkerGroup? workers)
    {
        LayerChecks.Isa(isa, nameof(isa));
        var body = new PoolRows
        {
            Kernel = Kernel(d.Kind, isa),
            Input = input,
            Output = output,
            H = d.InputHeight,
            W = d.InputWidth,
            C = d.Channels,
            OH = d.OutputHeight,
            OW = d.OutputWidth,
            KH = d.KernelHeight,
            KW = d.KernelWidth,
            SH = d.StrideHeight,
            SW = d.StrideWidth,
            PadTop = d.PadTop,
            PadLeft = d.PadLeft,
            PaddedH = d.InputHeight + d.PadBottom,
            PaddedW = d.InputWidth + d.PadRight,
            IncludePad = d.CountIncludePad,
            OutStride = d.EffectiveOutputPixelStride,
        };
        int rows = d.Batch * body.OH;
        if (workers is null)
        {
            body.Execute(0, rows);
        }
        else
        {
            workers.ParallelFor(rows, ref body);
        }
    }

    private struct PoolRows : IRangeBody
    {
        public delegate*<float*, nint, int, int, int, float*, float, void> Kernel;
        public float* Input, Output;
        public int H, W, C, OH, OW, KH, KW, SH, SW, PadTop, PadLeft, PaddedH, PaddedW, OutStride;
        public bool IncludePad;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            nint rowStride = (nint)W * C;
            for (int r = begin; r < end; r++)
            {
                int n = r / OH, oy = r % OH;
                int y0 = (oy * SH) - PadTop;
                int y1 = Math.Min(y0 + KH, H);
                int paddedRows = Math.Min(y0 + KH, PaddedH) - y0;
                int clippedY0 = Math.Max(y0, 0);
                float* image = Input + ((long)n * H * rowStride);
                float* outRow = Output + ((long)r * OW * OutStride);
                for (int ox = 0; ox < OW; ox++)
                {
                    int x0 = (ox * SW) - PadLeft;
                    int x1 = Math.Min(x0 + KW, W);
                    int clippedX0 = Math.Max(x0, 0);
                    int rows = y1 - clippedY0, cols = x1 - clippedX0;
                    int divisor = IncludePad ? paddedRows * (Math.Min(x0 + KW, PaddedW) - x0) : rows * cols;
                    Kernel(image + (clippedY0 * rowStride) + ((nint)clippedX0 * C), rowStride, rows, cols, C, outRow + ((nint)ox * OutStride), 1f / divisor);
                }
            }
        }
    }
}

/// <summary>Global average pooling: each image's H×W pixels averaged per channel into one output pixel (ResNet, SqueezeNet, MobileNet, GoogLeNet heads).</summary>
/// <param name="Batch">Images per call.</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="Channels">Channels.</param>
/// <param name="OutputPixelStride">Floats between the output pixels of consecutive images; 0 means <paramref name="Channels"/>.</param>
public sealed record GlobalAveragePoolDescriptor(int Batch, int Height, int Width, int Channels, int OutputPixelStride = 0)
{
    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Input floats per call.</summary>
    public long InputLength => (long)Batch * Height * Width * Channels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength(Batch, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate()
    {
        LayerChecks.Positive(Batch, nameof(Batch));
        LayerChecks.Positive(Height, nameof(Height));
        LayerChecks.Positive(Width, nameof(Width));
        LayerChecks.Positive(Channels, nameof(Channels));
        LayerChecks.PixelStride(OutputPixelStride, Channels, nameof(OutputPixelStride));
        if (InputLength > int.MaxValue)
        {
            throw new ArgumentException("The input has more than 2^31 - 1 elements.", nameof(Batch));
        }

        _ = OutputLength;
    }
}

/// <summary>Runs <see cref="GlobalAveragePoolDescriptor"/> with the average-pooling kernels (one window per image). Allocates nothing.</summary>
public static unsafe class GlobalAveragePooling
{
    /// <summary>Averages each image of <paramref name="input"/> into one pixel of <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, a span is too short or the ISA cannot run here.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(GlobalAveragePoolDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, KernelIsa? isa = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        LayerChecks.Length(input.Length, descriptor.InputLength, nameof(input));
        LayerChecks.Length(output.Length, descriptor.OutputLength, nameof(output));
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Execute(descriptor, pi, po, isa ?? KernelIsas.Best);
        }
    }

    /// <summary>As the span overload on raw pointers (lengths unchecked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(GlobalAveragePoolDescriptor descriptor, float* input, float* output, KernelIsa? isa = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        Pooling2D.NotNull(input, nameof(input));
        Pooling2D.NotNull(output, nameof(output));
        Execute(descriptor, input, output, isa ?? KernelIsas.Best);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(GlobalAveragePoolDescriptor d, float* input, float* output, KernelIsa isa)
    {
        LayerChecks.Isa(isa, nameof(isa));
        var kernel = Pooling2D.Kernel(PoolingKind.Average, isa);
        nint rowStride = (nint)d.Width * d.Channels;
        float scale = 1f / (d.Height * d.Width);
        for (int n = 0; n < d.Batch; n++)
        {
            kernel(input + ((long)n * d.Height * rowStride), rowStride, d.Height, d.Width, d.Channels, output + ((long)n * d.EffectiveOutputPixelStride), scale);
        }
    }
}
