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
    /// <summary>As <see cref="Avx2"/>, with the 3×3 interior on 32 channels per step (AVX-512BW vpmaddwd zmm) when there are at least 32.</summary>
    Avx512,

    /// <summary>16 channels per step: vpmovzxbw, (x − z)·w in int16 (|x − z| ≤ 255, |w| ≤ 127: no overflow), vpmovsxwd into int32 accumulators, the GEMM's requantizing store.</summary>
    Avx2,

    /// <summary>8 channels per step through the Neon shim (<see cref="Qu8DepthwiseAdvSimd"/>): native on arm64, emulated elsewhere.</summary>
    AdvSimd,

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
    private readonly NativeBuffer<short>? _pairWeights;
    private readonly NativeBuffer<short>? _columnWeights;
    private readonly NativeBuffer<int>? _blockParameters;
    private readonly int _paddedChannels;
    private readonly int _interiorBlock;
    private readonly DepthwiseVariant _variant;

    public QuantizedDepthwiseConvolution(Conv2DDescriptor d, QuantizedChannels channels, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, DepthwiseVariant variant)
        : base(
            $"qu8-dwconv-{(d.KernelHeight == 3 && d.KernelWidth == 3 ? "3x3" : "kxk")}-{variant.ToString().ToLowerInvariant()}",
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

        if (variant is DepthwiseVariant.Avx2 or DepthwiseVariant.Avx512 && taps == 9 && c >= Block)
        {
            _interiorBlock = variant == DepthwiseVariant.Avx512 && c >= 2 * Block ? 2 * Block : Block;
            (_pairWeights, _blockParameters) = PackInterior3x3(channels, c, input.ZeroPoint, _interiorBlock);
            if (_interiorBlock == 2 * Block)
            {
                _columnWeights = PackColumns3x3(channels, c, _interiorBlock);
            }
        }
    }

    /// <summary>
    /// The 3×3 interior path's per-block data: for each block of <paramref name="width"/> (16 or 32) channels (the last
    /// one ending at the last channel), the 9 taps' weights as 5 pairs (taps 2p, 2p + 1; the tenth is zero) interleaved
    /// as vpunpcklwd/vpunpckhwd interleave the inputs within each 128-bit lane (lo: channels 8k..8k+3 of lane k, hi:
    /// 8k+4..8k+7), so that vpmaddwd gives int32 sums per channel; and the bias (with −zeroPoint·Σw folded in, since the
    /// interior has all 9 taps), multiplier and shift in the order of vpmaddwd's lanes: the lo lanes, then the hi lanes.
    /// </summary>
    private static (NativeBuffer<short>, NativeBuffer<int>) PackInterior3x3(QuantizedChannels channels, int c, int zeroPoint, int width)
    {
        int blocks = (c + width - 1) / width;
        var weights = new NativeBuffer<short>((long)blocks * 10 * width, zero: true);
        var parameters = new NativeBuffer<int>((long)blocks * 3 * width, zero: true);
        for (int b = 0; b < blocks; b++)
        {
            int c0 = Math.Min(b * width, c - width);
            short* w = weights.Pointer + ((long)b * 10 * width);
            for (int pair = 0; pair < 5; pair++)
            {
                for (int half = 0; half < 2; half++)
                {
                    for (int k = 0; k < width; k++)
                    {
                        int lane = k / 8, j = k % 8;
                        int ch = c0 + (lane * 8) + (half * 4) + (j / 2);
                        int tap = (2 * pair) + (j % 2);
                        w[(((pair * 2) + half) * width) + k] = tap < 9 ? channels.Weights[((long)ch * 9) + tap] : (short)0;
                    }
                }
            }

            int* q = parameters.Pointer + ((long)b * 3 * width);
            for (int l = 0; l < width; l++)
            {
                int half = l / (width / 2), m = l % (width / 2);
                int ch = c0 + (m / 4 * 8) + (half * 4) + (m % 4);
                long sum = 0;
                for (int t = 0; t < 9; t++)
                {
                    sum += channels.Weights[((long)ch * 9) + t];
                }

                q[l] = unchecked((int)(channels.Bias[ch] - (zeroPoint * sum)));
                q[width + l] = channels.Multipliers[ch];
                q[(2 * width) + l] = channels.Shifts[ch];
            }
        }

        return (weights, parameters);
    }

    /// <summary>
    /// The stride-1 interior's weights: per block, 6 pairs in the interleaved order of <see cref="PackInterior3x3"/>, pairing
    /// the taps of one kernel column instead: pairs 0–2 are rows (0, 1) of columns 0–2, pairs 3–5 row 2 of columns 0–2 with
    /// a zero, so that the unpacked pairs of an input column serve the three output pixels that read it.
    /// </summary>
    private static NativeBuffer<short> PackColumns3x3(QuantizedChannels channels, int c, int width)
    {
        int blocks = (c + width - 1) / width;
        var weights = new NativeBuffer<short>((long)blocks * 12 * width, zero: true);
        for (int b = 0; b < blocks; b++)
        {
            int c0 = Math.Min(b * width, c - width);
            short* w = weights.Pointer + ((long)b * 12 * width);
            for (int pair = 0; pair < 6; pair++)
            {
                for (int half = 0; half < 2; half++)
                {
                    for (int k = 0; k < width; k++)
                    {
                        int lane = k / 8, j = k % 8;
                        int ch = c0 + (lane * 8) + (half * 4) + (j / 2);
                        int row = pair < 3 ? j % 2 : (j % 2 == 0 ? 2 : -1);
                        int column = pair % 3;
                        w[(((pair * 2) + half) * width) + k] = row < 0 ? (short)0 : channels.Weights[((long)ch * 9) + (row * 3) + column];
                    }
                }
            }
        }

        return weights;
    }

    private const int PairedWeightsPerBlock = 10 * Block;
    private const int ParametersPerBlock = 3 * Block;

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
            Vector = _variant is DepthwiseVariant.Avx2 or DepthwiseVariant.Avx512,
            AdvSimd = _variant == DepthwiseVariant.AdvSimd,
            InteriorBlock = _interiorBlock,
            PairWeights = _pairWeights is null ? null : _pairWeights.Pointer,
            ColumnWeights = _columnWeights is null ? null : _columnWeights.Pointer,
            BlockParameters = _blockParameters is null ? null : _blockParameters.Pointer,
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
        _pairWeights?.Dispose();
        _columnWeights?.Dispose();
        _blockParameters?.Dispose();
    }

    private struct Rows : IRangeBody
    {
        public byte* Input, Output;
        public short* Weights;
        public int* Bias, Multiplier, Shift;
        public int Stride, H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PadTop, PadLeft, OutStride;
        public int InputZeroPoint, Low, High, OutputZeroPoint;
        public bool Vector, AdvSimd;
        public int InteriorBlock;
        public short* PairWeights, ColumnWeights;
        public int* BlockParameters;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int begin, int end)
        {
            var tile = new RequantizeTile { Bias = Bias, Multiplier = Multiplier, Shift = Shift, Low = Low, High = High, ZeroPoint = OutputZeroPoint };
            bool vector = Vector && C >= Block;
            bool neon = AdvSimd && C >= 8;
            var geometry = new QuantizedDepthwiseGeometry
            {
                RowBytes = (nint)W * C,
                Channels = C,
                KernelWidth = KW,
                DilationHeight = DH,
                DilationWidth = DW,
                Weights = Weights,
                WeightStride = Stride,
                InputZeroPoint = (short)InputZeroPoint,
                Requantize = &tile,
            };
            for (int r = begin; r < end; r++)
            {
                int n = r / OH, oy = r % OH;
                byte* image = Input + ((long)n * H * W * C);
                geometry.Image = image;
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

                bool fast = PairWeights != null && ky0 == 0 && ky1 == 3;
                if (fast && oxHi > oxLo)
                {
                    if (InteriorBlock == 2 * Block && SW == 1 && DW == 1)
                    {
                        Interior3x3S1Avx512(image, iy0, oxLo, oxHi, outRow);
                    }
                    else if (InteriorBlock == 2 * Block)
                    {
                        Interior3x3Avx512(image, iy0, oxLo, oxHi, outRow);
                    }
                    else
                    {
                        Interior3x3(image, iy0, oxLo, oxHi, outRow);
                    }
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
                    else if (neon)
                    {
                        Qu8DepthwiseAdvSimd.Pixel(&geometry, iy0, ix0, ky0, ky1, kx0, kx1, o);
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

        /// <summary>
        /// Output columns [oxLo, oxHi) of a row whose 3×3 windows lie inside the input, block by block with the block's
        /// 10 paired weight vectors in registers: per pixel 9 vpmovzxbw, 10 unpacks, 10 vpmaddwd (see <see cref="PackInterior3x3"/>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Interior3x3(byte* image, int iy0, int oxLo, int oxHi, byte* outRow)
        {
            long rowBytes = (long)W * C;
            long dy = DH * rowBytes, dx = (long)DW * C, step = (long)SW * C;
            int blocks = (C + Block - 1) / Block;
            for (int b = 0; b < blocks; b++)
            {
                int c0 = Math.Min(b * Block, C - Block);
                short* w = PairWeights + ((long)b * PairedWeightsPerBlock);
                Vector256<short> w0l = Avx.LoadVector256(w), w0h = Avx.LoadVector256(w + 16);
                Vector256<short> w1l = Avx.LoadVector256(w + 32), w1h = Avx.LoadVector256(w + 48);
                Vector256<short> w2l = Avx.LoadVector256(w + 64), w2h = Avx.LoadVector256(w + 80);
                Vector256<short> w3l = Avx.LoadVector256(w + 96), w3h = Avx.LoadVector256(w + 112);
                Vector256<short> w4l = Avx.LoadVector256(w + 128), w4h = Avx.LoadVector256(w + 144);
                int* q = BlockParameters + ((long)b * ParametersPerBlock);
                var tile = new RequantizeTile { Bias = q, Multiplier = q + 16, Shift = q + 32, Low = Low, High = High, ZeroPoint = OutputZeroPoint };
                var rqLow = new Avx2Requantize(&tile, 0);
                var rqHigh = new Avx2Requantize(&tile, 8);
                byte* x = image + (iy0 * rowBytes) + ((long)((oxLo * SW) - PadLeft) * C) + c0;
                byte* o = outRow + ((long)oxLo * OutStride) + c0;
                for (int ox = oxLo; ox < oxHi; ox++, x += step, o += OutStride)
                {
                    Vector256<short> x0 = Avx2.ConvertToVector256Int16(x).AsInt16();
                    Vector256<short> x1 = Avx2.ConvertToVector256Int16(x + dx).AsInt16();
                    Vector256<int> accLow = Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x0, x1), w0l);
                    Vector256<int> accHigh = Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x0, x1), w0h);
                    Vector256<short> x2 = Avx2.ConvertToVector256Int16(x + (2 * dx)).AsInt16();
                    Vector256<short> x3 = Avx2.ConvertToVector256Int16(x + dy).AsInt16();
                    accLow = Avx2.Add(accLow, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x2, x3), w1l));
                    accHigh = Avx2.Add(accHigh, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x2, x3), w1h));
                    Vector256<short> x4 = Avx2.ConvertToVector256Int16(x + dy + dx).AsInt16();
                    Vector256<short> x5 = Avx2.ConvertToVector256Int16(x + dy + (2 * dx)).AsInt16();
                    accLow = Avx2.Add(accLow, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x4, x5), w2l));
                    accHigh = Avx2.Add(accHigh, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x4, x5), w2h));
                    Vector256<short> x6 = Avx2.ConvertToVector256Int16(x + (2 * dy)).AsInt16();
                    Vector256<short> x7 = Avx2.ConvertToVector256Int16(x + (2 * dy) + dx).AsInt16();
                    accLow = Avx2.Add(accLow, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x6, x7), w3l));
                    accHigh = Avx2.Add(accHigh, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x6, x7), w3h));
                    Vector256<short> x8 = Avx2.ConvertToVector256Int16(x + (2 * dy) + (2 * dx)).AsInt16();
                    accLow = Avx2.Add(accLow, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x8, x8), w4l));
                    accHigh = Avx2.Add(accHigh, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x8, x8), w4h));

                    // Lanes [0–3, 8–11] and [4–7, 12–15] pack back into channel order 0–15 (in-lane packs, then one qword permute).
                    Vector256<short> words = Avx2.PackSignedSaturate(rqLow.Apply(accLow), rqHigh.Apply(accHigh));
                    Vector256<byte> bytes = Avx2.PackUnsignedSaturate(words, words);
                    Avx.Store(o, Avx2.Permute4x64(bytes.AsUInt64(), 0b_00_00_10_00).AsByte().GetLower());
                }
            }
        }

        /// <summary><see cref="Interior3x3"/> on 32 channels per step (zmm), for layers with at least 32 channels.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Interior3x3Avx512(byte* image, int iy0, int oxLo, int oxHi, byte* outRow)
        {
            const int Width = 2 * Block;
            long rowBytes = (long)W * C;
            long dy = DH * rowBytes, dx = (long)DW * C, step = (long)SW * C;
            int blocks = (C + Width - 1) / Width;
            Vector512<ulong> evenQwords = Vector512.Create(0UL, 2, 4, 6, 0, 0, 0, 0);
            for (int b = 0; b < blocks; b++)
            {
                int c0 = Math.Min(b * Width, C - Width);
                short* w = PairWeights + ((long)b * 10 * Width);
                Vector512<short> w0l = Avx512BW.LoadVector512(w), w0h = Avx512BW.LoadVector512(w + 32);
                Vector512<short> w1l = Avx512BW.LoadVector512(w + 64), w1h = Avx512BW.LoadVector512(w + 96);
                Vector512<short> w2l = Avx512BW.LoadVector512(w + 128), w2h = Avx512BW.LoadVector512(w + 160);
                Vector512<short> w3l = Avx512BW.LoadVector512(w + 192), w3h = Avx512BW.LoadVector512(w + 224);
                Vector512<short> w4l = Avx512BW.LoadVector512(w + 256), w4h = Avx512BW.LoadVector512(w + 288);
                int* q = BlockParameters + ((long)b * 3 * Width);
                var tile = new RequantizeTile { Bias = q, Multiplier = q + Width, Shift = q + (2 * Width), Low = Low, High = High, ZeroPoint = OutputZeroPoint };
                var rqLow = new Avx512Requantize(&tile, 0);
                var rqHigh = new Avx512Requantize(&tile, 16);
                byte* x = image + (iy0 * rowBytes) + ((long)((oxLo * SW) - PadLeft) * C) + c0;
                byte* o = outRow + ((long)oxLo * OutStride) + c0;
                for (int ox = oxLo; ox < oxHi; ox++, x += step, o += OutStride)
                {
                    Vector512<short> x0 = Widen(x), x1 = Widen(x + dx);
                    Vector512<int> accLow = Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(x0, x1), w0l);
                    Vector512<int> accHigh = Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(x0, x1), w0h);
                    Vector512<short> x2 = Widen(x + (2 * dx)), x3 = Widen(x + dy);
                    accLow = Avx512F.Add(accLow, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(x2, x3), w1l));
                    accHigh = Avx512F.Add(accHigh, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(x2, x3), w1h));
                    Vector512<short> x4 = Widen(x + dy + dx), x5 = Widen(x + dy + (2 * dx));
                    accLow = Avx512F.Add(accLow, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(x4, x5), w2l));
                    accHigh = Avx512F.Add(accHigh, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(x4, x5), w2h));
                    Vector512<short> x6 = Widen(x + (2 * dy)), x7 = Widen(x + (2 * dy) + dx);
                    accLow = Avx512F.Add(accLow, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(x6, x7), w3l));
                    accHigh = Avx512F.Add(accHigh, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(x6, x7), w3h));
                    Vector512<short> x8 = Widen(x + (2 * dy) + (2 * dx));
                    accLow = Avx512F.Add(accLow, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(x8, x8), w4l));
                    accHigh = Avx512F.Add(accHigh, Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(x8, x8), w4h));

                    Vector512<short> words = Avx512BW.PackSignedSaturate(rqLow.Apply(accLow), rqHigh.Apply(accHigh));
                    Vector512<byte> bytes = Avx512BW.PackUnsignedSaturate(words, words);
                    Avx.Store(o, Avx512F.PermuteVar8x64(bytes.AsUInt64(), evenQwords).AsByte().GetLower());
                }
            }
        }

        /// <summary>
        /// <see cref="Interior3x3Avx512"/> for stride 1 (dilation 1 across): the window slides one input column per output pixel,
        /// so each input column is widened and unpacked once (3 vpmovzxbw, 4 unpacks) and its pairs serve three pixels
        /// (<see cref="PackColumns3x3"/>): 7 shuffles and 12 vpmaddwd per pixel and block instead of 19 and 10.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Interior3x3S1Avx512(byte* image, int iy0, int oxLo, int oxHi, byte* outRow)
        {
            const int Width = 2 * Block;
            long rowBytes = (long)W * C;
            long dy = DH * rowBytes;
            int blocks = (C + Width - 1) / Width;
            Vector512<ulong> evenQwords = Vector512.Create(0UL, 2, 4, 6, 0, 0, 0, 0);
            for (int b = 0; b < blocks; b++)
            {
                int c0 = Math.Min(b * Width, C - Width);
                short* w = ColumnWeights + ((long)b * 12 * Width);
                int* q = BlockParameters + ((long)b * 3 * Width);
                var tile = new RequantizeTile { Bias = q, Multiplier = q + Width, Shift = q + (2 * Width), Low = Low, High = High, ZeroPoint = OutputZeroPoint };
                var rqLow = new Avx512Requantize(&tile, 0);
                var rqHigh = new Avx512Requantize(&tile, 16);
                byte* x = image + (iy0 * rowBytes) + ((long)(oxLo - PadLeft) * C) + c0;
                byte* o = outRow + ((long)oxLo * OutStride) + c0;
                Column(x, dy, out var a0l, out var a0h, out var b0l, out var b0h);
                Column(x + C, dy, out var a1l, out var a1h, out var b1l, out var b1h);
                for (int ox = oxLo; ox < oxHi; ox++, x += C, o += OutStride)
                {
                    Column(x + (2 * C), dy, out var a2l, out var a2h, out var b2l, out var b2h);
                    Vector512<int> accLow = Avx512F.Add(
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(a0l, Avx512BW.LoadVector512(w)), Avx512BW.MultiplyAddAdjacent(a1l, Avx512BW.LoadVector512(w + 64))),
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(a2l, Avx512BW.LoadVector512(w + 128)), Avx512BW.MultiplyAddAdjacent(b0l, Avx512BW.LoadVector512(w + 192))));
                    accLow = Avx512F.Add(
                        accLow,
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(b1l, Avx512BW.LoadVector512(w + 256)), Avx512BW.MultiplyAddAdjacent(b2l, Avx512BW.LoadVector512(w + 320))));
                    Vector512<int> accHigh = Avx512F.Add(
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(a0h, Avx512BW.LoadVector512(w + 32)), Avx512BW.MultiplyAddAdjacent(a1h, Avx512BW.LoadVector512(w + 96))),
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(a2h, Avx512BW.LoadVector512(w + 160)), Avx512BW.MultiplyAddAdjacent(b0h, Avx512BW.LoadVector512(w + 224))));
                    accHigh = Avx512F.Add(
                        accHigh,
                        Avx512F.Add(Avx512BW.MultiplyAddAdjacent(b1h, Avx512BW.LoadVector512(w + 288)), Avx512BW.MultiplyAddAdjacent(b2h, Avx512BW.LoadVector512(w + 352))));

                    Vector512<short> words = Avx512BW.PackSignedSaturate(rqLow.Apply(accLow), rqHigh.Apply(accHigh));
                    Vector512<byte> bytes = Avx512BW.PackUnsignedSaturate(words, words);
                    Avx.Store(o, Avx512F.PermuteVar8x64(bytes.AsUInt64(), evenQwords).AsByte().GetLower());
                    (a0l, a0h, b0l, b0h) = (a1l, a1h, b1l, b1h);
                    (a1l, a1h, b1l, b1h) = (a2l, a2h, b2l, b2h);
                }
            }
        }

        /// <summary>One input column of a 3×3 window: rows 0 and 1 interleaved (lo, hi), row 2 with zeros (lo, hi).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Column(byte* p, long dy, out Vector512<short> pairLow, out Vector512<short> pairHigh, out Vector512<short> lastLow, out Vector512<short> lastHigh)
        {
            Vector512<short> r0 = Widen(p), r1 = Widen(p + dy), r2 = Widen(p + (2 * dy));
            pairLow = Avx512BW.UnpackLow(r0, r1);
            pairHigh = Avx512BW.UnpackHigh(r0, r1);
            lastLow = Avx512BW.UnpackLow(r2, Vector512<short>.Zero);
            lastHigh = Avx512BW.UnpackHigh(r2, Vector512<short>.Zero);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<short> Widen(byte* p) => Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(p)).AsInt16();
    }
}
