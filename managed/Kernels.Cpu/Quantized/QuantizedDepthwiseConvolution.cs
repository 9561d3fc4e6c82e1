using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Quantized.MicroKernels;

namespace Kernels.Cpu.Quantized;

/// <summary>Which depthwise int8 kernel a layer runs.</summary>
internal enum DepthwiseVariant
{
    /// <summary>16 channels per step: vpmovzxbw, (x − z)·w in int16 (|x − z| ≤ 255, |w| ≤ 127: no overflow), vpmovsxwd into int32 accumulators, the GEMM's requantizing store.</summary>
    Avx2,

    /// <summary>One channel at a time, the definition itself; the fallback where AVX2 is off.</summary>
    Scalar,
}

/// <summary>
/// int8 depthwise convolution (groups = channels, multiplier 1) on NHWC, vectorized over channels: for each
/// output pixel every valid tap adds (x − inputZeroPoint)·w into int32 accumulators per channel (padded taps
/// are skipped: they hold real 0), then the accumulators are requantized per channel in the store. 3×3 layers
/// (stride 1 and 2) have their own path for the interior of a row: the 9 weight vectors of a 16-channel block stay
/// in registers while the block walks along the row, with no bounds checks. A channel count that is not a multiple
/// of 16 (and at least 16) ends with one block shifted back to end at the last channel, recomputing a few channels
/// to the same values. Multithreaded over output rows.
/// </summary>
internal sealed unsafe class QuantizedDepthwiseConvolution : QuantizedConvolution
{
    private const int Block = 16;

    private readonly NativeBuffer<short> _weights;
    private readonly NativeBuffer<int> _channels;
    private readonly int _paddedChannels;
    private readonly DepthwiseVariant _variant;

    public QuantizedDepthwiseConvolution(Conv2DDescriptor d, QuantizedChannels channels, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, DepthwiseVariant variant)
        : base(
            $"qu8-dwconv-{(d.KernelHeight == 3 && d.KernelWidth == 3 ? "3x3" : "kxk")}-{(variant == DepthwiseVariant.Avx2 ? "avx2" : "scalar")}",
            d,
            input,
            output,
            clamp,
            channels.WeightScales)
    {
        _variant = variant;
        int c = d.OutputChannels, taps = d.KernelHeight * d.KernelWidth;
        _paddedChannels = (c + Block - 1) / Block * Block;
        _weights = new NativeBuffer<short>((long)taps * _paddedChannels, zero: true);
        _channels = new NativeBuffer<int>(3L * _paddedChannels, zero: true);
        for (int ch = 0; ch < c; ch++)
        {
            for (int t = 0; t < taps; t++)
            {
                _weights.Pointer[((long)t * _paddedChannels) + ch] = channels.Weights[((long)ch * taps) + t];
            }

            _channels.Pointer[ch] = channels.Bias[ch];
            _channels.Pointer[_paddedChannels + ch] = channels.Multipliers[ch];
            _channels.Pointer[(2 * _paddedChannels) + ch] = channels.Shifts[ch];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void Execute(byte* input, byte* output, WorkerGroup? workers)
    {
        var d = Descriptor;
        var rows = new Rows
        {
            Input = input,
            Output = output,
            Weights = _weights.Pointer,
            Bias = _channels.Pointer,
            Multiplier = _channels.Pointer + _paddedChannels,
            Shift = _channels.Pointer + (2 * _paddedChannels),
            Stride = _paddedChannels,
            H = d.InputHeight,
            W = d.InputWidth,
            C = d.OutputChannels,
            OH = d.OutputHeight,
            OW = d.OutputWidth,
            KH = d.KernelHeight,
            KW = d.KernelWidth,
            SH = d.StrideHeight,
            SW = d.StrideWidth,
            DH = d.DilationHeight,
            DW = d.DilationWidth,
            PadTop = d.PadTop,
            PadLeft = d.PadLeft,
            OutStride = d.EffectiveOutputPixelStride,
            InputZeroPoint = Input.ZeroPoint,
            Low = Clamp.Min - Clamp.ZeroPoint,
            High = Clamp.Max - Clamp.ZeroPoint,
            OutputZeroPoint = Clamp.ZeroPoint,
            Vector = _variant == DepthwiseVariant.Avx2,
        };
        int count = d.Batch * rows.OH;
        if (workers is null || workers.ThreadCount == 1)
        {
            rows.Execute(0, count);
        }
        else
        {
            workers.ParallelFor(count, ref rows);
        }
    }

    private protected override void Free()
    {
        _weights.Dispose();
        _channels.Dispose();
    }

    private struct Rows : IRangeBody
    {
        public byte* Input, Output;
        public short* Weights;
        public int* Bias, Multiplier, Shift;
        public int Stride, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PadTop, PadLeft, OutStride;
        public int InputZeroPoint, Low, High, OutputZeroPoint;
        public bool Vector;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            var tile = new RequantizeTile { Bias = Bias, Multiplier = Multiplier, Shift = Shift, Low = Low, High = High, ZeroPoint = OutputZeroPoint };
            bool vector = Vector && C >= Block;
            for (int r = begin; r < end; r++)
            {
                int n = r / OH, oy = r % OH;
                byte* image = Input + ((long)n * H * W * C);
                byte* outRow = Output + ((long)r * OW * OutStride);
                int iy0 = (oy * SH) - PadTop;
                int ky0 = 0, ky1 = KH;
                while (ky0 < KH && iy0 + (ky0 * DH) < 0)
                {
                    ky0++;
                }

                while (ky1 > ky0 && iy0 + ((ky1 - 1) * DH) >= H)
                {
                    ky1--;
                }

                // The columns whose whole window is inside the input: [oxLo, oxHi).
                int oxLo = Math.Min(OW, (PadLeft + SW - 1) / SW);
                int oxHi = oxLo;
                while (oxHi < OW && (oxHi * SW) - PadLeft + ((KW - 1) * DW) < W)
                {
                    oxHi++;
                }

                bool fast = vector && KH == 3 && KW == 3 && ky0 == 0 && ky1 == 3;
                if (fast && oxHi > oxLo)
                {
                    Interior3x3(image, iy0, oxLo, oxHi, outRow, &tile);
                }
                else
                {
                    oxLo = oxHi = 0;
                }

                for (int ox = 0; ox < OW; ox++)
                {
                    if (ox == oxLo && oxHi > oxLo)
                    {
                        ox = oxHi - 1;
                        continue;
                    }

                    int ix0 = (ox * SW) - PadLeft;
                    int kx0 = 0, kx1 = KW;
                    while (kx0 < KW && ix0 + (kx0 * DW) < 0)
                    {
                        kx0++;
                    }

                    while (kx1 > kx0 && ix0 + ((kx1 - 1) * DW) >= W)
                    {
                        kx1--;
                    }

                    byte* o = outRow + ((long)ox * OutStride);
                    if (vector)
                    {
                        PixelAvx2(image, iy0, ix0, ky0, ky1, kx0, kx1, o, &tile);
                    }
                    else
                    {
                        PixelScalar(image, iy0, ix0, ky0, ky1, kx0, kx1, o, 0, C);
                    }
                }
            }
        }

        /// <summary>One output pixel, channels [c0, c1), one channel at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void PixelScalar(byte* image, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1, byte* o, int c0, int c1)
        {
            for (int c = c0; c < c1; c++)
            {
                int acc = 0;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    byte* row = image + ((long)(iy0 + (ky * DH)) * W * C) + c;
                    short* w = Weights + ((long)ky * KW * Stride) + c;
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        acc += (row[(long)(ix0 + (kx * DW)) * C] - InputZeroPoint) * w[(long)kx * Stride];
                    }
                }

                o[c] = Requantization.Apply(acc + Bias[c], Multiplier[c], Shift[c], Low, High, OutputZeroPoint);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void PixelAvx2(byte* image, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1, byte* o, RequantizeTile* tile)
        {
            var zeroPoint = Vector256.Create((short)InputZeroPoint);
            for (int cb = 0; cb < C; cb += Block)
            {
                int c0 = Math.Min(cb, C - Block);
                Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    byte* row = image + ((long)(iy0 + (ky * DH)) * W * C) + c0;
                    short* w = Weights + ((long)ky * KW * Stride) + c0;
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        Vector256<short> x = Avx2.Subtract(Avx2.ConvertToVector256Int16(row + ((long)(ix0 + (kx * DW)) * C)).AsInt16(), zeroPoint);
                        Vector256<short> p = Avx2.MultiplyLow(x, Avx.LoadVector256(w + ((long)kx * Stride)));
                        acc0 = Avx2.Add(acc0, Avx2.ConvertToVector256Int32(p.GetLower()));
                        acc1 = Avx2.Add(acc1, Avx2.ConvertToVector256Int32(p.GetUpper()));
                    }
                }

                Avx2Requantize.Store8(o + c0, new Avx2Requantize(tile, c0).Apply(acc0));
                Avx2Requantize.Store8(o + c0 + 8, new Avx2Requantize(tile, c0 + 8).Apply(acc1));
            }
        }

        /// <summary>Output columns [oxLo, oxHi) of a row whose 3×3 windows lie inside the input, block by block with the weights in registers.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Interior3x3(byte* image, int iy0, int oxLo, int oxHi, byte* outRow, RequantizeTile* tile)
        {
            var zeroPoint = Vector256.Create((short)InputZeroPoint);
            long rowBytes = (long)W * C;
            long dy = DH * rowBytes, dx = (long)DW * C, step = (long)SW * C;
            for (int cb = 0; cb < C; cb += Block)
            {
                int c0 = Math.Min(cb, C - Block);
                short* w = Weights + c0;
                Vector256<short> w00 = Avx.LoadVector256(w), w01 = Avx.LoadVector256(w + Stride), w02 = Avx.LoadVector256(w + (2 * Stride));
                Vector256<short> w10 = Avx.LoadVector256(w + (3 * Stride)), w11 = Avx.LoadVector256(w + (4 * Stride)), w12 = Avx.LoadVector256(w + (5 * Stride));
                Vector256<short> w20 = Avx.LoadVector256(w + (6 * Stride)), w21 = Avx.LoadVector256(w + (7 * Stride)), w22 = Avx.LoadVector256(w + (8 * Stride));
                var rq0 = new Avx2Requantize(tile, c0);
                var rq1 = new Avx2Requantize(tile, c0 + 8);
                byte* x = image + (iy0 * rowBytes) + ((long)((oxLo * SW) - PadLeft) * C) + c0;
                byte* o = outRow + ((long)oxLo * OutStride) + c0;
                for (int ox = oxLo; ox < oxHi; ox++, x += step, o += OutStride)
                {
                    Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
                    Tap(x, w00, zeroPoint, ref acc0, ref acc1);
                    Tap(x + dx, w01, zeroPoint, ref acc0, ref acc1);
                    Tap(x + (2 * dx), w02, zeroPoint, ref acc0, ref acc1);
                    Tap(x + dy, w10, zeroPoint, ref acc0, ref acc1);
                    Tap(x + dy + dx, w11, zeroPoint, ref acc0, ref acc1);
                    Tap(x + dy + (2 * dx), w12, zeroPoint, ref acc0, ref acc1);
                    Tap(x + (2 * dy), w20, zeroPoint, ref acc0, ref acc1);
                    Tap(x + (2 * dy) + dx, w21, zeroPoint, ref acc0, ref acc1);
                    Tap(x + (2 * dy) + (2 * dx), w22, zeroPoint, ref acc0, ref acc1);
                    Avx2Requantize.Store8(o, rq0.Apply(acc0));
                    Avx2Requantize.Store8(o + 8, rq1.Apply(acc1));
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Tap(byte* x, Vector256<short> w, Vector256<short> zeroPoint, ref Vector256<int> acc0, ref Vector256<int> acc1)
        {
            Vector256<short> p = Avx2.MultiplyLow(Avx2.Subtract(Avx2.ConvertToVector256Int16(x).AsInt16(), zeroPoint), w);
            acc0 = Avx2.Add(acc0, Avx2.ConvertToVector256Int32(p.GetLower()));
            acc1 = Avx2.Add(acc1, Avx2.ConvertToVector256Int32(p.GetUpper()));
        }
    }
}
