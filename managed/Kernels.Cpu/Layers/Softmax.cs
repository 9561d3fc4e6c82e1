using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Core.Threading;

namespace Kernels.Cpu.Layers;

/// <summary>
/// Softmax over the channels of each pixel (the classifier of every network here, SqueezeNet's per-pixel
/// head): y[c] = exp(x[c] - max) / Σ exp(x[i] - max); subtracting the maximum keeps exp from overflowing.
/// The output may be the input (in place) or a channel slice of a wider tensor.
/// </summary>
/// <param name="Batch">Images per call.</param>
/// <param name="Height">Height (1 after a fully connected layer).</param>
/// <param name="Width">Width.</param>
/// <param name="Channels">Channels (classes).</param>
/// <param name="OutputPixelStride">Floats between consecutive output pixels; 0 means <paramref name="Channels"/>.</param>
public sealed record SoftmaxDescriptor(int Batch, int Height, int Width, int Channels, int OutputPixelStride = 0)
{
    /// <summary>The pixel stride actually used.</summary>
    public int EffectiveOutputPixelStride => OutputPixelStride == 0 ? Channels : OutputPixelStride;

    /// <summary>Input floats.</summary>
    public long InputLength => (long)Batch * Height * Width * Channels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength((long)Batch * Height * Width, EffectiveOutputPixelStride, Channels, nameof(OutputPixelStride));

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate() => Elementwise.ValidateShape(Batch, Height, Width, Channels, OutputPixelStride);
}

/// <summary>Runs <see cref="SoftmaxDescriptor"/> with Vector128 (three passes per pixel: max, exp and sum, scale). Allocates nothing.</summary>
public static unsafe class Softmax
{
    /// <summary>Softmax of each pixel of <paramref name="input"/> into <paramref name="output"/>, which may be the input itself.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid or a span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(SoftmaxDescriptor descriptor, ReadOnlySpan<float> input, Span<float> output, WorkerGroup? workers = null)
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
    public static void Run(SoftmaxDescriptor descriptor, float* input, float* output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        Pooling2D.NotNull(input, nameof(input));
        Pooling2D.NotNull(output, nameof(output));
        Execute(descriptor, input, output, workers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(SoftmaxDescriptor d, float* input, float* output, WorkerGroup? workers)
    {
        var body = new Pixels { Input = input, Output = output, C = d.Channels, Stride = d.EffectiveOutputPixelStride };
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
        public int C, Stride;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            for (int p = begin; p < end; p++)
            {
                float* x = Input + ((long)p * C);
                float* y = Output + ((long)p * Stride);
                var maxV = Vector128.Create(float.NegativeInfinity);
                int c = 0;
                for (; c + 4 <= C; c += 4)
                {
                    maxV = Vector128.Max(maxV, Vector128.Load(x + c));
                }

                float max = MathF.Max(MathF.Max(maxV[0], maxV[1]), MathF.Max(maxV[2], maxV[3]));
                for (; c < C; c++)
                {
                    max = MathF.Max(max, x[c]);
                }

                var m = Vector128.Create(max);
                var sumV = Vector128<float>.Zero;
                for (c = 0; c + 4 <= C; c += 4)
                {
                    var e = Vector128.Exp(Vector128.Load(x + c) - m);
                    e.Store(y + c);
                    sumV += e;
                }

                float sum = Vector128.Sum(sumV);
                for (; c < C; c++)
                {
                    float e = MathF.Exp(x[c] - max);
                    y[c] = e;
                    sum += e;
                }

                var inverse = Vector128.Create(1f / sum);
                for (c = 0; c + 4 <= C; c += 4)
                {
                    (Vector128.Load(y + c) * inverse).Store(y + c);
                }

                for (; c < C; c++)
                {
                    y[c] *= inverse[0];
                }
            }
        }
    }
}
