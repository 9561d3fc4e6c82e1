using System.Runtime.CompilerServices;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// F(2x2, 3x3) data transforms (points 0, ±1, ∞), vectorized over channels: input V = Bᵀ·d·B of a 4x4 patch,
/// output Y = Aᵀ·M·A of a 4x4 block of GEMM results. Every coefficient is 0 or ±1, so the transforms are
/// additions only and add almost no rounding error. Same contracts as <see cref="WinogradF4x3Transforms"/>.
/// </summary>
internal static unsafe class WinogradF2x3Transforms
{
    /// <summary>See <see cref="WinogradF4x3Transforms.Input{T}"/>; a 4x4 patch, 16 positions.</summary>
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

    /// <summary>See <see cref="WinogradF4x3Transforms.Output{T}"/>; a 2x2 output tile.</summary>
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

    /// <summary>r = Bᵀ·d for one line of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void InputLine<T>(T d0, T d1, T d2, T d3, out T r0, out T r1, out T r2, out T r3)
        where T : unmanaged, IFloatLanes<T>
    {
        r0 = T.Subtract(d0, d2);
        r1 = T.Add(d1, d2);
        r2 = T.Subtract(d2, d1);
        r3 = T.Subtract(d1, d3);
    }

    /// <summary>o = Aᵀ·m for one line of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputLine<T>(T m0, T m1, T m2, T m3, out T o0, out T o1)
        where T : unmanaged, IFloatLanes<T>
    {
        o0 = T.Add(T.Add(m0, m1), m2);
        o1 = T.Subtract(T.Subtract(m1, m2), m3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputChunk<T>(float* src, nint rowStride, nint colStride, float* dst, nint posStride, nint laneStride, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        // 16 vectors fit the register file of every ISA, so no trip through tmp (unlike F4's 36).
        _ = tmp;
        float* r0p = src, r1p = src + rowStride, r2p = src + (2 * rowStride), r3p = src + (3 * rowStride);
        InputLine(T.Load(r0p), T.Load(r0p + colStride), T.Load(r0p + (2 * colStride)), T.Load(r0p + (3 * colStride)), out var w00, out var w01, out var w02, out var w03);
        InputLine(T.Load(r1p), T.Load(r1p + colStride), T.Load(r1p + (2 * colStride)), T.Load(r1p + (3 * colStride)), out var w10, out var w11, out var w12, out var w13);
        InputLine(T.Load(r2p), T.Load(r2p + colStride), T.Load(r2p + (2 * colStride)), T.Load(r2p + (3 * colStride)), out var w20, out var w21, out var w22, out var w23);
        InputLine(T.Load(r3p), T.Load(r3p + colStride), T.Load(r3p + (2 * colStride)), T.Load(r3p + (3 * colStride)), out var w30, out var w31, out var w32, out var w33);
        ColumnOut(w00, w10, w20, w30, dst, posStride, laneStride);
        ColumnOut(w01, w11, w21, w31, dst + posStride, posStride, laneStride);
        ColumnOut(w02, w12, w22, w32, dst + (2 * posStride), posStride, laneStride);
        ColumnOut(w03, w13, w23, w33, dst + (3 * posStride), posStride, laneStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnOut<T>(T w0, T w1, T w2, T w3, float* dst, nint posStride, nint laneStride)
        where T : unmanaged, IFloatLanes<T>
    {
        InputLine(w0, w1, w2, w3, out var v0, out var v1, out var v2, out var v3);
        nint rowPositions = 4 * posStride;
        T.StoreStrided(dst, laneStride, v0);
        T.StoreStrided(dst + rowPositions, laneStride, v1);
        T.StoreStrided(dst + (2 * rowPositions), laneStride, v2);
        T.StoreStrided(dst + (3 * rowPositions), laneStride, v3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputChunk<T>(
        float* m, nint posStride, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp)
        where T : unmanaged, IFloatLanes<T>
    {
        _ = tmp;
        nint r = 4 * posStride;
        OutputLine(T.Load(m), T.Load(m + posStride), T.Load(m + (2 * posStride)), T.Load(m + (3 * posStride)), out var w00, out var w01);
        OutputLine(T.Load(m + r), T.Load(m + r + posStride), T.Load(m + r + (2 * posStride)), T.Load(m + r + (3 * posStride)), out var w10, out var w11);
        OutputLine(T.Load(m + (2 * r)), T.Load(m + (2 * r) + posStride), T.Load(m + (2 * r) + (2 * posStride)), T.Load(m + (2 * r) + (3 * posStride)), out var w20, out var w21);
        OutputLine(T.Load(m + (3 * r)), T.Load(m + (3 * r) + posStride), T.Load(m + (3 * r) + (2 * posStride)), T.Load(m + (3 * r) + (3 * posStride)), out var w30, out var w31);
        OutputLine(w00, w10, w20, w30, out var y00, out var y10);
        OutputLine(w01, w11, w21, w31, out var y01, out var y11);

        var b = T.Load(bias);
        var low = T.Splat(epilogue.Low);
        var high = T.Splat(epilogue.High);
        var slope = T.Splat(epilogue.Slope);
        int mode = epilogue.Mode;
        WinogradStore.Store(output, y00, b, mode, low, high, slope);
        if (cols > 1)
        {
            WinogradStore.Store(output + outColStride, y01, b, mode, low, high, slope);
        }

        if (rows > 1)
        {
            WinogradStore.Store(output + outRowStride, y10, b, mode, low, high, slope);
            if (cols > 1)
            {
                WinogradStore.Store(output + outRowStride + outColStride, y11, b, mode, low, high, slope);
            }
        }
    }
}
