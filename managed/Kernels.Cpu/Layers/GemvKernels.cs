using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;
using Kernels.Cpu.Gemm.MicroKernels;

namespace Kernels.Cpu.Layers;

// Contract of every GEMV block kernel: w holds one block of NB outputs packed k-major (k rows of NB floats,
// zero-padded past the real outputs), bias NB floats (zero-padded). For j < n:
//   acc_j = bias_j + Σ_p x[p]·w[p·NB + j] (p ascending, one fused multiply-add each), y[j] = act(acc_j)
// with act as in ElementwiseKernels.cs (clamp p0..p1, or leaky with slope p0). The weights stream once,
// contiguously, which is all a batch-1 fully connected layer can do: it is bound by memory bandwidth.

/// <summary>f32-gemv-64-avx512: 64 outputs (4 zmm accumulators) per block.</summary>
internal static unsafe class F32Gemv64Avx512
{
    public const int NB = 64;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* w, float* x, nint k, float* bias, float* y, int n, float p0, float p1, bool leaky)
    {
        var a0 = Vector512.Load(bias);
        var a1 = Vector512.Load(bias + 16);
        var a2 = Vector512.Load(bias + 32);
        var a3 = Vector512.Load(bias + 48);
        for (nint p = 0; p < k; p++, w += NB)
        {
            var xp = Vector512.Create(x[p]);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w), xp, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), xp, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), xp, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), xp, a3);
        }

        var lo = Vector512.Create(p0);
        var hi = Vector512.Create(p1);
        Unsafe.SkipInit(out StackTile96 storage);
        float* t = n == NB ? y : (float*)Unsafe.AsPointer(ref storage[0]);
        Apply(a0, lo, hi, leaky).Store(t);
        Apply(a1, lo, hi, leaky).Store(t + 16);
        Apply(a2, lo, hi, leaky).Store(t + 32);
        Apply(a3, lo, hi, leaky).Store(t + 48);
        for (int j = 0; t != y && j < n; j++)
        {
            y[j] = t[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Apply(Vector512<float> v, Vector512<float> lo, Vector512<float> hi, bool leaky) => leaky
        ? Vector512.FusedMultiplyAdd(Vector512.Min(v, Vector512<float>.Zero), lo, Vector512.Max(v, Vector512<float>.Zero))
        : Vector512.MinNative(Vector512.MaxNative(v, lo), hi);
}

/// <summary>f32-gemv-32-avx2: 32 outputs (4 ymm accumulators) per block.</summary>
internal static unsafe class F32Gemv32Avx2
{
    public const int NB = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* w, float* x, nint k, float* bias, float* y, int n, float p0, float p1, bool leaky)
    {
        var a0 = Vector256.Load(bias);
        var a1 = Vector256.Load(bias + 8);
        var a2 = Vector256.Load(bias + 16);
        var a3 = Vector256.Load(bias + 24);
        for (nint p = 0; p < k; p++, w += NB)
        {
            var xp = Vector256.Create(x[p]);
            a0 = Vector256.FusedMultiplyAdd(Vector256.Load(w), xp, a0);
            a1 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 8), xp, a1);
            a2 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 16), xp, a2);
            a3 = Vector256.FusedMultiplyAdd(Vector256.Load(w + 24), xp, a3);
        }

        var lo = Vector256.Create(p0);
        var hi = Vector256.Create(p1);
        Unsafe.SkipInit(out StackTile96 storage);
        float* t = n == NB ? y : (float*)Unsafe.AsPointer(ref storage[0]);
        Apply(a0, lo, hi, leaky).Store(t);
        Apply(a1, lo, hi, leaky).Store(t + 8);
        Apply(a2, lo, hi, leaky).Store(t + 16);
        Apply(a3, lo, hi, leaky).Store(t + 24);
        for (int j = 0; t != y && j < n; j++)
        {
            y[j] = t[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Apply(Vector256<float> v, Vector256<float> lo, Vector256<float> hi, bool leaky) => leaky
        ? Vector256.FusedMultiplyAdd(Vector256.Min(v, Vector256<float>.Zero), lo, Vector256.Max(v, Vector256<float>.Zero))
        : Vector256.MinNative(Vector256.MaxNative(v, lo), hi);
}

/// <summary>
/// f32-gemv-16-advsimd through the <see cref="Neon"/> shim: 16 outputs (4 q accumulators) per block; four x values
/// load as one q-register and feed <c>fmla v.4s, w.4s, x.s[lane]</c>, so no broadcast per k.
/// </summary>
internal static unsafe class F32Gemv16AdvSimd
{
    public const int NB = 16;

    [Arm64Codegen(@"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.s\[[0-3]\]", @"fmla +v[0-9]+\.4s, v[0-9]+\.4s, v[0-9]+\.4s")]
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* w, float* x, nint k, float* bias, float* y, int n, float p0, float p1, bool leaky)
    {
        var a0 = Neon.LoadVector128(bias);
        var a1 = Neon.LoadVector128(bias + 4);
        var a2 = Neon.LoadVector128(bias + 8);
        var a3 = Neon.LoadVector128(bias + 12);
        nint p = 0;
        for (; p + 4 <= k; p += 4, w += 4 * NB)
        {
            var xv = Neon.LoadVector128(x + p);
            a0 = Neon.FusedMultiplyAddBySelectedScalar(a0, Neon.LoadVector128(w), xv, 0);
            a1 = Neon.FusedMultiplyAddBySelectedScalar(a1, Neon.LoadVector128(w + 4), xv, 0);
            a2 = Neon.FusedMultiplyAddBySelectedScalar(a2, Neon.LoadVector128(w + 8), xv, 0);
            a3 = Neon.FusedMultiplyAddBySelectedScalar(a3, Neon.LoadVector128(w + 12), xv, 0);
            a0 = Neon.FusedMultiplyAddBySelectedScalar(a0, Neon.LoadVector128(w + 16), xv, 1);
            a1 = Neon.FusedMultiplyAddBySelectedScalar(a1, Neon.LoadVector128(w + 20), xv, 1);
            a2 = Neon.FusedMultiplyAddBySelectedScalar(a2, Neon.LoadVector128(w + 24), xv, 1);
            a3 = Neon.FusedMultiplyAddBySelectedScalar(a3, Neon.LoadVector128(w + 28), xv, 1);
            a0 = Neon.FusedMultiplyAddBySelectedScalar(a0, Neon.LoadVector128(w + 32), xv, 2);
            a1 = Neon.FusedMultiplyAddBySelectedScalar(a1, Neon.LoadVector128(w + 36), xv, 2);
            a2 = Neon.FusedMultiplyAddBySelectedScalar(a2, Neon.LoadVector128(w + 40), xv, 2);
            a3 = Neon.FusedMultiplyAddBySelectedScalar(a3, Neon.LoadVector128(w + 44), xv, 2);
            a0 = Neon.FusedMultiplyAddBySelectedScalar(a0, Neon.LoadVector128(w + 48), xv, 3);
            a1 = Neon.FusedMultiplyAddBySelectedScalar(a1, Neon.LoadVector128(w + 52), xv, 3);
            a2 = Neon.FusedMultiplyAddBySelectedScalar(a2, Neon.LoadVector128(w + 56), xv, 3);
            a3 = Neon.FusedMultiplyAddBySelectedScalar(a3, Neon.LoadVector128(w + 60), xv, 3);
        }

        for (; p < k; p++, w += NB)
        {
            var xp = Neon.DuplicateToVector128(x[p]);
            a0 = Neon.FusedMultiplyAdd(a0, Neon.LoadVector128(w), xp);
            a1 = Neon.FusedMultiplyAdd(a1, Neon.LoadVector128(w + 4), xp);
            a2 = Neon.FusedMultiplyAdd(a2, Neon.LoadVector128(w + 8), xp);
            a3 = Neon.FusedMultiplyAdd(a3, Neon.LoadVector128(w + 12), xp);
        }

        var lo = Neon.DuplicateToVector128(p0);
        var hi = Neon.DuplicateToVector128(p1);
        Unsafe.SkipInit(out StackTile96 storage);
        float* t = n == NB ? y : (float*)Unsafe.AsPointer(ref storage[0]);
        Neon.Store(t, Apply(a0, lo, hi, leaky));
        Neon.Store(t + 4, Apply(a1, lo, hi, leaky));
        Neon.Store(t + 8, Apply(a2, lo, hi, leaky));
        Neon.Store(t + 12, Apply(a3, lo, hi, leaky));
        for (int j = 0; t != y && j < n; j++)
        {
            y[j] = t[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Apply(Vector128<float> v, Vector128<float> lo, Vector128<float> hi, bool leaky) => leaky
        ? Neon.FusedMultiplyAdd(Neon.Max(v, Vector128<float>.Zero), Neon.Min(v, Vector128<float>.Zero), lo)
        : Neon.Min(Neon.Max(v, lo), hi);
}
