using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized.MicroKernels;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// Element-wise add of two uint8 tensors with their own quantization into a third (a residual connection), in
/// integers with TFLite's structure (centre, left shift, per-input multipliers, one output rescale) and XNNPACK's
/// exact per-input products: with m = 2·max(sa, sb), each input's integer multiplier is
/// Ma = round(sa/m · 2^<see cref="LeftShift"/>) (≤ 2²¹), the sum S = (a − za)·Ma + (b − zb)·Mb is exact in int32
/// (|S| &lt; 2³⁰), and y = clamp(zy + round(S · m / (2^LeftShift·sy))) with the fused activation as the clamp, the
/// last rescale a <see cref="FixedPointScale"/> (one rounding, ties toward +∞). The multipliers' relative error is at
/// most 2⁻²¹/(sa/m), far below an output step for any sane pair of scales. With AVX2, 8 values per step: vpmulld
/// for the products, the GEMM's requantizing store for the rescale. Multithreaded over pixels; allocates nothing.
/// </summary>
public static unsafe class QuantizedElementwise
{
    /// <summary>Fraction bits of the per-input multipliers (TFLite shifts the centred inputs left by 20 for 8-bit; 22 keeps |S| below 2³⁰).</summary>
    public const int LeftShift = 22;

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
        var (ma, mb, so) = Scales(qa, qb, qy);

        var body = new AddPixels
        {
            A = a,
            B = b,
            Y = y,
            MultiplierA = ma,
            MultiplierB = mb,
            Channels = d.Channels,
            OutStride = d.EffectiveOutputPixelStride,
            ZeroPointA = qa.ZeroPoint,
            ZeroPointB = qb.ZeroPoint,
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

    /// <summary>The per-input integer multipliers round(s/m·2^LeftShift), m = 2·max(sa, sb), and the output rescale m / (2^LeftShift·sy).</summary>
    /// <exception cref="ArgumentException">The output scale is so small that the last factor is above <see cref="FixedPointScale.MaxFactor"/>.</exception>
    public static (int A, int B, FixedPointScale Output) Scales(QuantizationParameters qa, QuantizationParameters qb, QuantizationParameters qy)
    {
        double twiceMax = 2.0 * Math.Max(qa.Scale, qb.Scale);
        double output = twiceMax / ((1 << LeftShift) * (double)qy.Scale);
        if (output > FixedPointScale.MaxFactor)
        {
            throw new ArgumentException($"qy.Scale {qy.Scale} is too small for inputs of scale up to {twiceMax / 2}.", nameof(qy));
        }

        int a = (int)Math.Round(qa.Scale / twiceMax * (1 << LeftShift), MidpointRounding.AwayFromZero);
        int b = (int)Math.Round(qb.Scale / twiceMax * (1 << LeftShift), MidpointRounding.AwayFromZero);
        return (a, b, FixedPointScale.Create(output));
    }

    private struct AddPixels : IRangeBody
    {
        public byte* A, B, Y;
        public int Channels, OutStride, BlockElements;
        public FixedPointScale Output;
        public int MultiplierA, MultiplierB, ZeroPointA, ZeroPointB, ZeroPoint, Min, Max;
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
                int* parameters = stackalloc int[16 * 3];
                for (int l = 0; l < 16; l++)
                {
                    parameters[l] = 0;
                    parameters[16 + l] = Output.Multiplier;
                    parameters[32 + l] = Output.Shift - 31;
                }

                var tile = new RequantizeTile { Bias = parameters, Multiplier = parameters + 16, Shift = parameters + 32, Low = Min - ZeroPoint, High = Max - ZeroPoint, ZeroPoint = ZeroPoint };
                if (Avx512F.IsSupported && count >= 16)
                {
                    i = Run16(a, b, y, count, &tile);
                }

                var store = new Avx2Requantize(&tile, 0);
                var zeroA = Vector256.Create(ZeroPointA);
                var zeroB = Vector256.Create(ZeroPointB);
                var multiplierA = Vector256.Create(MultiplierA);
                var multiplierB = Vector256.Create(MultiplierB);
                for (; i + 8 <= count; i += 8)
                {
                    Vector256<int> va = Avx2.MultiplyLow(Avx2.Subtract(Avx2.ConvertToVector256Int32(a + i), zeroA), multiplierA);
                    Vector256<int> vb = Avx2.MultiplyLow(Avx2.Subtract(Avx2.ConvertToVector256Int32(b + i), zeroB), multiplierB);
                    Avx2Requantize.Store8(y + i, store.Apply(Avx2.Add(va, vb)));
                }
            }

            for (; i < count; i++)
            {
                long sum = ((long)(a[i] - ZeroPointA) * MultiplierA) + ((long)(b[i] - ZeroPointB) * MultiplierB);
                y[i] = (byte)Math.Clamp(ZeroPoint + Output.Apply(sum), Min, Max);
            }
        }

        /// <summary>The AVX2 loop on 16 values per step (zmm): vpmovzxbd, vpmulld, the 16-lane requantizing store, vpmovdb. Returns how many values it did.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly int Run16(byte* a, byte* b, byte* y, int count, RequantizeTile* tile)
        {
            var store = new Avx512Requantize(tile, 0);
            var zeroA = Vector512.Create(ZeroPointA);
            var zeroB = Vector512.Create(ZeroPointB);
            var multiplierA = Vector512.Create(MultiplierA);
            var multiplierB = Vector512.Create(MultiplierB);
            int i = 0;
            for (; i + 16 <= count; i += 16)
            {
                Vector512<int> va = Avx512F.MultiplyLow(Avx512F.Subtract(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(a + i)), zeroA), multiplierA);
                Vector512<int> vb = Avx512F.MultiplyLow(Avx512F.Subtract(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128(b + i)), zeroB), multiplierB);
                Sse2.Store(y + i, Avx512F.ConvertToVector128Byte(store.Apply(Avx512F.Add(va, vb))));
            }

            return i;
        }
    }
}
