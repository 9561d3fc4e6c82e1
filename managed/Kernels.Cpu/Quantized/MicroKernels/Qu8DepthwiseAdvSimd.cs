using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>What the int8 depthwise pixel kernels need to know of a layer and of the current image.</summary>
internal unsafe struct QuantizedDepthwiseGeometry
{
    /// <summary>The current image (NHWC, uint8).</summary>
    public byte* Image;

    /// <summary>Bytes per input row: W·C.</summary>
    public nint RowBytes;

    public int Channels, KernelWidth, DilationHeight, DilationWidth;

    /// <summary>int16 weights [tap][channel], <see cref="WeightStride"/> apart per tap.</summary>
    public short* Weights;

    public nint WeightStride;

    public short InputZeroPoint;

    /// <summary>Per-channel bias, multiplier and shift (indexed by channel), the clamp and the output zero point.</summary>
    public RequantizeTile* Requantize;
}

/// <summary>
/// qu8-dwconv-advsimd: one output pixel of an int8 depthwise layer, 8 channels per step through the <see cref="Neon"/>
/// shim: per valid tap <c>ld1 {v.8b}</c>, <c>uxtl</c>, <c>sub</c> of the zero point (int16), <c>smlal</c>/<c>smlal2</c>
/// with the int16 weights into two int32 accumulators, then the GEMM kernels' requantizing store. A channel count that is
/// not a multiple of 8 (and at least 8) ends with a block shifted back to the last channel. No 3×3 interior special case
/// yet: every pixel loops over its clipped window.
/// </summary>
internal static unsafe class Qu8DepthwiseAdvSimd
{
    /// <summary>Channels [0, C) of one output pixel whose window is taps [ky0, ky1) × [kx0, kx1) at input (iy0, ix0); C ≥ 8.</summary>
    [Arm64Codegen(@"smlal +v[0-9]+\.4s", @"smlal2 +v[0-9]+\.4s", @"uxtl +v|ushll +v", @"shrn2? +v")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pixel(QuantizedDepthwiseGeometry* g, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1, byte* o)
    {
        int c = g->Channels;
        nint rowBytes = g->RowBytes, pixelBytes = c, stride = g->WeightStride;
        nint dy = g->DilationHeight * rowBytes, dx = g->DilationWidth * pixelBytes;
        var zeroPoint = Neon.DuplicateToVector128(g->InputZeroPoint);
        var requantize = new AdvSimdRequantize(g->Requantize);
        byte* first = g->Image + (iy0 * rowBytes) + (ix0 * pixelBytes);
        for (int cb = 0; cb < c; cb += 8)
        {
            int c0 = Math.Min(cb, c - 8);
            var acc0 = Vector128<int>.Zero;
            var acc1 = Vector128<int>.Zero;
            for (int ky = ky0; ky < ky1; ky++)
            {
                byte* x = first + (ky * dy) + (kx0 * dx) + c0;
                short* w = g->Weights + (((ky * g->KernelWidth) + kx0) * stride) + c0;
                for (int kx = kx0; kx < kx1; kx++, x += dx, w += stride)
                {
                    Vector128<short> v = Neon.Subtract(Neon.ZeroExtendWideningLower(Neon.LoadVector64(x)), zeroPoint);
                    Vector128<short> wv = Neon.LoadVector128(w);
                    acc0 = Neon.MultiplyWideningLowerAndAdd(acc0, v, wv);
                    acc1 = Neon.MultiplyWideningUpperAndAdd(acc1, v, wv);
                }
            }

            AdvSimdRequantize.Store8(o + c0, requantize.Apply(acc0, c0), requantize.Apply(acc1, c0 + 4));
        }
    }
}
