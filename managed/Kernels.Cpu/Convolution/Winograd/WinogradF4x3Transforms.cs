using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// F(4x4, 3x3) data transforms (Lavin and Gray, 2016, points 0, ±1, ±2 and ∞), vectorized over channels:
/// input V = Bᵀ·d·B of a 6x6 patch, output Y = Aᵀ·M·A of a 6x6 block of GEMM results. Each 1-D pass is written
/// with shared sub-expressions and fused multiply-adds (8 and 6 operations per 6 values instead of 36 and 24).
/// The matrices themselves are in <see cref="WinogradTile.F4"/>; tests check these passes against them.
/// Written once for every vector width (<see cref="IFloatLanes{TSelf}"/>); the per-ISA entry points are in
/// <see cref="WinogradKernelsAvx512"/>, <see cref="WinogradKernelsAvx2"/> and <see cref="WinogradKernelsAdvSimd"/>.
/// </summary>
internal static unsafe class WinogradF4x3Transforms
{
    /// <summary>
    /// Transforms the 6x6 patch at src (row r, column k at src + r·rowStride + k·colStride, channels contiguous)
    /// for <paramref name="channels"/> channels; position p = 6i + j of channel c goes to dst + p·posStride + c·laneStride.
    /// tmp holds 36 vectors of the widest lane type.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input<T>(float* src, nint rowStride, nint colStride, int channels, float* dst, nint posStride, nint laneStride, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        int c = 0;
        for (; c <= channels - T.Count; c += T.Count)
        {
            InputChunk<T>(src + c, rowStride, colStride, dst + (c * laneStride), posStride, laneStride, tmp);
        }

        for (; c < channels; c++)
        {
            InputChunk<ScalarLane>(src + c, rowStride, colStride, dst + (c * laneStride), posStride, laneStride, tmp);
        }
    }

    /// <summary>
    /// Transforms a 6x6 block of GEMM results (position p of channel c at m + p·posStride + c) into a 4x4 output
    /// tile; adds bias, applies the epilogue and stores the top-left rows×cols outputs at
    /// output + i·outRowStride + j·outColStride + c.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output<T>(
        float* m, nint posStride, int channels, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        int c = 0;
        for (; c <= channels - T.Count; c += T.Count)
        {
            OutputChunk<T>(m + c, posStride, bias + c, output + c, outRowStride, outColStride, rows, cols, epilogue, tmp);
        }

        for (; c < channels; c++)
        {
            OutputChunk<ScalarLane>(m + c, posStride, bias + c, output + c, outRowStride, outColStride, rows, cols, epilogue, tmp);
        }
    }

    /// <summary>r = Bᵀ·d for one line of 6.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputLine<T>(T d0, T d1, T d2, T d3, T d4, T d5, out T r0, out T r1, out T r2, out T r3, out T r4, out T r5)
        where T : unmanaged, IFloatLanes<T>
    {
        var two = T.Splat(2f);
        var four = T.Splat(4f);
        var five = T.Splat(5f);
        var a = T.MultiplySubtract(d4, d2, four);   // d4 - 4·d2
        var b = T.MultiplySubtract(d3, d1, four);   // d3 - 4·d1
        var e = T.Subtract(d4, d2);
        var f = T.Subtract(d3, d1);
        r0 = T.MultiplyAdd(T.MultiplySubtract(d4, d2, five), d0, four);   // 4·d0 - 5·d2 + d4
        r1 = T.Add(a, b);                                                // -4·d1 - 4·d2 + d3 + d4
        r2 = T.Subtract(a, b);                                           //  4·d1 - 4·d2 - d3 + d4
        r3 = T.MultiplyAdd(e, f, two);                                   // -2·d1 - d2 + 2·d3 + d4
        r4 = T.MultiplySubtract(e, f, two);                              //  2·d1 - d2 - 2·d3 + d4
        r5 = T.MultiplyAdd(T.MultiplySubtract(d5, d3, five), d1, four);   // 4·d1 - 5·d3 + d5
    }

    /// <summary>o = Aᵀ·m for one line of 6.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputLine<T>(T m0, T m1, T m2, T m3, T m4, T m5, out T o0, out T o1, out T o2, out T o3)
        where T : unmanaged, IFloatLanes<T>
    {
        var s12 = T.Add(m1, m2);
        var d12 = T.Subtract(m1, m2);
        var s34 = T.Add(m3, m4);
        var d34 = T.Subtract(m3, m4);
        o0 = T.Add(T.Add(m0, s12), s34);                          // m0 + m1 + m2 + m3 + m4
        o1 = T.MultiplyAdd(d12, d34, T.Splat(2f));                // m1 - m2 + 2·(m3 - m4)
        o2 = T.MultiplyAdd(s12, s34, T.Splat(4f));                // m1 + m2 + 4·(m3 + m4)
        o3 = T.MultiplyAdd(T.Add(d12, m5), d34, T.Splat(8f));     // m1 - m2 + 8·(m3 - m4) + m5
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputChunk<T>(float* src, nint rowStride, nint colStride, float* dst, nint posStride, nint laneStride, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        // Rows first (d·B, through tmp, which stays in L1), then columns (Bᵀ·(d·B)) straight into the GEMM panel.
        int n = T.Count;
        for (int r = 0; r < 6; r++)
        {
            float* row = src + (r * rowStride);
            InputLine(
                T.Load(row), T.Load(row + colStride), T.Load(row + (2 * colStride)),
                T.Load(row + (3 * colStride)), T.Load(row + (4 * colStride)), T.Load(row + (5 * colStride)),
                out var w0, out var w1, out var w2, out var w3, out var w4, out var w5);
            float* t = tmp + (r * 6 * n);
            T.Store(t, w0);
            T.Store(t + n, w1);
            T.Store(t + (2 * n), w2);
            T.Store(t + (3 * n), w3);
            T.Store(t + (4 * n), w4);
            T.Store(t + (5 * n), w5);
        }

        nint step = 6 * n;
        for (int j = 0; j < 6; j++)
        {
            float* t = tmp + (j * n);
            InputLine(
                T.Load(t), T.Load(t + step), T.Load(t + (2 * step)), T.Load(t + (3 * step)), T.Load(t + (4 * step)), T.Load(t + (5 * step)),
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            float* d = dst + (j * posStride);
            nint rowPositions = 6 * posStride;
            T.StoreStrided(d, laneStride, v0);
            T.StoreStrided(d + rowPositions, laneStride, v1);
            T.StoreStrided(d + (2 * rowPositions), laneStride, v2);
            T.StoreStrided(d + (3 * rowPositions), laneStride, v3);
            T.StoreStrided(d + (4 * rowPositions), laneStride, v4);
            T.StoreStrided(d + (5 * rowPositions), laneStride, v5);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputChunk<T>(
        float* m, nint posStride, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        int n = T.Count;
        for (int r = 0; r < 6; r++)
        {
            float* row = m + (r * 6 * posStride);
            OutputLine(
                T.Load(row), T.Load(row + posStride), T.Load(row + (2 * posStride)),
                T.Load(row + (3 * posStride)), T.Load(row + (4 * posStride)), T.Load(row + (5 * posStride)),
                out var w0, out var w1, out var w2, out var w3);
            float* t = tmp + (r * 4 * n);
            T.Store(t, w0);
            T.Store(t + n, w1);
            T.Store(t + (2 * n), w2);
            T.Store(t + (3 * n), w3);
        }

        var b = T.Load(bias);
        var low = T.Splat(epilogue.Low);
        var high = T.Splat(epilogue.High);
        var slope = T.Splat(epilogue.Slope);
        int mode = epilogue.Mode;
        nint step = 4 * n;
        for (int j = 0; j < cols; j++)
        {
            float* t = tmp + (j * n);
            OutputLine(
                T.Load(t), T.Load(t + step), T.Load(t + (2 * step)), T.Load(t + (3 * step)), T.Load(t + (4 * step)), T.Load(t + (5 * step)),
                out var y0, out var y1, out var y2, out var y3);
            float* o = output + (j * outColStride);
            WinogradStore.Store(o, y0, b, mode, low, high, slope);
            if (rows > 1)
            {
                WinogradStore.Store(o + outRowStride, y1, b, mode, low, high, slope);
            }

            if (rows > 2)
            {
                WinogradStore.Store(o + (2 * outRowStride), y2, b, mode, low, high, slope);
            }

            if (rows > 3)
            {
                WinogradStore.Store(o + (3 * outRowStride), y3, b, mode, low, high, slope);
            }
        }
    }
}
