using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized.MicroKernels;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// Max, average and global average pooling on uint8 NHWC tensors (<see cref="Pool2DDescriptor"/>, same geometry,
/// ceil mode and count_include_pad rules as the fp32 <see cref="Pooling2D"/>), the output optionally a channel slice.
/// <para>
/// Max is exact on the bytes (the affine map is increasing); when the output parameters differ, the maximum is
/// requantized through the table of <see cref="QuantizedTensors.Requantize"/>. Average sums the window's bytes
/// in int32 per channel and rescales once: out = clamp(zo + round((Σx − n·zi)·si / (so·divisor))), n the real
/// pixels of the window, the divisor n or the padded window size; padded pixels are real 0. The rescale is a
/// <see cref="FixedPointScale"/> (one rounding, ties toward +∞), with AVX2 through the GEMM's requantizing store.
/// Vectorized over channels; multithreaded over output rows; allocates nothing.
/// </para>
/// </summary>
public static unsafe class QuantizedPooling
{
    /// <summary>Largest number of real pixels a window or a global average may sum (255·n must stay in int32).</summary>
    public const int MaxWindowPixels = int.MaxValue / 255;

    /// <summary>Pools x (NHWC, dense) into y (NHWC at the descriptor's pixel stride).</summary>
    /// <exception cref="ArgumentException">Invalid descriptor or quantization; a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(Pool2DDescriptor d, byte* x, byte* y, QuantizationParameters input, QuantizationParameters output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(d);
        d.Validate();
        QuantizedLayerChecks.NotNull(x, nameof(x));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        QuantizedLayerChecks.Activations(input, nameof(input));
        QuantizedLayerChecks.Activations(output, nameof(output));
        if ((long)d.KernelHeight * d.KernelWidth > MaxWindowPixels)
        {
            throw new ArgumentException($"The window {d.KernelHeight}x{d.KernelWidth} has more than {MaxWindowPixels} pixels.", nameof(d.KernelHeight));
        }

        CheckRatio(input, output);
        var body = new PoolRows
        {
            Input = x,
            Output = y,
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
            Max = d.Kind == PoolingKind.Max,
            SameParameters = input == output,
            InputZeroPoint = input.ZeroPoint,
            OutputZeroPoint = output.ZeroPoint,
            Ratio = input.Scale / (double)output.Scale,
        };
        int rows = d.Batch * body.OH;
        if (workers is null || workers.ThreadCount == 1)
        {
            body.Execute(0, rows);
        }
        else
        {
            workers.ParallelFor(rows, ref body);
        }
    }

    /// <summary>
    /// Global average pooling: each image's H·W pixels averaged per channel, y[n·stride + c] =
    /// clamp(zo + round((Σx − H·W·zi)·si / (so·H·W))).
    /// </summary>
    /// <exception cref="ArgumentException">Invalid descriptor or quantization; a null pointer.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GlobalAverage(GlobalAveragePoolDescriptor d, byte* x, byte* y, QuantizationParameters input, QuantizationParameters output)
    {
        ArgumentNullException.ThrowIfNull(d);
        d.Validate();
        QuantizedLayerChecks.NotNull(x, nameof(x));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        QuantizedLayerChecks.Activations(input, nameof(input));
        QuantizedLayerChecks.Activations(output, nameof(output));
        long pixels = (long)d.Height * d.Width;
        if (pixels > MaxWindowPixels)
        {
            throw new ArgumentException($"{d.Height}x{d.Width} pixels are more than the {MaxWindowPixels} a global average may sum.", nameof(d.Height));
        }

        CheckRatio(input, output);
        var scale = FixedPointScale.Create(input.Scale / (output.Scale * (double)pixels));
        int c = d.Channels;
        int stride = d.EffectiveOutputPixelStride;
        int* acc = stackalloc int[AccumulatorChannels];
        for (int n = 0; n < d.Batch; n++)
        {
            byte* image = x + ((long)n * pixels * c);
            byte* o = y + ((long)n * stride);
            for (int c0 = 0; c0 < c; c0 += AccumulatorChannels)
            {
                int count = Math.Min(AccumulatorChannels, c - c0);
                new Span<int>(acc, count).Clear();
                for (long p = 0; p < pixels; p++)
                {
                    AddBytes(image + (p * c) + c0, acc, count);
                }

                Rescale(acc, count, (int)pixels, input.ZeroPoint, scale, output.ZeroPoint, o + c0);
            }
        }
    }

    private static void CheckRatio(QuantizationParameters input, QuantizationParameters output)
    {
        if (input.Scale / (double)output.Scale > FixedPointScale.MaxFactor)
        {
            throw new ArgumentException($"input.Scale / output.Scale = {input.Scale / (double)output.Scale:G4} is above {FixedPointScale.MaxFactor}; the output cannot hold one input step.", nameof(output));
        }
    }

    // Channels summed per pass: 4 KiB of int32 accumulators on the stack.
    private const int AccumulatorChannels = 1024;

    /// <summary>acc[c] += p[c] for c &lt; count, 16 channels per step where vectors are accelerated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddBytes(byte* p, int* acc, int count)
    {
        int c = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; c + 16 <= count; c += 16)
            {
                Vector128<byte> v = Vector128.Load(p + c);
                (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(v);
                (Vector128<uint> a, Vector128<uint> b) = Vector128.Widen(lo);
                (Vector128<uint> e, Vector128<uint> f) = Vector128.Widen(hi);
                (Vector128.Load(acc + c) + a.AsInt32()).Store(acc + c);
                (Vector128.Load(acc + c + 4) + b.AsInt32()).Store(acc + c + 4);
                (Vector128.Load(acc + c + 8) + e.AsInt32()).Store(acc + c + 8);
                (Vector128.Load(acc + c + 12) + f.AsInt32()).Store(acc + c + 12);
            }
        }

        for (; c < count; c++)
        {
            acc[c] += p[c];
        }
    }

    /// <summary>o[c] = clamp(zo + round((acc[c] − pixels·zi)·scale)); with AVX2 (and a scale below 1) 8 channels per step through the GEMM's requantizing store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rescale(int* acc, int count, int pixels, int inputZeroPoint, FixedPointScale scale, int outputZeroPoint, byte* o)
    {
        long offset = (long)pixels * inputZeroPoint;
        int c = 0;
        if (Avx2.IsSupported && scale.Shift >= 31 && count >= 8)
        {
            int* parameters = stackalloc int[24];
            Vector256.Create((int)-offset).Store(parameters);
            Vector256.Create(scale.Multiplier).Store(parameters + 8);
            Vector256.Create(scale.Shift - 31).Store(parameters + 16);
            var tile = new RequantizeTile { Bias = parameters, Multiplier = parameters + 8, Shift = parameters + 16, Low = -outputZeroPoint, High = 255 - outputZeroPoint, ZeroPoint = outputZeroPoint };
            var store = new Avx2Requantize(&tile, 0);
            for (; c + 8 <= count; c += 8)
            {
                Avx2Requantize.Store8(o + c, store.Apply(Avx.LoadVector256(acc + c)));
            }
        }

        for (; c < count; c++)
        {
            o[c] = (byte)Math.Clamp(outputZeroPoint + scale.Apply(acc[c] - offset), 0, 255);
        }
    }

    /// <summary>The requantization table of a max pool whose output parameters differ (see <see cref="QuantizedTensors.Requantize"/>).</summary>
    private static void BuildTable(byte* table, double ratio, int fromZeroPoint, int toZeroPoint)
    {
        for (int v = 0; v < 256; v++)
        {
            table[v] = (byte)Math.Clamp(Math.Round((v - fromZeroPoint) * ratio, MidpointRounding.ToEven) + toZeroPoint, 0, 255);
        }
    }

    private struct PoolRows : IRangeBody
    {
        public byte* Input, Output;
        public int H, W, C, OH, OW, KH, KW, SH, SW, PadTop, PadLeft, PaddedH, PaddedW, OutStride;
        public bool IncludePad, Max, SameParameters;
        public int InputZeroPoint, OutputZeroPoint;
        public double Ratio;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            byte* table = stackalloc byte[256];
            if (Max && !SameParameters)
            {
                BuildTable(table, Ratio, InputZeroPoint, OutputZeroPoint);
            }

            int* acc = stackalloc int[AccumulatorChannels];
            int lastDivisor = 0;
            FixedPointScale scale = default;
            long rowStride = (long)W * C;
            for (int r = begin; r < end; r++)
            {
                int n = r / OH, oy = r % OH;
                int y0 = (oy * SH) - PadTop;
                int y1 = Math.Min(y0 + KH, H);
                int paddedRows = Math.Min(y0 + KH, PaddedH) - y0;
                int clippedY0 = Math.Max(y0, 0);
                byte* image = Input + ((long)n * H * rowStride);
                byte* outRow = Output + ((long)r * OW * OutStride);
                for (int ox = 0; ox < OW; ox++)
                {
                    int x0 = (ox * SW) - PadLeft;
                    int x1 = Math.Min(x0 + KW, W);
                    int clippedX0 = Math.Max(x0, 0);
                    int rows = y1 - clippedY0, cols = x1 - clippedX0;
                    byte* window = image + (clippedY0 * rowStride) + ((long)clippedX0 * C);
                    byte* o = outRow + ((long)ox * OutStride);
                    if (Max)
                    {
                        MaxWindow(window, rowStride, rows, cols, o);
                        if (!SameParameters)
                        {
                            for (int c = 0; c < C; c++)
                            {
                                o[c] = table[o[c]];
                            }
                        }

                        continue;
                    }

                    int divisor = IncludePad ? paddedRows * (Math.Min(x0 + KW, PaddedW) - x0) : rows * cols;
                    if (divisor != lastDivisor)
                    {
                        scale = FixedPointScale.Create(Ratio / divisor);
                        lastDivisor = divisor;
                    }

                    for (int c0 = 0; c0 < C; c0 += AccumulatorChannels)
                    {
                        int count = Math.Min(AccumulatorChannels, C - c0);
                        new Span<int>(acc, count).Clear();
                        for (int i = 0; i < rows; i++)
                        {
                            for (int j = 0; j < cols; j++)
                            {
                                AddBytes(window + (i * rowStride) + ((long)j * C) + c0, acc, count);
                            }
                        }

                        Rescale(acc, count, rows * cols, InputZeroPoint, scale, OutputZeroPoint, o + c0);
                    }
                }
            }
        }

        /// <summary>o[c] = max over the window's real pixels of x[c].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void MaxWindow(byte* window, long rowStride, int rows, int cols, byte* o)
        {
            int c = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; c + 32 <= C; c += 32)
                {
                    Vector256<byte> m = Vector256<byte>.Zero;
                    for (int i = 0; i < rows; i++)
                    {
                        byte* p = window + (i * rowStride) + c;
                        for (int j = 0; j < cols; j++)
                        {
                            m = Vector256.Max(m, Vector256.Load(p + ((long)j * C)));
                        }
                    }

                    m.Store(o + c);
                }
            }

            if (Vector128.IsHardwareAccelerated)
            {
                for (; c + 16 <= C; c += 16)
                {
                    Vector128<byte> m = Vector128<byte>.Zero;
                    for (int i = 0; i < rows; i++)
                    {
                        byte* p = window + (i * rowStride) + c;
                        for (int j = 0; j < cols; j++)
                        {
                            m = Vector128.Max(m, Vector128.Load(p + ((long)j * C)));
                        }
                    }

                    m.Store(o + c);
                }
            }

            for (; c < C; c++)
            {
                byte m = 0;
                for (int i = 0; i < rows; i++)
                {
                    byte* p = window + (i * rowStride) + c;
                    for (int j = 0; j < cols; j++)
                    {
                        m = Math.Max(m, p[(long)j * C]);
                    }
                }

                o[c] = m;
            }
        }
    }
}
