using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;

namespace Kernels.Cpu.Gemm;

/// <summary>Up to 16 row addresses of one A panel (0: a row of zeros, e.g. padding).</summary>
[InlineArray(16)]
internal struct PanelRows
{
    private nint _element0;
}

/// <summary>
/// Packs an A panel from arbitrary row addresses: panel[p·mr + i] = row_i[p]. Four rows at a time are
/// loaded four floats at a time and transposed in registers (unpack/zip), so packing costs about one
/// load and one store per float instead of a scalar strided scatter; it runs once per MC×KC block and
/// is amortized over every NR panel of B, which for the N = 64 layers of ResNet50 is only two.
/// </summary>
internal static unsafe class PanelPacking
{
    [ThreadStatic]
    private static NativeBuffer<float>? t_zeros;

    public static void PackRows(int mr, int rows, int kc, ref PanelRows sources, float* panel)
    {
        float* zeros = Zeros(kc);
        for (int i = 0; i < mr; i++)
        {
            if (i >= rows || sources[i] == 0)
            {
                sources[i] = (nint)zeros;
            }
        }

        int i0 = 0;
        if (Sse.IsSupported || AdvSimd.Arm64.IsSupported)
        {
            for (; i0 + 4 <= mr; i0 += 4)
            {
                float* r0 = (float*)sources[i0], r1 = (float*)sources[i0 + 1], r2 = (float*)sources[i0 + 2], r3 = (float*)sources[i0 + 3];
                float* dst = panel + i0;
                int p = 0;
                for (; p + 4 <= kc; p += 4)
                {
                    Transpose4(
                        Vector128.Load(r0 + p), Vector128.Load(r1 + p), Vector128.Load(r2 + p), Vector128.Load(r3 + p),
                        out var c0, out var c1, out var c2, out var c3);
                    c0.Store(dst + (p * mr));
                    c1.Store(dst + ((p + 1) * mr));
                    c2.Store(dst + ((p + 2) * mr));
                    c3.Store(dst + ((p + 3) * mr));
                }

                for (; p < kc; p++)
                {
                    float* d = dst + (p * mr);
                    d[0] = r0[p];
                    d[1] = r1[p];
                    d[2] = r2[p];
                    d[3] = r3[p];
                }
            }
        }

        for (; i0 < mr; i0++)
        {
            float* src = (float*)sources[i0];
            float* dst = panel + i0;
            for (int p = 0; p < kc; p++)
            {
                dst[p * mr] = src[p];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4(
        Vector128<float> a, Vector128<float> b, Vector128<float> c, Vector128<float> d,
        out Vector128<float> c0, out Vector128<float> c1, out Vector128<float> c2, out Vector128<float> c3)
    {
        if (AdvSimd.Arm64.IsSupported)
        {
            // zip1/zip2 on 32-bit lanes, then on 64-bit lanes.
            var ab0 = AdvSimd.Arm64.ZipLow(a, b).AsUInt64();
            var ab1 = AdvSimd.Arm64.ZipHigh(a, b).AsUInt64();
            var cd0 = AdvSimd.Arm64.ZipLow(c, d).AsUInt64();
            var cd1 = AdvSimd.Arm64.ZipHigh(c, d).AsUInt64();
            c0 = AdvSimd.Arm64.ZipLow(ab0, cd0).AsSingle();
            c1 = AdvSimd.Arm64.ZipHigh(ab0, cd0).AsSingle();
            c2 = AdvSimd.Arm64.ZipLow(ab1, cd1).AsSingle();
            c3 = AdvSimd.Arm64.ZipHigh(ab1, cd1).AsSingle();
            return;
        }

        var t0 = Sse.UnpackLow(a, b);   // a0 b0 a1 b1
        var t1 = Sse.UnpackLow(c, d);   // c0 d0 c1 d1
        var t2 = Sse.UnpackHigh(a, b);  // a2 b2 a3 b3
        var t3 = Sse.UnpackHigh(c, d);  // c2 d2 c3 d3
        c0 = Sse.MoveLowToHigh(t0, t1);
        c1 = Sse.MoveHighToLow(t1, t0);
        c2 = Sse.MoveLowToHigh(t2, t3);
        c3 = Sse.MoveHighToLow(t3, t2);
    }

    /// <summary>At least <paramref name="count"/> zero floats for the calling thread.</summary>
    private static float* Zeros(int count)
    {
        var zeros = t_zeros;
        if (zeros is null || zeros.Length < count)
        {
            zeros?.Dispose();
            zeros = new NativeBuffer<float>(Math.Max(count, 1024), zero: true);
            t_zeros = zeros;
        }

        return zeros.Pointer;
    }
}
