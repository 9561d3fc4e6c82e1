using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Layers;

// Contract of every kernel here, over n contiguous floats (output may be an input: each element is read
// before it is written, and only once):
//   add:      o[i] = act(a[i] + b[i])      activate: o[i] = act(x[i])
//   act(v) = leaky ? fma(min(v, 0), p0, max(v, 0)) : min(max(v, p0), p1)
// so None is the clamp (-inf, +inf), ReLU (0, +inf), ReLU6 (0, 6), Clip (min, max), and LeakyReLU with slope p0
// is FusedActivation.Apply's definition. Tails go through lane 0 of a 128-bit vector, never scalar MathF:
// the same operations as the body, and no call in the arm64 listing.

/// <summary>f32-vadd/vclamp-avx512: 16 floats per zmm, then 128-bit and single-lane tails.</summary>
internal static unsafe class F32ElementwiseAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* a, float* b, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector512.Create(p0);
        var hi = Vector512.Create(p1);
        nint i = 0;
        for (; i + 16 <= n; i += 16)
        {
            (Vector512.Load(a + i) + Vector512.Load(b + i)).Apply(lo, hi, leaky).Store(o + i);
        }

        F32ElementwiseTail.Add(i, a, b, o, n, p0, p1, leaky);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(float* x, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector512.Create(p0);
        var hi = Vector512.Create(p1);
        nint i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector512.Load(x + i).Apply(lo, hi, leaky).Store(o + i);
        }

        F32ElementwiseTail.Activate(i, x, o, n, p0, p1, leaky);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply(this Vector512<float> v, Vector512<float> lo, Vector512<float> hi, bool leaky) => leaky
        ? Vector512.FusedMultiplyAdd(Vector512.Min(v, Vector512<float>.Zero), lo, Vector512.Max(v, Vector512<float>.Zero))
        : Vector512.MinNative(Vector512.MaxNative(v, lo), hi);
}

/// <summary>f32-vadd/vclamp-avx2: 8 floats per ymm, then 128-bit and single-lane tails.</summary>
internal static unsafe class F32ElementwiseAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* a, float* b, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector256.Create(p0);
        var hi = Vector256.Create(p1);
        nint i = 0;
        for (; i + 8 <= n; i += 8)
        {
            (Vector256.Load(a + i) + Vector256.Load(b + i)).Apply(lo, hi, leaky).Store(o + i);
        }

        F32ElementwiseTail.Add(i, a, b, o, n, p0, p1, leaky);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(float* x, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector256.Create(p0);
        var hi = Vector256.Create(p1);
        nint i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Vector256.Load(x + i).Apply(lo, hi, leaky).Store(o + i);
        }

        F32ElementwiseTail.Activate(i, x, o, n, p0, p1, leaky);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Apply(this Vector256<float> v, Vector256<float> lo, Vector256<float> hi, bool leaky) => leaky
        ? Vector256.FusedMultiplyAdd(Vector256.Min(v, Vector256<float>.Zero), lo, Vector256.Max(v, Vector256<float>.Zero))
        : Vector256.MinNative(Vector256.MaxNative(v, lo), hi);
}

/// <summary>The x86 kernels' tails: 4 floats, then single lanes, with Vector128.</summary>
internal static unsafe class F32ElementwiseTail
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Add(nint i, float* a, float* b, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector128.Create(p0);
        var hi = Vector128.Create(p1);
        for (; i + 4 <= n; i += 4)
        {
            Apply(Vector128.Load(a + i) + Vector128.Load(b + i), lo, hi, leaky).Store(o + i);
        }

        for (; i < n; i++)
        {
            o[i] = Apply(Vector128.CreateScalarUnsafe(a[i]) + Vector128.CreateScalarUnsafe(b[i]), lo, hi, leaky).ToScalar();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Activate(nint i, float* x, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Vector128.Create(p0);
        var hi = Vector128.Create(p1);
        for (; i + 4 <= n; i += 4)
        {
            Apply(Vector128.Load(x + i), lo, hi, leaky).Store(o + i);
        }

        for (; i < n; i++)
        {
            o[i] = Apply(Vector128.CreateScalarUnsafe(x[i]), lo, hi, leaky).ToScalar();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Apply(Vector128<float> v, Vector128<float> lo, Vector128<float> hi, bool leaky) => leaky
        ? Vector128.FusedMultiplyAdd(Vector128.Min(v, Vector128<float>.Zero), lo, Vector128.Max(v, Vector128<float>.Zero))
        : Vector128.MinNative(Vector128.MaxNative(v, lo), hi);
}

/// <summary>f32-vadd/vclamp-advsimd through the <see cref="Neon"/> shim: 8 floats (two q-registers) per step, then 4 and single lanes.</summary>
internal static unsafe class F32ElementwiseAdvSimd
{
    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fmax +v[0-9]+\.4s", @"fmla +v[0-9]+\.4s")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Add(float* a, float* b, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Neon.DuplicateToVector128(p0);
        var hi = Neon.DuplicateToVector128(p1);
        nint i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Neon.Add(Neon.LoadVector128(a + i), Neon.LoadVector128(b + i));
            var v1 = Neon.Add(Neon.LoadVector128(a + i + 4), Neon.LoadVector128(b + i + 4));
            Neon.Store(o + i, Apply(v0, lo, hi, leaky));
            Neon.Store(o + i + 4, Apply(v1, lo, hi, leaky));
        }

        for (; i + 4 <= n; i += 4)
        {
            Neon.Store(o + i, Apply(Neon.Add(Neon.LoadVector128(a + i), Neon.LoadVector128(b + i)), lo, hi, leaky));
        }

        for (; i < n; i++)
        {
            o[i] = Apply(Neon.Add(Vector128.CreateScalarUnsafe(a[i]), Vector128.CreateScalarUnsafe(b[i])), lo, hi, leaky).ToScalar();
        }
    }

    [Arm64Codegen(@"fmin +v[0-9]+\.4s", @"fmax +v[0-9]+\.4s", @"fmla +v[0-9]+\.4s")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Activate(float* x, float* o, nint n, float p0, float p1, bool leaky)
    {
        var lo = Neon.DuplicateToVector128(p0);
        var hi = Neon.DuplicateToVector128(p1);
        nint i = 0;
        for (; i + 8 <= n; i += 8)
        {
            var v0 = Neon.LoadVector128(x + i);
            var v1 = Neon.LoadVector128(x + i + 4);
            Neon.Store(o + i, Apply(v0, lo, hi, leaky));
            Neon.Store(o + i + 4, Apply(v1, lo, hi, leaky));
        }

        for (; i + 4 <= n; i += 4)
        {
            Neon.Store(o + i, Apply(Neon.LoadVector128(x + i), lo, hi, leaky));
        }

        for (; i < n; i++)
        {
            o[i] = Apply(Vector128.CreateScalarUnsafe(x[i]), lo, hi, leaky).ToScalar();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Apply(Vector128<float> v, Vector128<float> lo, Vector128<float> hi, bool leaky) => leaky
        ? Neon.FusedMultiplyAdd(Neon.Max(v, Vector128<float>.Zero), Neon.Min(v, Vector128<float>.Zero), lo)
        : Neon.Min(Neon.Max(v, lo), hi);
}
