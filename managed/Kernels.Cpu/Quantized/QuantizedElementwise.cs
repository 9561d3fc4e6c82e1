using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized.MicroKernels;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// Element-wise add of two uint8 tensors with their own quantization into a third (a residual connection),
/// in integers as TFLite's quantized add defines it: both inputs are centred and shifted left by
/// <see cref="LeftShift"/> bits, each is rescaled by its scale over twice the larger input scale (a factor ≤ ½),
/// the sum is rescaled by 2·max(sa, sb) / (2^LeftShift·sy), the output zero point added and the fused activation
/// applied as the clamp. Each rescale is a <see cref="FixedPointScale"/> (one rounding, ties toward +∞).
/// Since the inputs are bytes, the two per-input rescales are two 256-entry tables built on the stack per call;
/// with AVX2 the tables are read with vpgatherdd and the sum goes through the GEMM's requantizing store, 8 values
/// per step. Multithreaded over pixels; allocates nothing.
/// </summary>
public static unsafe class QuantizedElementwise
{
    /// <summary>Bits of headroom the centred inputs get before their rescale (TFLite uses 20 for 8-bit).</summary>
    public const int LeftShift = 20;

    /// <summary>y = clamp(a + b) in the quantized domains of qa, qb and qy, at the descriptor's output pixel stride.</summary>
    /// <exception cref="ArgumentException">Invalid descriptor or quantization, a null pointer.</exception>
    /// <exception cref="NotSupportedException">A LeakyRelu activation.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(
        ElementwiseAddDescriptor d, byte* a, QuantizationParameters qa, byte* b, QuantizationParameters qb, byte* y, QuantizationParameters qy, WorkerGroup? workers = null)
    {
        ArgumentNullException.ThrowIfNull(d);
        d.Validate();
        QuantizedLayerChecks.NotNull(a, nameof(a));
        QuantizedLayerChecks.NotNull(b, nameof(b));
        QuantizedLayerChecks.NotNull(y, nameof(y));
        QuantizedLayerChecks.Activations(qa, nameof(qa));
        QuantizedLayerChecks.Activations(qb, nameof(qb));
        QuantizedLayerChecks.Activations(qy, nameof(qy));
        var clamp = QuantizedLayerChecks.Clamp(d.Activation, qy, "Element-wise add");
        var (sa, sb, so) = Scales(qa, qb, qy);

        int* tables = stackalloc int[512];
        for (int v = 0; v < 256; v++)
        {
            tables[v] = (int)sa.Apply((long)(v - qa.ZeroPoint) << LeftShift);
            tables[256 + v] = (int)sb.Apply((long)(v - qb.ZeroPoint) << LeftShift);
        }

        var body = new AddPixels
        {
            A = a,
            B = b,
            Y = y,
            Tables = tables,
            Channels = d.Channels,
            OutStride = d.EffectiveOutputPixelStride,
            Output = so,
            ZeroPoint = clamp.ZeroPoint,
            Min = clamp.Min,
            Max = clamp.Max,
            Vector = Avx2.IsSupported && so.Shift >= 31,
        };
        int pixels = d.Batch * d.Height * d.Width;
        if (body.OutStride == body.Channels)
        {
            // Dense: one run over all elements, split in blocks of whole pixels.
            body.Channels = body.OutStride = pixels * d.Channels;
            pixels = 1;
            if (workers is not null && workers.ThreadCount > 1)
            {
                int blocks = Math.Max(1, Math.Min(workers.ThreadCount * 4, body.Channels / 4096));
                body.BlockElements = (body.Channels + blocks - 1) / blocks;
                workers.ParallelFor((body.Channels + body.BlockElements - 1) / body.BlockElements, ref body);
                return;
            }
        }

        body.BlockElements = 0;
        if (workers is null || workers.ThreadCount == 1)
        {
            body.Execute(0, pixels);
        }
        else
        {
            workers.ParallelFor(pixels, ref body);
        }
    }

    /// <summary>The three rescales: qa.Scale / (2·max), qb.Scale / (2·max) and 2·max / (2^LeftShift·qy.Scale).</summary>
    /// <exception cref="ArgumentException">The output scale is so small that the last factor is above <see cref="FixedPointScale.MaxFactor"/>.</exception>
    public static (FixedPointScale A, FixedPointScale B, FixedPointScale Output) Scales(QuantizationParameters qa, QuantizationParameters qb, QuantizationParameters qy)
    {
        double twiceMax = 2.0 * Math.Max(qa.Scale, qb.Scale);
        double output = twiceMax / ((1 << LeftShift) * (double)qy.Scale);
        if (output > FixedPointScale.MaxFactor)
        {
            throw new ArgumentException($"qy.Scale {qy.Scale} is too small for inputs of scale up to {twiceMax / 2}.", nameof(qy));
        }

        return (FixedPointScale.Create(qa.Scale / twiceMax), FixedPointScale.Create(qb.Scale / twiceMax), FixedPointScale.Create(output));
    }

    private struct AddPixels : IRangeBody
    {
        public byte* A, B, Y;
        public int* Tables;
        public int Channels, OutStride, BlockElements;
        public FixedPointScale Output;
        public int ZeroPoint, Min, Max;
        public bool Vector;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            if (BlockElements > 0)
            {
                // Dense blocks of one long run.
                long start = (long)begin * BlockElements;
                long stop = Math.Min((long)end * BlockElements, Channels);
                Run(A + start, B + start, Y + start, (int)(stop - start));
                return;
            }

            for (long p = begin; p < end; p++)
            {
                Run(A + (p * Channels), B + (p * Channels), Y + (p * OutStride), Channels);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Run(byte* a, byte* b, byte* y, int count)
        {
            int i = 0;
            if (Vector)
            {
                int* bias = stackalloc int[8];
                int* multiplier = stackalloc int[8];
                int* shift = stackalloc int[8];
                for (int l = 0; l < 8; l++)
                {
                    bias[l] = 0;
                    multiplier[l] = Output.Multiplier;
                    shift[l] = Output.Shift - 31;
                }

                var tile = new RequantizeTile { Bias = bias, Multiplier = multiplier, Shift = shift, Low = Min - ZeroPoint, High = Max - ZeroPoint, ZeroPoint = ZeroPoint };
                var store = new Avx2Requantize(&tile, 0);
                int* tableB = Tables + 256;
                for (; i + 8 <= count; i += 8)
                {
                    Vector256<int> va = Avx2.GatherVector256(Tables, Avx2.ConvertToVector256Int32(a + i), 4);
                    Vector256<int> vb = Avx2.GatherVector256(tableB, Avx2.ConvertToVector256Int32(b + i), 4);
                    Avx2Requantize.Store8(y + i, store.Apply(Avx2.Add(va, vb)));
                }
            }

            for (; i < count; i++)
            {
                long sum = (long)Tables[a[i]] + Tables[256 + b[i]];
                y[i] = (byte)Math.Clamp(ZeroPoint + Output.Apply(sum), Min, Max);
            }
        }
    }
}
