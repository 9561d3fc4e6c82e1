using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;
using Kernels.Cpu.Native;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// int8 convolution as an indirect GEMM (XNNPACK's "igemm" idea) on the C AVX-512 VNNI tile: no im2col matrix and
/// no packing of A. For each block of 12 output pixels the driver writes, per tap, 12 pointers into the NHWC
/// input, and the micro-kernel broadcasts 4 bytes at a time from them; a tap that falls in the padding points at
/// a buffer of input zero points (real 0). Each block's pointers are reused for every 32-channel panel of B.
/// <para>
/// Two kinds of tap. With the group's channels a multiple of 4, a tap is one input pixel (KH·KW taps of
/// IC/groups bytes). Otherwise (first layers: 3 channels) a tap is one kernel row, the KW·IC bytes that are
/// contiguous in the input (KH taps, undilated columns, no groups), read rounded up to 4 bytes: the extra bytes
/// belong to the next pixel and meet zero weights. A row that is partly outside the image, or whose rounded read
/// would pass the input's end, is assembled in a per-thread buffer instead.
/// </para>
/// The weights are packed once per group with each tap's K rounded up to a multiple of 4; the arithmetic (exact
/// int32 sums, then one requantization) is the same as <see cref="QuantizedGemmConvolution"/>, so the two agree bit for bit.
/// </summary>
internal sealed unsafe class QuantizedIndirectConvolution : QuantizedConvolution
{
    private const int MR = NativeQuantizedKernels.MR;
    private const int NR = NativeQuantizedKernels.NR;

    [ThreadStatic]
    private static ScratchBuffer? t_rows;

    private readonly QuantizedPackedWeights[] _groups;
    private readonly NativeBuffer<byte> _zeros;
    private readonly NativeBuffer<nint> _tapOffsets;
    private readonly QuantizedOutput _store;
    private readonly bool _rowTaps;
    private readonly int _taps;
    private readonly int _tapBytes;
    private readonly int _tapStride;

    // The geometry BuildRows reads for every block, copied out of the descriptor (whose output sizes are computed).
    private readonly int _h, _w, _ic, _oh, _ow, _sh, _sw, _padTop, _padLeft, _lastY, _lastX, _pixels, _groupChannels;
    private readonly long _imageBytes, _inputLength;

    public QuantizedIndirectConvolution(Conv2DDescriptor d, QuantizedChannels channels, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, QuantizedGemm gemm)
        : base($"qu8-conv-indirect-{gemm.Kernel.Name}", d, input, output, clamp, channels.WeightScales)
    {
        if (!Applies(d, gemm.Kernel))
        {
            throw new ArgumentException($"The indirect int8 convolution does not apply to {d} on {gemm.Kernel.Name}.", nameof(d));
        }

        _store = clamp;
        _rowTaps = d.GroupInputChannels % 4 != 0;
        _taps = _rowTaps ? d.KernelHeight : d.KernelHeight * d.KernelWidth;
        _tapBytes = _rowTaps ? d.KernelWidth * d.InputChannels : d.GroupInputChannels;
        _tapStride = (_tapBytes + 3) & ~3;
        (_h, _w, _ic, _oh, _ow) = (d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth);
        (_sh, _sw, _padTop, _padLeft) = (d.StrideHeight, d.StrideWidth, d.PadTop, d.PadLeft);
        (_lastY, _lastX) = ((d.KernelHeight - 1) * d.DilationHeight, (d.KernelWidth - 1) * d.DilationWidth);
        (_pixels, _groupChannels, _imageBytes, _inputLength) = (d.Batch * _oh * _ow, d.GroupInputChannels, (long)_h * _w * _ic, d.InputLength);
        _zeros = new NativeBuffer<byte>(_tapStride, zero: false);
        _zeros.AsSpan().Fill((byte)input.ZeroPoint);

        // Byte offset of each tap from the window's top-left input pixel (used where the whole window is inside).
        _tapOffsets = new NativeBuffer<nint>(_taps, zero: true);
        for (int t = 0; t < _taps; t++)
        {
            int ky = _rowTaps ? t : t / d.KernelWidth, kx = _rowTaps ? 0 : t % d.KernelWidth;
            _tapOffsets.Pointer[t] = (((nint)ky * d.DilationHeight * d.InputWidth) + ((nint)kx * d.DilationWidth)) * d.InputChannels;
        }

        // B per group: K' = taps × tapStride rows, tap t's rows j < tapBytes holding OHWI weight t·tapBytes + j (both
        // kinds of tap are contiguous runs of the OHWI reduction), the rounding rows zero.
        int k = d.ReductionLength, n = d.GroupOutputChannels, kPadded = _taps * _tapStride;
        _groups = new QuantizedPackedWeights[d.Groups];
        var b = new sbyte[(long)kPadded * n];
        for (int g = 0; g < d.Groups; g++)
        {
            for (int o = 0; o < n; o++)
            {
                long src = (long)((g * n) + o) * k;
                for (int t = 0; t < _taps; t++)
                {
                    for (int j = 0; j < _tapBytes; j++)
                    {
                        b[(((t * _tapStride) + j) * n) + o] = channels.Weights[src + (t * _tapBytes) + j];
                    }
                }
            }

            _groups[g] = gemm.PackB(
                kPadded, n, b, n, channels.Bias.AsSpan(g * n, n), channels.Multipliers.AsSpan(g * n, n), channels.Shifts.AsSpan(g * n, n), (byte)input.ZeroPoint);
        }
    }

    /// <summary>
    /// True when the layer can run indirectly on <paramref name="kernel"/>: the C VNNI tile, groups of a multiple of 4
    /// channels (pixel taps) or ungrouped with undilated columns (row taps), and a padded reduction within the GEMM's limit.
    /// </summary>
    public static bool Applies(Conv2DDescriptor d, QuantizedGemmMicroKernel kernel)
    {
        if (kernel.Name != QuantizedGemmKernels.Avx512VnniName || !NativeQuantizedKernels.CanRunAvx512Vnni || d.IsDepthwise)
        {
            return false;
        }

        bool pixelTaps = d.GroupInputChannels % 4 == 0;
        if (!pixelTaps && (d.Groups != 1 || d.DilationWidth != 1))
        {
            return false;
        }

        long tapBytes = pixelTaps ? d.GroupInputChannels : (long)d.KernelWidth * d.InputChannels;
        long taps = pixelTaps ? (long)d.KernelHeight * d.KernelWidth : d.KernelHeight;
        return taps * ((tapBytes + 3) & ~3L) <= QuantizedGemm.MaxK;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void Execute(byte* input, byte* output, WorkerGroup? workers)
    {
        var work = new Work { Owner = this, Input = input, Output = output };
        if (workers is null || workers.ThreadCount == 1)
        {
            work.Execute(0, 1);
        }
        else
        {
            workers.Run(ref work);
        }
    }

    /// <summary>
    /// The 12 × taps row pointers of the 12 output pixels from <paramref name="at"/> (advanced past them) of group g
    /// (tap-major); rows past the last pixel and taps in the padding point at the zero-point buffer; partial kernel
    /// rows are assembled in <paramref name="assembled"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void BuildRows(byte* input, ref Position at, int g, byte** rows, byte* assembled)
    {
        var d = Descriptor;
        int h = _h, w = _w, ic = _ic, oh = _oh, ow = _ow, taps = _taps;
        // Window origins with every tap inside: iy0 in [0, h − lastY), ix0 in [0, w − lastX) (empty when the window is the larger).
        uint insideRows = (uint)Math.Max(0, h - _lastY), insideColumns = (uint)Math.Max(0, w - _lastX);
        byte* zeros = _zeros.Pointer;
        nint* tapOffsets = _tapOffsets.Pointer;
        byte* readEnd = input + _inputLength - _tapStride + _tapBytes;
        nint lastTapEnd = tapOffsets[taps - 1] + _tapBytes;
        byte* groupInput = input + (g * _groupChannels);
        int image = at.Image, oy = at.Y, ox = at.X;
        if (image < d.Batch && ox + MR <= ow)
        {
            // All 12 pixels on one output row: when the first and the last window are inside, so is every one between,
            // and pixel i's pointers are the first's plus i·stride·channels.
            int iy0 = (oy * _sh) - _padTop, ix0 = (ox * _sw) - _padLeft;
            nint step = (nint)_sw * ic;
            byte* window = groupInput + (image * _imageBytes) + ((((long)iy0 * w) + ix0) * ic);
            if ((uint)iy0 < insideRows && (uint)ix0 < insideColumns && (uint)(ix0 + ((MR - 1) * _sw)) < insideColumns
                && window + ((MR - 1) * step) + lastTapEnd <= readEnd)
            {
                RowOfWindows(rows, window, step, tapOffsets, taps);
                ox += MR;
                at = ox == ow ? (oy + 1 == oh ? new Position(image + 1, 0, 0) : new Position(image, oy + 1, 0)) : new Position(image, oy, ox);
                return;
            }
        }

        for (int i = 0; i < MR; i++)
        {
            if (image >= d.Batch)
            {
                for (int t = 0; t < taps; t++)
                {
                    rows[(t * MR) + i] = zeros;
                }

                continue;
            }

            byte* imageBase = groupInput + (image * _imageBytes);
            int iy0 = (oy * _sh) - _padTop, ix0 = (ox * _sw) - _padLeft;
            byte* window = imageBase + ((((long)iy0 * w) + ix0) * ic);
            if ((uint)iy0 < insideRows && (uint)ix0 < insideColumns && window + lastTapEnd <= readEnd)
            {
                // The whole window inside (and a row tap's rounded read inside the input): one add per tap.
                for (int t = 0; t < taps; t++)
                {
                    rows[(t * MR) + i] = window + tapOffsets[t];
                }
            }
            else
            {
                EdgeRow(input, imageBase, iy0, ix0, rows + i, assembled + (i * _tapStride));
            }

            if (++ox == ow)
            {
                ox = 0;
                if (++oy == oh)
                {
                    oy = 0;
                    image++;
                }
            }
        }

        at = new Position(image, oy, ox);
    }

    /// <summary>rows[t·12 + i] = window + i·step + tapOffsets[t] for the 12 pixels of a block on one output row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowOfWindows(byte** rows, byte* window, nint step, nint* tapOffsets, int taps)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            var lanes = Vector256.Create(0L, 1L, 2L, 3L) * (long)step;
            var four = Vector256.Create(4L * step);
            for (int t = 0; t < taps; t++)
            {
                var first = Vector256.Create((long)(window + tapOffsets[t])) + lanes;
                long* slot = (long*)(rows + (t * MR));
                first.Store(slot);
                (first + four).Store(slot + 4);
                (first + four + four).Store(slot + 8);
            }

            return;
        }

        for (int t = 0; t < taps; t++)
        {
            byte* p = window + tapOffsets[t];
            byte** slot = rows + (t * MR);
            for (int i = 0; i < MR; i++)
            {
                slot[i] = p + (i * step);
            }
        }
    }

    /// <summary>
    /// The taps of one output pixel whose window is not wholly inside: rows[t·12] for each tap t (zero-point buffer
    /// outside; a partial kernel row assembled at assembled + t·12·tapStride). Kept out of <see cref="BuildRows"/>'s loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EdgeRow(byte* input, byte* imageBase, int iy0, int ix0, byte** rows, byte* assembled)
    {
        var d = Descriptor;
        int h = _h, w = _w, ic = _ic;
        byte* zeros = _zeros.Pointer;
        byte zeroPoint = (byte)Input.ZeroPoint;
        byte* readEnd = input + _inputLength - _tapStride + _tapBytes;
        if (!_rowTaps)
        {
            for (int ky = 0; ky < d.KernelHeight; ky++)
            {
                int iy = iy0 + (ky * d.DilationHeight);
                byte** tapRow = rows + (ky * d.KernelWidth * MR);
                for (int kx = 0; kx < d.KernelWidth; kx++)
                {
                    int ix = ix0 + (kx * d.DilationWidth);
                    tapRow[kx * MR] = (uint)iy < (uint)h && (uint)ix < (uint)w ? imageBase + ((((long)iy * w) + ix) * ic) : zeros;
                }
            }
        }
        else
        {
            for (int ky = 0; ky < d.KernelHeight; ky++)
            {
                int iy = iy0 + (ky * d.DilationHeight);
                byte** slot = rows + (ky * MR);
                if ((uint)iy >= (uint)h)
                {
                    *slot = zeros;
                    continue;
                }

                byte* source = imageBase + ((((long)iy * w) + ix0) * ic);
                if (ix0 >= 0 && ix0 + d.KernelWidth <= w && source + _tapBytes <= readEnd)
                {
                    *slot = source;
                    continue;
                }

                // Partly outside (or the rounded read would pass the input's end): assembled, zero points outside.
                byte* dst = assembled + (ky * MR * _tapStride);
                for (int kx = 0; kx < d.KernelWidth; kx++)
                {
                    int ix = ix0 + kx;
                    if ((uint)ix < (uint)w)
                    {
                        Unsafe.CopyBlockUnaligned(dst + (kx * ic), imageBase + ((((long)iy * w) + ix) * ic), (uint)ic);
                    }
                    else
                    {
                        Unsafe.InitBlockUnaligned(dst + (kx * ic), zeroPoint, (uint)ic);
                    }
                }

                Unsafe.InitBlockUnaligned(dst + _tapBytes, zeroPoint, (uint)(_tapStride - _tapBytes));
                *slot = dst;
            }
        }
    }

    /// <summary>An output pixel: image, row, column.</summary>
    private readonly record struct Position(int Image, int Y, int X);

    /// <summary>Each worker owns a rectangle of (12-pixel block, 32-channel panel) tiles, as the GEMM splits them.</summary>
    private struct Work : IParallelWork
    {
        public QuantizedIndirectConvolution Owner;
        public byte* Input, Output;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int worker, int workerCount)
        {
            var owner = Owner;
            var d = owner.Descriptor;
            int pixels = d.Batch * d.OutputHeight * d.OutputWidth;
            int n = d.GroupOutputChannels;
            int mPanels = (pixels + MR - 1) / MR;
            int nPanels = (n + NR - 1) / NR;
            TileGrid.Split(mPanels, nPanels, workerCount, out int tilesM, out int tilesN);
            if (worker >= tilesM * tilesN)
            {
                return;
            }

            int wm = worker / tilesN, wn = worker % tilesN;
            int mp0 = (int)((long)mPanels * wm / tilesM), mp1 = (int)((long)mPanels * (wm + 1) / tilesM);
            int np0 = (int)((long)nPanels * wn / tilesN), np1 = (int)((long)nPanels * (wn + 1) / tilesN);
            if (mp0 == mp1 || np0 == np1)
            {
                return;
            }

            int taps = owner._taps, groupsPerTap = owner._tapStride / 4;
            long pointerBytes = (long)taps * MR * sizeof(nint);
            long assembledBytes = owner._rowTaps ? (long)taps * MR * owner._tapStride : 0;
            byte* scratch = (byte*)ScratchBuffer.Get(ref t_rows, ((pointerBytes + assembledBytes) / 4) + 1);
            byte** rows = (byte**)scratch;
            byte* assembled = scratch + pointerBytes;
            nint ldc = d.EffectiveOutputPixelStride;
            RequantizeTile tile = default;
            tile.Low = owner._store.Min - owner._store.ZeroPoint;
            tile.High = owner._store.Max - owner._store.ZeroPoint;
            tile.ZeroPoint = owner._store.ZeroPoint;
            int first = mp0 * MR, perImage = d.OutputHeight * d.OutputWidth;
            var start = new Position(first / perImage, first % perImage / d.OutputWidth, first % d.OutputWidth);
            for (int mp = mp0; mp < mp1; mp++)
            {
                int r0 = mp * MR, m = Math.Min(MR, pixels - r0);
                Position next = start;
                for (int g = 0; g < owner._groups.Length; g++)
                {
                    var packed = owner._groups[g];
                    next = start;
                    owner.BuildRows(Input, ref next, g, rows, assembled);
                    long panelBytes = (long)packed.Groups * NR * 4;
                    byte* c = Output + (r0 * ldc) + (g * n);
                    for (int np = np0; np < np1; np++)
                    {
                        int col0 = np * NR;
                        tile.Bias = packed.Bias + col0;
                        tile.Multiplier = packed.Multiplier + col0;
                        tile.Shift = packed.Shift + col0;
                        NativeQuantizedKernels.Avx512Vnni12x32Indirect(
                            taps, groupsPerTap, rows, packed.Panels + (np * panelBytes), c + col0, ldc, m, Math.Min(NR, n - col0), &tile);
                    }
                }

                start = next;
            }
        }
    }

    private protected override void Free()
    {
        foreach (var packed in _groups)
        {
            packed.Dispose();
        }

        _zeros.Dispose();
        _tapOffsets.Dispose();
    }
}
