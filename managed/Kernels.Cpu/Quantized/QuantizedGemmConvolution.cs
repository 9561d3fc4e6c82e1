using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// int8 convolution as GEMM: C[pixels × OC/groups] = A[pixels × K] · B[K × OC/groups] per group, B the int8
/// weights (K = KH·KW·IC/groups, OHWI order) packed once per group. A 1×1 stride-1 unpadded ungrouped layer
/// multiplies the NHWC input rows directly (lda = IC); every other layer gathers im2col rows into a per-thread
/// block of at most <see cref="BlockBytes"/> (padding is the input zero point, i.e. real 0; split among the workers)
/// and multiplies block by block. The output block is written with ldc = the output pixel stride, so a concat slice costs nothing.
/// </summary>
internal sealed unsafe class QuantizedGemmConvolution : QuantizedConvolution
{
    // An im2col block of 512 KiB stays in L2 next to the GEMM's own packed A block (256 KiB).
    private const int BlockBytes = 512 * 1024;

    [ThreadStatic]
    private static ScratchBuffer? t_im2col;

    private readonly QuantizedGemm _gemm;
    private readonly QuantizedPackedWeights[] _groups;
    private readonly bool _direct;
    private readonly QuantizedOutput _store;

    public QuantizedGemmConvolution(Conv2DDescriptor d, QuantizedChannels channels, QuantizationParameters input, QuantizationParameters output, QuantizedOutput clamp, QuantizedGemm gemm)
        : base(
            $"qu8-conv-{(IsDirect(d) ? "1x1" : "im2col")}-{gemm.Kernel.Name}",
            d,
            input,
            output,
            clamp,
            channels.WeightScales)
    {
        _gemm = gemm;
        _direct = IsDirect(d);
        _store = clamp;
        int k = d.ReductionLength, n = d.GroupOutputChannels;
        _groups = new QuantizedPackedWeights[d.Groups];
        var b = new sbyte[(long)k * n];
        for (int g = 0; g < d.Groups; g++)
        {
            for (int o = 0; o < n; o++)
            {
                long src = (long)((g * n) + o) * k;
                for (int p = 0; p < k; p++)
                {
                    b[(p * n) + o] = channels.Weights[src + p];
                }
            }

            _groups[g] = gemm.PackB(
                k, n, b, n, channels.Bias.AsSpan(g * n, n), channels.Multipliers.AsSpan(g * n, n), channels.Shifts.AsSpan(g * n, n), (byte)input.ZeroPoint);
        }
    }

    private static bool IsDirect(Conv2DDescriptor d) =>
        d.KernelHeight == 1 && d.KernelWidth == 1 && d.StrideHeight == 1 && d.StrideWidth == 1 && d.Groups == 1
        && d.PadTop == 0 && d.PadLeft == 0 && d.PadBottom == 0 && d.PadRight == 0;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private protected override void Execute(byte* input, byte* output, WorkerGroup? workers)
    {
        var d = Descriptor;
        int pixels = d.Batch * d.OutputHeight * d.OutputWidth;
        int ldc = d.EffectiveOutputPixelStride;
        int n = d.GroupOutputChannels;
        if (_direct)
        {
            int ic = d.InputChannels;
            _gemm.Multiply(
                pixels, new ReadOnlySpan<byte>(input, (int)d.InputLength), ic, _groups[0], new Span<byte>(output, (int)d.OutputLength), ldc, _store, workers);
            return;
        }

        int k = d.ReductionLength;
        int blockRows = Math.Clamp(BlockBytes / k, 1, pixels);
        byte* block = (byte*)ScratchBuffer.Get(ref t_im2col, (((long)blockRows * k) + 3) / 4);
        for (int r0 = 0; r0 < pixels; r0 += blockRows)
        {
            int rows = Math.Min(blockRows, pixels - r0);
            for (int g = 0; g < d.Groups; g++)
            {
                if (workers is null || workers.ThreadCount == 1)
                {
                    Im2Col(d, input, g, r0, rows, block);
                }
                else
                {
                    var gather = new Im2ColRows { Owner = this, Input = input, Group = g, FirstRow = r0, Block = block, RowBytes = k };
                    workers.ParallelFor(rows, ref gather);
                }

                byte* c = output + ((long)r0 * ldc) + (g * n);
                _gemm.Multiply(
                    rows, new ReadOnlySpan<byte>(block, rows * k), k, _groups[g], new Span<byte>(c, ((rows - 1) * ldc) + n), ldc, _store, workers);
            }
        }
    }

    /// <summary>Rows [r0, r0 + rows) of group g's im2col matrix: each row one output pixel's KH·KW·IC/groups inputs in OHWI order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Im2Col(Conv2DDescriptor d, byte* input, int g, int r0, int rows, byte* block)
    {
        int h = d.InputHeight, w = d.InputWidth, ic = d.InputChannels, icg = d.GroupInputChannels;
        int oh = d.OutputHeight, ow = d.OutputWidth;
        byte zeroPoint = (byte)Input.ZeroPoint;
        bool contiguous = d.Groups == 1 && d.DilationWidth == 1;
        int rowBytes = d.KernelWidth * ic;
        byte* dst = block;
        for (int r = r0; r < r0 + rows; r++)
        {
            int nImage = r / (oh * ow), rest = r % (oh * ow);
            int oy = rest / ow, ox = rest % ow;
            byte* image = input + ((long)nImage * h * w * ic) + (g * icg);
            int ix0 = (ox * d.StrideWidth) - d.PadLeft;
            bool rowInside = contiguous && ix0 >= 0 && ix0 + d.KernelWidth <= w;
            for (int ky = 0; ky < d.KernelHeight; ky++)
            {
                int iy = (oy * d.StrideHeight) - d.PadTop + (ky * d.DilationHeight);
                if (rowInside && (uint)iy < (uint)h)
                {
                    // Ungrouped, undilated, all KW taps inside: one run of KW·IC input bytes.
                    Copy(dst, image + ((((long)iy * w) + ix0) * ic), rowBytes);
                    dst += rowBytes;
                    continue;
                }

                for (int kx = 0; kx < d.KernelWidth; kx++)
                {
                    int ix = ix0 + (kx * d.DilationWidth);
                    if ((uint)iy < (uint)h && (uint)ix < (uint)w)
                    {
                        Copy(dst, image + ((((long)iy * w) + ix) * ic), icg);
                    }
                    else
                    {
                        Unsafe.InitBlockUnaligned(dst, zeroPoint, (uint)icg);
                    }

                    dst += icg;
                }
            }
        }
    }

    /// <summary>A copy that does not call memmove for the few bytes of a first layer's taps (3 channels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(byte* dst, byte* src, int count)
    {
        if (count >= 16)
        {
            Unsafe.CopyBlockUnaligned(dst, src, (uint)count);
            return;
        }

        int i = 0;
        for (; i + 4 <= count; i += 4)
        {
            Unsafe.WriteUnaligned(dst + i, Unsafe.ReadUnaligned<uint>(src + i));
        }

        for (; i < count; i++)
        {
            dst[i] = src[i];
        }
    }

    /// <summary>im2col rows split among the workers (the GEMM that follows is split again by its own tiles).</summary>
    private struct Im2ColRows : IRangeBody
    {
        public QuantizedGemmConvolution Owner;
        public byte* Input, Block;
        public int Group, FirstRow, RowBytes;

        public readonly void Execute(int begin, int end) =>
            Owner.Im2Col(Owner.Descriptor, Input, Group, FirstRow + begin, end - begin, Block + ((long)begin * RowBytes));
    }

    private protected override void Free()
    {
        foreach (var packed in _groups)
        {
            packed.Dispose();
        }
    }
}
