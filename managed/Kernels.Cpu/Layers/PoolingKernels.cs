using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Layers;

/// <summary>
/// f32-maxpool/avgpool-avx512: 64 channels (4 independent zmm accumulators, so small windows are not bound by
/// the latency of one max/add chain), then 16, 8, 4 and single-channel tails.
/// </summary>
internal static unsafe class F32PoolAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = 0;
        for (; c + 64 <= channels; c += 64)
        {
            var acc0 = Vector512.Create(float.NegativeInfinity);
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = Vector512.MaxNative(acc0, Vector512.Load(p));
                    acc1 = Vector512.MaxNative(acc1, Vector512.Load(p + 16));
                    acc2 = Vector512.MaxNative(acc2, Vector512.Load(p + 32));
                    acc3 = Vector512.MaxNative(acc3, Vector512.Load(p + 48));
                }
            }

            acc0.Store(output + c);
            acc1.Store(output + c + 16);
            acc2.Store(output + c + 32);
            acc3.Store(output + c + 48);
        }

        for (; c + 16 <= channels; c += 16)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    // MaxNative: vmaxps without the NaN/-0 fix-ups; inputs of a network hold no NaN.
                    acc = Vector512.MaxNative(acc, Vector512.Load(p));
                }
            }

            acc.Store(output + c);
        }

        F32PoolAvx2.MaxFrom(c, input, rowStride, rows, cols, channels, output);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        nint c = 0;
        for (; c + 64 <= channels; c += 64)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = acc0 + Vector512.Load(p);
                    acc1 = acc1 + Vector512.Load(p + 16);
                    acc2 = acc2 + Vector512.Load(p + 32);
                    acc3 = acc3 + Vector512.Load(p + 48);
                }
            }

            (acc0 * scale).Store(output + c);
            (acc1 * scale).Store(output + c + 16);
            (acc2 * scale).Store(output + c + 32);
            (acc3 * scale).Store(output + c + 48);
        }

        for (; c + 16 <= channels; c += 16)
        {
            var acc = Vector512<float>.Zero;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc += Vector512.Load(p);
                }
            }

            (acc * scale).Store(output + c);
        }

        F32PoolAvx2.AverageFrom(c, input, rowStride, rows, cols, channels, output, scale);
    }
}

/// <summary>f32-maxpool/avgpool-avx2: 32 channels (4 ymm accumulators), then 8, 4 and single-channel tails.</summary>
internal static unsafe class F32PoolAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Max(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale) =>
        MaxFrom(0, input, rowStride, rows, cols, channels, output);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Average(float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale) =>
        AverageFrom(0, input, rowStride, rows, cols, channels, output, scale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void MaxFrom(nint c, float* input, nint rowStride, int rows, int cols, int channels, float* output)
    {
        for (; c + 32 <= channels; c += 32)
        {
            var acc0 = Vector256.Create(float.NegativeInfinity);
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = Vector256.MaxNative(acc0, Vector256.Load(p));
                    acc1 = Vector256.MaxNative(acc1, Vector256.Load(p + 8));
                    acc2 = Vector256.MaxNative(acc2, Vector256.Load(p + 16));
                    acc3 = Vector256.MaxNative(acc3, Vector256.Load(p + 24));
                }
            }

            acc0.Store(output + c);
            acc1.Store(output + c + 8);
            acc2.Store(output + c + 16);
            acc3.Store(output + c + 24);
        }

        for (; c + 8 <= channels; c += 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Vector256.MaxNative(acc, Vector256.Load(p));
                }
            }

            acc.Store(output + c);
        }

        for (; c + 4 <= channels; c += 4)
        {
            var acc = Vector128.Create(float.NegativeInfinity);
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = Vector128.MaxNative(acc, Vector128.Load(p));
                }
            }

            acc.Store(output + c);
        }

        for (; c < channels; c++)
        {
            float acc = float.NegativeInfinity;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc = *p > acc ? *p : acc;
                }
            }

            output[c] = acc;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AverageFrom(nint c, float* input, nint rowStride, int rows, int cols, int channels, float* output, float scale)
    {
        for (; c + 32 <= channels; c += 32)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = acc0;
            var acc2 = acc0;
            var acc3 = acc0;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc0 = acc0 + Vector256.Load(p);
                    acc1 = acc1 + Vector256.Load(p + 8);
                    acc2 = acc2 + Vector256.Load(p + 16);
                    acc3 = acc3 + Vector256.Load(p + 24);
                }
            }

            (acc0 * scale).Store(output + c);
            (acc1 * scale).Store(output + c + 8);
            (acc2 * scale).Store(output + c + 16);
            (acc3 * scale).Store(output + c + 24);
        }

        for (; c + 8 <= channels; c += 8)
        {
            var acc = Vector256<float>.Zero;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc += Vector256.Load(p);
                }
            }

            (acc * scale).Store(output + c);
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
                    acc += Vector128.Load(p);
                }
            }

            (acc * scale).Store(output + c);
        }

        for (; c < channels; c++)
        {
            float acc = 0f;
            float* row = input + c;
            for (int y = 0; y < rows; y++, row += rowStride)
            {
                float* p = row;
                for (int x = 0; x < cols; x++, p += channels)
                {
                    acc += *p;
                }
            }

            output[c] = acc * scale;
        }
    }
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
