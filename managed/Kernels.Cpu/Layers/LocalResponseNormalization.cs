using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Layers;

/// <summary>
/// Local response normalization across channels (AlexNet, GoogLeNet), Caffe ACROSS_CHANNELS / ONNX LRN:
/// b[c] = a[c] / (Bias + Alpha/Size · Σ a[i]²)^Beta, i over the channels c - floor((Size-1)/2) .. c + ceil((Size-1)/2)
/// that exist. The output may be the input (in place) or a channel slice of a wider tensor.
/// </summary>
/// <param name="Batch">Images per call.</param>
/// <param name="Height">Height.</param>
/// <param name="Width">Width.</param>
/// <param name="Channels">Channels.</param>
/// <param name="Size">Channels in the window (Caffe local_size, ONNX size); AlexNet and GoogLeNet use 5.</param>
/// <param name="Alpha">Scale of the sum of squares (divided by Size, as Caffe and ONNX do).</param>
/// <param name="Beta">Exponent.</param>
/// <param name="Bias">The constant k; positive, so the base of the power never reaches 0.</param>
/// <param name="OutputPixelStride">Floats between consecutive output pixels; 0 means <paramref name="Channels"/>.</param>
public sealed record LrnDescriptor(
    int Batch, int Height, int Width, int Channels, int Size = 5, float Alpha = 1e-4f, float Beta = 0.75f, float Bias = 1f, int OutputPixelStride = 0)
{
    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Input floats.</summary>
    public long InputLength => (long)Batch * Height * Width * Channels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength((long)Batch * Height * Width, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate()
    {
        Elementwise.ValidateShape(Batch, Height, Width, Channels, OutputPixelStride);
        LayerChecks.Positive(Size, nameof(Size));
        LayerChecks.Finite(Alpha, nameof(Alpha));
        LayerChecks.Finite(Beta, nameof(Beta));
        LayerChecks.Finite(Bias, nameof(Bias));
        if (Bias <= 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(Bias), Bias, "Bias must be positive.");
        }

        if (Alpha < 0f)
        {
            throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must not be negative.");
        }
    }
}

/// <summary>
/// Runs <see cref="LrnDescriptor"/> pixel by pixel: the squares go into a per-thread zero-bordered row, so every
/// window sum is Size plain vector loads with no edge cases (a running sum would cancel badly across hundreds of
/// channels); the power is exp(-β·log(base)) on Vector128. Multithreaded over pixels. Allocates nothing after warm-up.
/// </summary>
public static unsafe class LocalResponseNormalization
{
    [ThreadStatic]
    private static ScratchBuffer? t_squares;

    /// <summary>Normalizes <paramref name="input"/> into <paramref name="output"/>, which may be the input itself.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid or a span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(LrnDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        LayerChecks.Length(input.Length, descriptor.InputLength, nameof(input));
        LayerChecks.Length(output.Length, descriptor.OutputLength, nameof(output));
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Execute(descriptor, pi, po, workers);
        }
    }

    /// <summary>As the span overload on raw pointers (lengths unchecked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(LrnDescriptor descriptor, float* input, float* output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        Pooling2D.NotNull(input, nameof(input));
        Pooling2D.NotNull(output, nameof(output));
        Execute(descriptor, input, output, workers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(LrnDescriptor d, float* input, float* output, WorkerGroup? workers)
    {
        var body = new Pixels
        {
            Input = input,
            Output = output,
            C = d.Channels,
            Size = d.Size,
            Before = (d.Size - 1) / 2,
            Stride = d.EffectiveOutputPixelStride,
            Scale = d.Alpha / d.Size,
            Beta = d.Beta,
            Bias = d.Bias,
        };
        int pixels = d.Batch * d.Height * d.Width;
        if (workers is null)
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
        public float* Input, Output;
        public int C, Size, Before, Stride;
        public float Scale, Beta, Bias;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            int rowLength = C + Size;
            float* squares = ScratchBuffer.Get(ref t_squares, rowLength);
            new Span<float>(squares, rowLength).Clear();
            float* sq = squares + Before;
            var scale = Vector128.Create(Scale);
            var bias = Vector128.Create(Bias);
            var minusBeta = Vector128.Create(-Beta);
            bool threeQuarters = Beta == 0.75f;
            for (int p = begin; p < end; p++)
            {
                float* x = Input + ((long)p * C);
                float* y = Output + ((long)p * Stride);
                int c = 0;
                for (; c + 4 <= C; c += 4)
                {
                    var v = Vector128.Load(x + c);
                    (v * v).Store(sq + c);
                }

                for (; c < C; c++)
                {
                    sq[c] = x[c] * x[c];
                }

                // Window of channel c: squares[c .. c + Size) (squares is sq shifted back by Before).
                for (c = 0; c + 4 <= C; c += 4)
                {
                    var sum = Vector128<float>.Zero;
                    for (int j = 0; j < Size; j++)
                    {
                        sum += Vector128.Load(squares + c + j);
                    }

                    var t = Vector128.FusedMultiplyAdd(sum, scale, bias);
                    Vector128<float> power;
                    if (threeQuarters)
                    {
                        // t^-0.75 = 1 / (sqrt(t) · sqrt(sqrt(t))): two hardware square roots and a divide instead of
                        // the software exp/log pair, which made LRN the slowest layer of GoogLeNet (AlexNet's and
                        // GoogLeNet's LRNs, like ncnn's fast path, all use beta = 0.75).
                        var root = Vector128.Sqrt(t);
                        power = Vector128<float>.One / (root * Vector128.Sqrt(root));
                    }
                    else
                    {
                        power = Vector128.Exp(minusBeta * Vector128.Log(t));
                    }

                    (Vector128.Load(x + c) * power).Store(y + c);
                }

                for (; c < C; c++)
                {
                    float sum = 0f;
                    for (int j = 0; j < Size; j++)
                    {
                        sum += squares[c + j];
                    }

                    y[c] = x[c] * MathF.Exp(-Beta * MathF.Log(MathF.FusedMultiplyAdd(sum, Scale, Bias)));
                }
            }
        }
    }
}
