using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Layers;

/// <summary>
/// A fully connected (inner product) layer: y[b, n] = act(bias[n] + Σ_k x[b, k]·W[n, k]), with W given as
/// [OutputChannels][InputChannels] (ONNX Gemm with transB, Caffe InnerProduct, PyTorch Linear). The input
/// is Batch rows of InputChannels floats (a flattened NHWC tensor: the importer orders W's columns to match).
/// Output rows are <see cref="EffectiveOutputStride"/> floats apart, so the output may be a slice of a wider tensor.
/// </summary>
/// <param name="Batch">Rows per call.</param>
/// <param name="InputChannels">K: inputs per row.</param>
/// <param name="OutputChannels">N: outputs per row.</param>
/// <param name="Activation">Activation fused into the store.</param>
/// <param name="OutputStride">Floats between consecutive output rows; 0 means <paramref name="OutputChannels"/>.</param>
public sealed record FullyConnectedDescriptor(int Batch, int InputChannels, int OutputChannels, FusedActivation Activation = default, int OutputStride = 0)
{
    /// <summary>The row stride actually used.</summary>
    public int EffectiveOutputStride => OutputStride == 0 ? OutputChannels : OutputStride;

    /// <summary>Input floats per call.</summary>
    public long InputLength => (long)Batch * InputChannels;

    /// <summary>Output floats a call may touch.</summary>
    public long OutputLength => LayerChecks.StridedLength(Batch, EffectiveOutputStride, OutputChannels, nameof(OutputStride));

    /// <summary>Weight floats: OutputChannels·InputChannels.</summary>
    public long WeightsLength => (long)OutputChannels * InputChannels;

    /// <summary>Checks every field before anything runs.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the parameter name is the field's.</exception>
    public void Validate()
    {
        LayerChecks.Positive(Batch, nameof(Batch));
        LayerChecks.Positive(InputChannels, nameof(InputChannels));
        LayerChecks.Positive(OutputChannels, nameof(OutputChannels));
        LayerChecks.PixelStride(OutputStride, OutputChannels, nameof(OutputStride));
        Activation.Validate(nameof(Activation));
        if (InputLength > int.MaxValue || WeightsLength > int.MaxValue)
        {
            throw new ArgumentException("A tensor of this layer has more than 2^31 - 1 elements.", nameof(InputChannels));
        }

        _ = OutputLength;
    }
}

/// <summary>
/// The weights and bias of one <see cref="FullyConnectedDescriptor"/>, packed at plan time for one ISA: for
/// batch 1 into GEMV blocks (NB outputs k-major, so the kernel streams them once, contiguously); for a larger
/// batch into the SGEMM's B panels (W transposed to K×N).
/// </summary>
public sealed unsafe class FullyConnectedWeights : IDisposable
{
    private readonly NativeBuffer<float>? _gemv;
    private readonly PackedWeights? _gemm;
    private readonly Sgemm? _sgemm;
    private readonly float[] _bias;

    internal FullyConnectedWeights(FullyConnectedDescriptor descriptor, KernelIsa isa, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        Descriptor = descriptor;
        Isa = isa;
        int k = descriptor.InputChannels, n = descriptor.OutputChannels;
        if (descriptor.Batch == 1)
        {
            BlockSize = isa switch
            {
                KernelIsa.Avx512 => F32Gemv64Avx512.NB,
                KernelIsa.Avx2 => F32Gemv32Avx2.NB,
                _ => F32Gemv16AdvSimd.NB,
            };
            int blocks = (n + BlockSize - 1) / BlockSize;
            _bias = [];

            // Per block: k rows of NB weights, then NB biases; zeros past the last output.
            _gemv = new NativeBuffer<float>((long)blocks * (k + 1) * BlockSize, zero: true);
            float* p = _gemv.Pointer;
            for (int j = 0; j < n; j++)
            {
                float* block = p + ((long)(j / BlockSize) * (k + 1) * BlockSize) + (j % BlockSize);
                ReadOnlySpan<float> row = weights.Slice(j * k, k);
                for (int i = 0; i < k; i++)
                {
                    block[(long)i * BlockSize] = row[i];
                }

                block[(long)k * BlockSize] = bias.IsEmpty ? 0f : bias[j];
            }
        }
        else
        {
            _sgemm = Sgemm.Create(isa.GemmKernel());
            var transposed = new float[(long)k * n];
            for (int j = 0; j < n; j++)
            {
                for (int i = 0; i < k; i++)
                {
                    transposed[((long)i * n) + j] = weights[(j * k) + i];
                }
            }

            _gemm = _sgemm.PackB(k, n, transposed, n);
            _bias = bias.IsEmpty ? new float[n] : bias[..n].ToArray();
        }
    }

    /// <summary>The layer these weights were packed for.</summary>
    public FullyConnectedDescriptor Descriptor { get; }

    /// <summary>The ISA whose kernels run them.</summary>
    public KernelIsa Isa { get; }

    /// <summary>Outputs per GEMV block (batch 1), else 0.</summary>
    public int BlockSize { get; }

    internal float* Gemv => _gemv!.Pointer;

    internal Sgemm Sgemm => _sgemm!;

    internal PackedWeights Gemm => _gemm!;

    internal ReadOnlySpan<float> Bias => _bias;

    /// <summary>Frees the packed weights.</summary>
    public void Dispose()
    {
        _gemv?.Dispose();
        _gemm?.Dispose();
    }
}

/// <summary>
/// Runs <see cref="FullyConnectedDescriptor"/>: batch 1 through the GEMV kernels, multithreaded over output
/// blocks; a larger batch through <see cref="Sgemm"/> (bias and activation in its micro-kernels' store).
/// Allocates nothing per call.
/// </summary>
public static unsafe class FullyConnected
{
    /// <summary>Packs <paramref name="weights"/> ([OutputChannels][InputChannels]) and <paramref name="bias"/> (empty or OutputChannels) at plan time.</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, a span is too short or the ISA cannot run here.</exception>
    public static FullyConnectedWeights Pack(FullyConnectedDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias = default, KernelIsa? isa = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        var chosen = isa ?? KernelIsas.Best;
        LayerChecks.Isa(chosen, nameof(isa));
        LayerChecks.Length(weights.Length, descriptor.WeightsLength, nameof(weights));
        if (!bias.IsEmpty)
        {
            LayerChecks.Length(bias.Length, descriptor.OutputChannels, nameof(bias));
        }

        return new FullyConnectedWeights(descriptor, chosen, weights, bias);
    }

    /// <summary>Computes the layer on <paramref name="input"/> into <paramref name="output"/> (only the layer's columns of each row are written).</summary>
    /// <exception cref="ArgumentException">A span is too short.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(FullyConnectedWeights weights, ReadOnlySpan<float> input, Span<float> output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var d = weights.Descriptor;
        LayerChecks.Length(input.Length, d.InputLength, nameof(input));
        LayerChecks.Length(output.Length, d.OutputLength, nameof(output));
        fixed (float* pi = input)
        fixed (float* po = output)
        {
            Execute(weights, pi, po, workers);
        }
    }

    /// <summary>As the span overload on raw pointers (lengths unchecked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(FullyConnectedWeights weights, float* input, float* output, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Pooling2D.NotNull(input, nameof(input));
        Pooling2D.NotNull(output, nameof(output));
        Execute(weights, input, output, workers);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Execute(FullyConnectedWeights weights, float* input, float* output, WorkerGroup? workers)
    {
        var d = weights.Descriptor;
        bool leaky = d.Activation.Kind == Activation.LeakyRelu;
        if (d.Batch == 1)
        {
            var (p0, p1) = leaky ? (d.Activation.LeakySlope, 0f) : d.Activation.Kind.ClampBounds();
            var body = new GemvBlocks
            {
                Kernel = weights.Isa switch
                {
                    KernelIsa.Avx512 => &F32Gemv64Avx512.Run,
                    KernelIsa.Avx2 => &F32Gemv32Avx2.Run,
                    _ => &F32Gemv16AdvSimd.Run,
                },
                W = weights.Gemv,
                X = input,
                Y = output,
                K = d.InputChannels,
                N = d.OutputChannels,
                NB = weights.BlockSize,
                P0 = p0,
                P1 = p1,
                Leaky = leaky,
            };
            int blocks = (d.OutputChannels + weights.BlockSize - 1) / weights.BlockSize;
            if (workers is null)
            {
                body.Execute(0, blocks);
            }
            else
            {
                workers.ParallelFor(blocks, ref body);
            }

            return;
        }

        int ldc = d.EffectiveOutputStride;
        var c = new Span<float>(output, (int)d.OutputLength);
        weights.Sgemm.Multiply(
            d.Batch, new ReadOnlySpan<float>(input, (int)d.InputLength), d.InputChannels, weights.Gemm, c, ldc,
            weights.Bias, d.Activation, workers);
    }

    private struct GemvBlocks : IRangeBody
    {
        public delegate*<float*, float*, nint, float*, float*, int, float, float, bool, void> Kernel;
        public float* W, X, Y;
        public int K, N, NB;
        public float P0, P1;
        public bool Leaky;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            long blockFloats = (long)(K + 1) * NB;
            for (int b = begin; b < end; b++)
            {
                float* block = W + (b * blockFloats);
                int j0 = b * NB;
                Kernel(block, X, K, block + ((long)K * NB), Y + j0, Math.Min(NB, N - j0), P0, P1, Leaky);
            }
        }
    }
}
