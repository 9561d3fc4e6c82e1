using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Kernels.Core;
using Kernels.Cpu.Arm;

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

    /// <summary>
    /// Packs one panel: panel[p·mr + i] = row_i[p] for p &lt; kc, i &lt; mr; rows at or past <paramref name="rows"/>
    /// and rows with address 0 are zeros. <paramref name="neon"/> selects the AdvSimd code (the variant of the
    /// AdvSimd micro-kernels, which runs through the Neon shim off ARM); otherwise SSE where available.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows(int mr, int rows, int kc, ref PanelRows sources, float* panel, bool neon)
    {
        float* zeros = Zeros(kc);
        for (int i = 0; i < mr; i++)
        {
            if (i >= rows || sources[i] == 0)
            {
                sources[i] = (nint)zeros;
            }
        }

        nint* addresses = (nint*)Unsafe.AsPointer(ref sources);
        if (neon)
        {
            PackAdvSimd(mr, kc, addresses, panel);
        }
        else if (Sse.IsSupported)
        {
            PackSse(mr, kc, addresses, panel);
        }
        else
        {
            PackScalar(0, mr, kc, addresses, panel);
        }
    }

    /// <summary>Four rows at a time: four ld1 per four k, a 4x4 transpose by zip1/zip2 (.4s then .2d), four st1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [Arm64Codegen(@"zip1 +v[0-9]+\.4s", @"zip2 +v[0-9]+\.2d", @"ldr +q|ld1 +\{")]
    internal static void PackAdvSimd(int mr, int kc, nint* rows, float* panel)
    {
        int i0 = 0;
        for (; i0 + 4 <= mr; i0 += 4)
        {
            float* r0 = (float*)rows[i0], r1 = (float*)rows[i0 + 1], r2 = (float*)rows[i0 + 2], r3 = (float*)rows[i0 + 3];
            float* dst = panel + i0;
            int p = 0;
            for (; p + 4 <= kc; p += 4)
            {
                var a = Neon.LoadVector128(r0 + p);
                var b = Neon.LoadVector128(r1 + p);
                var c = Neon.LoadVector128(r2 + p);
                var d = Neon.LoadVector128(r3 + p);
                var ab0 = Neon.ZipLow(a, b);   // a0 b0 a1 b1
                var ab1 = Neon.ZipHigh(a, b);  // a2 b2 a3 b3
                var cd0 = Neon.ZipLow(c, d);
                var cd1 = Neon.ZipHigh(c, d);
                Neon.Store(dst + (p * mr), Neon.ZipLow64(ab0, cd0));
                Neon.Store(dst + ((p + 1) * mr), Neon.ZipHigh64(ab0, cd0));
                Neon.Store(dst + ((p + 2) * mr), Neon.ZipLow64(ab1, cd1));
                Neon.Store(dst + ((p + 3) * mr), Neon.ZipHigh64(ab1, cd1));
            }

            for (; p < kc; p++)
            {
                float* o = dst + (p * mr);
                o[0] = r0[p];
                o[1] = r1[p];
                o[2] = r2[p];
                o[3] = r3[p];
            }
        }

        PackScalar(i0, mr, kc, rows, panel);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackSse(int mr, int kc, nint* rows, float* panel)
    {
        int i0 = 0;
        for (; i0 + 4 <= mr; i0 += 4)
        {
            float* r0 = (float*)rows[i0], r1 = (float*)rows[i0 + 1], r2 = (float*)rows[i0 + 2], r3 = (float*)rows[i0 + 3];
            float* dst = panel + i0;
            int p = 0;
            for (; p + 4 <= kc; p += 4)
            {
                var a = Sse.LoadVector128(r0 + p);
                var b = Sse.LoadVector128(r1 + p);
                var c = Sse.LoadVector128(r2 + p);
                var d = Sse.LoadVector128(r3 + p);
                var t0 = Sse.UnpackLow(a, b);   // a0 b0 a1 b1
                var t1 = Sse.UnpackLow(c, d);   // c0 d0 c1 d1
                var t2 = Sse.UnpackHigh(a, b);  // a2 b2 a3 b3
                var t3 = Sse.UnpackHigh(c, d);  // c2 d2 c3 d3
                Sse.Store(dst + (p * mr), Sse.MoveLowToHigh(t0, t1));
                Sse.Store(dst + ((p + 1) * mr), Sse.MoveHighToLow(t1, t0));
                Sse.Store(dst + ((p + 2) * mr), Sse.MoveLowToHigh(t2, t3));
                Sse.Store(dst + ((p + 3) * mr), Sse.MoveHighToLow(t3, t2));
            }

            for (; p < kc; p++)
            {
                float* o = dst + (p * mr);
                o[0] = r0[p];
                o[1] = r1[p];
                o[2] = r2[p];
                o[3] = r3[p];
            }
        }

        PackScalar(i0, mr, kc, rows, panel);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PackScalar(int firstRow, int mr, int kc, nint* rows, float* panel)
    {
        for (int i = firstRow; i < mr; i++)
        {
            float* src = (float*)rows[i];
            float* dst = panel + i;
            for (int p = 0; p < kc; p++)
            {
                dst[p * mr] = src[p];
            }
        }
    }

    /// <summary>At least <paramref name="count"/> zero floats for the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
