using System.Numerics;
using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;
using Kernels.Cpu.Layers;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// Local response normalization on uint8 NHWC tensors (<see cref="LrnDescriptor"/>, the same window as the fp32
/// <see cref="LocalResponseNormalization"/>), so that AlexNet's and GoogLeNet's LRNs do not split the 8-bit path
/// into islands with a dequantize before and a quantize after. With d = x − zx (an integer):
/// y = zy + round(d · (sx/sy) · (Bias + Alpha/Size · sx² · Σ d²)^−Beta), saturated to [0, 255].
/// <para>
/// Per pixel, d and d² go into a per-thread zero-bordered float row (d² ≤ 65025 and a window's sum are exact in
/// float for windows up to 258 channels), each window sum is Size vector loads, and the power is
/// 1 / (√t · √√t) for Beta = 0.75 (every zoo network), MathF.Pow otherwise. Vectorized with <see cref="Vector{T}"/>
/// (AVX2 on x86, AdvSimd on arm64); the output may be the input or a channel slice; multithreaded over pixels;
/// allocates nothing after warm-up.
/// </para>
/// </summary>
public static unsafe class QuantizedNormalization
{
    [ThreadStatic]
    private static ScratchBuffer? t_rows;

    /// <summary>Normalizes x (NHWC, dense) into y (the descriptor's pixel stride; may be x itself).</summary>
    /// <exception cref="ArgumentException">Invalid descriptor or quantization; a span shorter than the descriptor needs.</exception>
    public static void Lrn(LrnDescriptor d, ReadOnlySpan<byte> x, Span<byte> y, QuantizationParameters input, QuantizationParameters output, WorkerGroup? workers = null)
    {
        Validate(d, input, output);
        LayerChecks.Length(x.Length, d.InputLength, nameof(x));
        LayerChecks.Length(y.Length, d.OutputLength, nameof(y));
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            Execute(d, px, py, input, output, workers);
        }
    }

    /// <summary>As the span overload on raw pointers (an executor's arena; lengths unchecked).</summary>
    /// <exception cref="ArgumentException">Invalid descriptor or quantization; a null pointer.</exception>
    public static void Lrn(LrnDescriptor d, byte* x, byte* y, QuantizationParameters input, QuantizationParameters output, WorkerGroup? workers = null)
    {
        Validate(d, input, output);
        QuantizedLayerChecks.NotNull(x, nameof(x));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        Execute(d, x, y, input, output, workers);
    }

    private static void Validate(LrnDescriptor d, QuantizationParameters input, QuantizationParameters output)
    {
        ArgumentNullException.ThrowIfNull(d);
        d.Validate();
        QuantizedLayerChecks.Activations(input, nameof(input));
        QuantizedLayerChecks.Activations(output, nameof(output));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(LrnDescriptor d, byte* x, byte* y, QuantizationParameters input, QuantizationParameters output, WorkerGroup? workers)
    {
        var body = new Pixels
        {
            Input = x,
            Output = y,
            C = d.Channels,
            Size = d.Size,
            Before = (d.Size - 1) / 2,
            Stride = d.EffectiveOutputPixelStride,
            Scale = (float)((double)d.Alpha / d.Size * input.Scale * input.Scale),
            Beta = d.Beta,
            Bias = d.Bias,
            Ratio = (float)((double)input.Scale / output.Scale),
            InputZeroPoint = input.ZeroPoint,
            OutputZeroPoint = output.ZeroPoint,
        };
        int pixels = d.Batch * d.Height * d.Width;
        if (workers is null || workers.ThreadCount == 1)
        {
            body.Execute(0, pixels);
        }
        else
        {
            workers.ParallelFor(pixels, ref body);
        }
    }

    private struct Pixels : IRangeBody
    {
        public byte* Input, Output;
        public int C, Size, Before, Stride, InputZeroPoint, OutputZeroPoint;
        public float Scale, Beta, Bias, Ratio;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            // Row layout: d (C floats, padded to a vector), then d² with Size zeros around (Before ahead).
            int lanes = Vector<float>.Count;
            int dLength = (C + lanes - 1) / lanes * lanes;
            int squaresLength = dLength + Size + lanes;
            float* rows = ScratchBuffer.Get(ref t_rows, dLength + squaresLength);
            new Span<float>(rows, dLength + squaresLength).Clear();
            float* diff = rows;
            float* squares = rows + dLength;
            float* sq = squares + Before;
            var zx = new Vector<float>(InputZeroPoint);
            var zy = new Vector<float>(OutputZeroPoint);
            var scale = new Vector<float>(Scale);
            var bias = new Vector<float>(Bias);
            var ratio = new Vector<float>(Ratio);
            var lo = Vector<int>.Zero;
            var hi = new Vector<int>(255);
            bool threeQuarters = Beta == 0.75f;
            int bytesPerStep = Vector<byte>.Count;
            for (int p = begin; p < end; p++)
            {
                byte* xp = Input + ((long)p * C);
                byte* yp = Output + ((long)p * Stride);

                // d and d², one byte vector (4 float vectors) at a time.
                int c = 0;
                for (; c + bytesPerStep <= C; c += bytesPerStep)
                {
                    Vector.Widen(Vector.LoadUnsafe(ref *xp, (nuint)c), out Vector<ushort> low16, out Vector<ushort> high16);
                    Vector.Widen(low16, out Vector<uint> q0, out Vector<uint> q1);
                    Vector.Widen(high16, out Vector<uint> q2, out Vector<uint> q3);
                    StoreDifference(q0, zx, diff + c, sq + c);
                    StoreDifference(q1, zx, diff + c + lanes, sq + c + lanes);
                    StoreDifference(q2, zx, diff + c + (2 * lanes), sq + c + (2 * lanes));
                    StoreDifference(q3, zx, diff + c + (3 * lanes), sq + c + (3 * lanes));
                }

                for (; c < C; c++)
                {
                    float v = xp[c] - InputZeroPoint;
                    diff[c] = v;
                    sq[c] = v * v;
                }

                // Window sums, the power and the requantized store (ties to even, as QuantizationParameters.Quantize).
                c = 0;
                if (threeQuarters)
                {
                    for (; c + bytesPerStep <= C; c += bytesPerStep)
                    {
                        var y0 = Normalized(diff, squares, c, Size, scale, bias, ratio, zy, lo, hi);
                        var y1 = Normalized(diff, squares, c + lanes, Size, scale, bias, ratio, zy, lo, hi);
                        var y2 = Normalized(diff, squares, c + (2 * lanes), Size, scale, bias, ratio, zy, lo, hi);
                        var y3 = Normalized(diff, squares, c + (3 * lanes), Size, scale, bias, ratio, zy, lo, hi);
                        var shorts0 = Vector.Narrow(Vector.AsVectorUInt32(y0), Vector.AsVectorUInt32(y1));
                        var shorts1 = Vector.Narrow(Vector.AsVectorUInt32(y2), Vector.AsVectorUInt32(y3));
                        Vector.Narrow(shorts0, shorts1).StoreUnsafe(ref *yp, (nuint)c);
                    }
                }

                for (; c < C; c++)
                {
                    float sum = 0f;
                    for (int j = 0; j < Size; j++)
                    {
                        sum += squares[c + j];
                    }

                    float t = MathF.FusedMultiplyAdd(sum, Scale, Bias);
                    float scaled = threeQuarters ? diff[c] * Ratio / (MathF.Sqrt(t) * MathF.Sqrt(MathF.Sqrt(t))) : diff[c] * Ratio * MathF.Pow(t, -Beta);
                    float q = MathF.Round(scaled + OutputZeroPoint, MidpointRounding.ToEven);
                    yp[c] = (byte)Math.Clamp(q, 0f, 255f);
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void StoreDifference(Vector<uint> q, Vector<float> zeroPoint, float* diff, float* square)
        {
            var d = Vector.ConvertToSingle(Vector.AsVectorInt32(q)) - zeroPoint;
            d.Store(diff);
            (d * d).Store(square);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector<int> Normalized(
            float* diff, float* squares, int c, int size, Vector<float> scale, Vector<float> bias, Vector<float> ratio, Vector<float> zy, Vector<int> lo, Vector<int> hi)
        {
            var sum = Vector<float>.Zero;
            for (int j = 0; j < size; j++)
            {
                sum += Vector.Load(squares + c + j);
            }

            var t = Vector.FusedMultiplyAdd(sum, scale, bias);
            var root = Vector.SquareRoot(t);
            var y = (Vector.Load(diff + c) * ratio / (root * Vector.SquareRoot(root))) + zy;
            return Vector.Min(Vector.Max(Vector.ConvertToInt32(Vector.Round(y)), lo), hi);
        }
    }
}
