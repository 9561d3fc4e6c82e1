using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;
using Kernels.Cpu.Convolution;

namespace Kernels.Cpu.Layers;

/// <summary>
/// f32-maxpool/avgpool-avx512 and -avx2: the window of each output pixel reduced over channels, four vectors at a
/// time (independent accumulators, so small windows are not bound by the latency of one max/add chain), then one
/// vector, then the next narrower lanes (AVX-512: AVX2's), then single channels. Max uses the machine's max
/// (vmaxps, no NaN fix-ups: a network's inputs hold no NaN).
/// </summary>
internal static unsafe class F32Pool
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxAvx512(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = PoolLanes<Avx512Lanes, MaxReduction>.From(0, input, rowStride, rows, cols, channels, output, scale);
        c = PoolLanes<Avx2Lanes, MaxReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
        PoolLanes<ScalarLane, MaxReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxAvx2(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = PoolLanes<Avx2Lanes, MaxReduction>.From(0, input, rowStride, rows, cols, channels, output, scale);
        PoolLanes<ScalarLane, MaxReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageAvx512(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = PoolLanes<Avx512Lanes, SumReduction>.From(0, input, rowStride, rows, cols, channels, output, scale);
        c = PoolLanes<Avx2Lanes, SumReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
        PoolLanes<ScalarLane, SumReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageAvx2(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = PoolLanes<Avx2Lanes, SumReduction>.From(0, input, rowStride, rows, cols, channels, output, scale);
        PoolLanes<ScalarLane, SumReduction>.From(c, input, rowStride, rows, cols, channels, output, scale);
    }
}

/// <summary>How a pooling window is reduced: its start value, the combination of two values, and whether the sum is then scaled.</summary>
internal interface IPoolReduction
{
    /// <summary>The value a window starts from.</summary>
    static abstract float Identity { get; }

    /// <summary>True for the average: the reduced value is multiplied by the scale (1 / divisor).</summary>
    static abstract bool Scaled { get; }

    static abstract TLanes Combine<TLanes>(TLanes accumulator, TLanes value)
        where TLanes : unmanaged, IFloatLanes<TLanes>;
}

/// <summary>Max pooling: −∞, then the machine's max.</summary>
internal struct MaxReduction : IPoolReduction
{
    public static float Identity => float.NegativeInfinity;

    public static bool Scaled => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Combine<TLanes>(TLanes accumulator, TLanes value)
        where TLanes : unmanaged, IFloatLanes<TLanes> => TLanes.MaxNative(accumulator, value);
}

/// <summary>Average pooling: 0, then additions, then the scale.</summary>
internal struct SumReduction : IPoolReduction
{
    public static float Identity => 0f;

    public static bool Scaled => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TLanes Combine<TLanes>(TLanes accumulator, TLanes value)
        where TLanes : unmanaged, IFloatLanes<TLanes> => TLanes.Add(accumulator, value);
}

/// <summary>Channels [c, ...) of one output pixel in steps of four vectors, then one, of <typeparamref name="TLanes"/>.</summary>
internal static unsafe class PoolLanes<TLanes, TReduction>
    where TLanes : unmanaged, IFloatLanes<TLanes>
    where TReduction : struct, IPoolReduction
{
    /// <summary>Reduces the channels from c while whole vectors remain; returns the first channel left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static nint From(nint c, float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        int w = TLanes.Count;
        var start = TLanes.Splat(TReduction.Identity);
        var factor = TLanes.Splat(scale);
        for (; c + (4 * w) <= channels; c += 4 * w)
        {
            var acc0 = start;
            var acc1 = start;
            var acc2 = start;
            var acc3 = start;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = TReduction.Combine(acc0, TLanes.Load(p));
                    acc1 = TReduction.Combine(acc1, TLanes.Load(p + w));
                    acc2 = TReduction.Combine(acc2, TLanes.Load(p + (2 * w)));
                    acc3 = TReduction.Combine(acc3, TLanes.Load(p + (3 * w)));
                }
            }

            TLanes.Store(output + c, Finish(acc0, factor));
            TLanes.Store(output + c + w, Finish(acc1, factor));
            TLanes.Store(output + c + (2 * w), Finish(acc2, factor));
            TLanes.Store(output + c + (3 * w), Finish(acc3, factor));
        }

        for (; c + w <= channels; c += w)
        {
            var acc = start;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = TReduction.Combine(acc, TLanes.Load(p));
                }
            }

            TLanes.Store(output + c, Finish(acc, factor));
        }

        return c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TLanes Finish(TLanes value, TLanes factor) => TReduction.Scaled ? TLanes.Multiply(value, factor) : value;
}

/// <summary>
/// f32-maxpool/avgpool-advsimd through the <see cref="Neon"/> shim: 16 channels (4 q accumulators), then 4; the
/// channel tail goes through lane 0 of a q-register (not scalar <c>MathF</c>), so no call enters the arm64 code.
/// </summary>
internal static unsafe class F32PoolAdvSimd
{
    [Arm64Codegen(@"fmax +v[0-9]+\.4s", @"ldr +q|ld1 +\{")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = 0;
        var lowest = Neon.DuplicateToVector128(float.NegativeInfinity);
        for (; c + 16 <= channels; c += 16)
        {
            var acc0 = lowest;
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = Neon.Max(acc0, Neon.LoadVector128(p));
                    acc1 = Neon.Max(acc1, Neon.LoadVector128(p + 4));
                    acc2 = Neon.Max(acc2, Neon.LoadVector128(p + 8));
                    acc3 = Neon.Max(acc3, Neon.LoadVector128(p + 12));
                }
            }

            Neon.Store(output + c, acc0);
            Neon.Store(output + c + 4, acc1);
            Neon.Store(output + c + 8, acc2);
            Neon.Store(output + c + 12, acc3);
        }

        for (; c + 4 <= channels; c += 4)
        {
            var acc = lowest;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Neon.Max(acc, Neon.LoadVector128(p));
                }
            }

            Neon.Store(output + c, acc);
        }

        for (; c < channels; c++)
        {
            var acc = lowest;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Neon.Max(acc, Vector128.CreateScalarUnsafe(*p));
                }
            }

            output[c] = acc.ToScalar();
        }
    }

    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fmul +v[0-9]+\.4s")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = 0;
        var factor = Neon.DuplicateToVector128(scale);
        for (; c + 16 <= channels; c += 16)
        {
            var acc0 = Vector128<float>.Zero;
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = Neon.Add(acc0, Neon.LoadVector128(p));
                    acc1 = Neon.Add(acc1, Neon.LoadVector128(p + 4));
                    acc2 = Neon.Add(acc2, Neon.LoadVector128(p + 8));
                    acc3 = Neon.Add(acc3, Neon.LoadVector128(p + 12));
                }
            }

            Neon.Store(output + c, Neon.Multiply(acc0, factor));
            Neon.Store(output + c + 4, Neon.Multiply(acc1, factor));
            Neon.Store(output + c + 8, Neon.Multiply(acc2, factor));
            Neon.Store(output + c + 12, Neon.Multiply(acc3, factor));
        }

        for (; c + 4 <= channels; c += 4)
        {
            var acc = Vector128<float>.Zero;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Neon.Add(acc, Neon.LoadVector128(p));
                }
            }

            Neon.Store(output + c, Neon.Multiply(acc, factor));
        }

        for (; c < channels; c++)
        {
            var acc = Vector128<float>.Zero;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Neon.Add(acc, Vector128.CreateScalarUnsafe(*p));
                }
            }

            output[c] = Neon.Multiply(acc, factor).ToScalar();
        }
    }
}
