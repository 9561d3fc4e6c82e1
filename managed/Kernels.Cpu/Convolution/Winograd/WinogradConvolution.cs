using System.Runtime.CompilerServices;
using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// The Winograd convolution driver shared by F(4x4,3x3) and F(2x2,3x3). Plan time: the filters are transformed
/// (<see cref="WinogradTile.TransformFilter"/>) and each of the Alpha² positions' [IC×OC] matrices packed into
/// the NR-column panels of the ISA's SGEMM micro-kernel. Run time, per block of T output tiles: the input
/// transform writes straight into the micro-kernel's packed A layout (MR tiles per panel, so no separate pack),
/// Alpha² GEMMs [T×IC]·[IC×OC] run on the micro-kernel, and the output transform adds bias, applies the
/// activation and stores the (possibly partial) m×m tiles into the NHWC output. Blocks of tiles are split
/// statically across the worker group; scratch is per thread and only grows.
/// </summary>
internal sealed unsafe class WinogradConvolution : ConvolutionKernel
{
    // Transformed input + GEMM output of one tile block should stay in L2 while the transforms and the Alpha²
    // GEMMs pass over it (1 MiB L2 per core on Zen 4, 512 KiB-1 MiB on Cortex-A7x). Half of it leaves room for the
    // B panels streaming through. A sweep on Zen 4 (AVX-512, 1 thread) of 12, 24, 48 and 96 tiles moved
    // 56x56x64 F4 only between 0.90 and 0.94 ms and 28x28x128 between 0.82 and 0.92 ms (noise level), so the
    // budget rule stays; at least 2·MR tiles keep each B panel reused by two A panels.
    private const long BlockBudgetBytes = 512 * 1024;
    private const int TmpFloats = 36 * 16;

    [ThreadStatic]
    private static ScratchBuffer? t_scratch;

    private readonly WinogradTile _tile;
    private readonly delegate*<int, float*, float*, float*, nint, int, int, float*, float, float, int, void> _gemm;
    private readonly delegate*<float*, nint, nint, int, float*, nint, nint, float*, void> _inputTransform;
    private readonly delegate*<float*, nint, int, float*, float*, nint, nint, int, int, WinogradEpilogue, float*, void> _outputTransform;
    private readonly int _mr;
    private readonly int _nr;
    private readonly int _paddedOc;
    private readonly NativeBuffer<float> _packedWeights;
    private readonly NativeBuffer<float> _bias;
    private readonly WinogradEpilogue _epilogue;

    /// <summary>Transforms and packs the weights.</summary>
    public WinogradConvolution(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa, ConvolutionAlgorithm algorithm)
        : base(descriptor, algorithm, isa)
    {
        _tile = algorithm == ConvolutionAlgorithm.WinogradF4 ? WinogradTile.F4 : WinogradTile.F2;
        var kernel = isa.GemmKernel();
        _gemm = kernel.Function;
        _mr = kernel.MR;
        _nr = kernel.NR;
        bool f4 = _tile.M == 4;
        switch (isa)
        {
            case KernelIsa.Avx512:
                _inputTransform = f4 ? &WinogradKernelsAvx512.InputF4 : &WinogradKernelsAvx512.InputF2;
                _outputTransform = f4 ? &WinogradKernelsAvx512.OutputF4 : &WinogradKernelsAvx512.OutputF2;
                break;
            case KernelIsa.Avx2:
                _inputTransform = f4 ? &WinogradKernelsAvx2.InputF4 : &WinogradKernelsAvx2.InputF2;
                _outputTransform = f4 ? &WinogradKernelsAvx2.OutputF4 : &WinogradKernelsAvx2.OutputF2;
                break;
            default:
                _inputTransform = f4 ? &WinogradKernelsAdvSimd.InputF4 : &WinogradKernelsAdvSimd.InputF2;
                _outputTransform = f4 ? &WinogradKernelsAdvSimd.OutputF4 : &WinogradKernelsAdvSimd.OutputF2;
                break;
        }

        int ic = descriptor.InputChannels, oc = descriptor.OutputChannels, positions = _tile.Alpha * _tile.Alpha;
        _paddedOc = (oc + _nr - 1) / _nr * _nr;
        var u = _tile.TransformFilter(weights, ic, oc);
        _packedWeights = new NativeBuffer<float>((long)positions * ic * _paddedOc, zero: false);
        fixed (float* pu = u)
        {
            for (int p = 0; p < positions; p++)
            {
                SgemmPacking.PackB(_nr, ic, oc, pu + ((long)p * ic * oc), oc, _packedWeights.Pointer + ((long)p * ic * _paddedOc));
            }
        }

        _bias = new NativeBuffer<float>(oc, zero: true);
        bias.CopyTo(_bias.AsSpan());
        _epilogue = WinogradEpilogue.From(descriptor.Activation);

        long perTile = (long)positions * (ic + oc) * sizeof(float);
        int block = (int)Math.Clamp(BlockBudgetBytes / perTile, 2 * _mr, 16 * _mr);
        TileBlock = Math.Max(_mr, block / _mr * _mr);
    }

    /// <summary>Output tiles per block (a multiple of the micro-kernel's MR).</summary>
    public int TileBlock { get; }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void Execute(float* input, float* output, WorkerGroup? workers)
    {
        var d = Descriptor;
        int m = _tile.M;
        int tilesX = (d.OutputWidth + m - 1) / m;
        int tilesPerImage = ((d.OutputHeight + m - 1) / m) * tilesX;
        int total = d.Batch * tilesPerImage;
        int threads = workers?.ThreadCount ?? 1;

        // Smaller blocks when there are too few tiles to give every worker one.
        int perWorker = (total + threads - 1) / threads;
        int block = Math.Min(TileBlock, (perWorker + _mr - 1) / _mr * _mr);
        var work = new Work
        {
            Owner = this,
            Input = input,
            Output = output,
            Weights = _packedWeights.Pointer,
            Bias = _bias.Pointer,
            TilesX = tilesX,
            TilesPerImage = tilesPerImage,
            Total = total,
            Block = block,
        };

        if (workers is null || threads == 1)
        {
            work.Execute(0, 1);
        }
        else
        {
            workers.Run(ref work);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _packedWeights.Dispose();
        _bias.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBlock(in Work w, int t0, int count, float* scratch)
    {
        var d = Descriptor;
        int m = _tile.M, alpha = _tile.Alpha, positions = alpha * alpha;
        int ic = d.InputChannels, oc = d.OutputChannels, mr = _mr, nr = _nr;
        int h = d.InputHeight, wd = d.InputWidth, oh = d.OutputHeight, ow = d.OutputWidth;
        int block = w.Block;
        nint posA = (nint)block * ic;
        nint posC = (nint)block * oc;
        float* a = scratch;
        float* c = a + (positions * posA);
        float* patch = c + (positions * posC);
        float* tmp = patch + ((nint)positions * ic);

        for (int t = 0; t < count; t++)
        {
            int g = t0 + t;
            int n = g / w.TilesPerImage, r = g % w.TilesPerImage;
            int iy0 = ((r / w.TilesX) * m) - d.PadTop, ix0 = ((r % w.TilesX) * m) - d.PadLeft;
            float* dst = a + ((nint)(t / mr) * ic * mr) + (t % mr);
            if (iy0 >= 0 && ix0 >= 0 && iy0 + alpha <= h && ix0 + alpha <= wd)
            {
                float* src = w.Input + ((((long)n * h) + iy0) * wd + ix0) * ic;
                _inputTransform(src, (nint)wd * ic, ic, ic, dst, posA, mr, tmp);
            }
            else
            {
                FillPatch(w.Input + ((long)n * h * wd * ic), iy0, ix0, patch);
                _inputTransform(patch, (nint)alpha * ic, ic, ic, dst, posA, mr, tmp);
            }
        }

        // The micro-kernel computes whole MR-row panels: give the rows past the last tile zeros, not stale data.
        int filled = count % mr;
        if (filled != 0)
        {
            for (int p = 0; p < positions; p++)
            {
                float* panel = a + (p * posA) + ((nint)(count / mr) * ic * mr);
                for (int k = 0; k < ic; k++)
                {
                    new Span<float>(panel + (k * mr) + filled, mr - filled).Clear();
                }
            }
        }

        int panels = (count + mr - 1) / mr;
        for (int p = 0; p < positions; p++)
        {
            float* ap = a + (p * posA);
            float* bp = w.Weights + ((nint)p * ic * _paddedOc);
            float* cp = c + (p * posC);
            for (int col = 0; col < oc; col += nr)
            {
                float* panelB = bp + ((nint)col * ic);
                int cols = Math.Min(nr, oc - col);
                for (int q = 0; q < panels; q++)
                {
                    _gemm(ic, ap + ((nint)q * ic * mr), panelB, cp + ((nint)q * mr * oc) + col, oc, Math.Min(mr, count - (q * mr)), cols, null, 0f, 0f, 0);
                }
            }
        }

        int pixel = d.EffectiveOutputPixelStride;
        for (int t = 0; t < count; t++)
        {
            int g = t0 + t;
            int n = g / w.TilesPerImage, r = g % w.TilesPerImage;
            int oy0 = (r / w.TilesX) * m, ox0 = (r % w.TilesX) * m;
            float* dst = w.Output + (((((long)n * oh) + oy0) * ow) + ox0) * pixel;
            _outputTransform(
                c + ((nint)t * oc), posC, oc, w.Bias, dst, (nint)ow * pixel, pixel,
                Math.Min(m, oh - oy0), Math.Min(m, ow - ox0), _epilogue, tmp);
        }
    }

    /// <summary>Copies the part of an Alpha×Alpha patch at (iy0, ix0) that lies inside the image; the rest is the zero padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FillPatch(float* image, int iy0, int ix0, float* patch)
    {
        var d = Descriptor;
        int alpha = _tile.Alpha, ic = d.InputChannels;
        new Span<float>(patch, alpha * alpha * ic).Clear();
        int x0 = Math.Max(0, -ix0), x1 = Math.Min(alpha, d.InputWidth - ix0);
        if (x1 <= x0)
        {
            return;
        }

        long bytes = (long)(x1 - x0) * ic * sizeof(float);
        for (int y = Math.Max(0, -iy0); y < Math.Min(alpha, d.InputHeight - iy0); y++)
        {
            float* src = image + ((((long)(iy0 + y) * d.InputWidth) + ix0 + x0) * ic);
            Buffer.MemoryCopy(src, patch + (((y * alpha) + x0) * ic), bytes, bytes);
        }
    }

    /// <summary>One call: worker w owns a contiguous range of tile blocks.</summary>
    private struct Work : IParallelWork
    {
        public WinogradConvolution Owner;
        public float* Input, Output, Weights, Bias;
        public int TilesX, TilesPerImage, Total, Block;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int worker, int workerCount)
        {
            int blocks = (Total + Block - 1) / Block;
            int b0 = (int)((long)blocks * worker / workerCount), b1 = (int)((long)blocks * (worker + 1) / workerCount);
            if (b0 == b1)
            {
                return;
            }

            var owner = Owner;
            var d = owner.Descriptor;
            int positions = owner._tile.Alpha * owner._tile.Alpha;
            long floats = ((long)positions * Block * (d.InputChannels + d.OutputChannels)) + ((long)positions * d.InputChannels) + TmpFloats;
            float* scratch = ScratchBuffer.Get(ref t_scratch, floats);
            for (int b = b0; b < b1; b++)
            {
                int t0 = b * Block;
                owner.RunBlock(in this, t0, Math.Min(Block, Total - t0), scratch);
            }
        }
    }
}
