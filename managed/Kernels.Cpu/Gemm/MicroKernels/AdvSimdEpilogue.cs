using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>
/// Bias, accumulate and clamp or leaky ReLU in the store of one full 12-column row of the AdvSimd 8x12 kernel,
/// through the <see cref="Neon"/> shim (<c>ld1/fadd/fmax/fmin/st1</c>); inlined, so the kernel's
/// arm64 listing has no call.
/// </summary>
internal readonly unsafe ref struct AdvSimdEpilogue
{
    private readonly Vector128<float> _bias0;
    private readonly Vector128<float> _bias1;
    private readonly Vector128<float> _bias2;
    private readonly Vector128<float> _min;
    private readonly Vector128<float> _max;
    private readonly bool _accumulate;
    private readonly bool _hasBias;
    private readonly bool _clamp;
    private readonly bool _leaky;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public AdvSimdEpilogue(float* bias, float min, float max, int flags)
    {
        _accumulate = (flags & (int)GemmStoreFlags.Accumulate) != 0;
        _clamp = (flags & (int)GemmStoreFlags.Clamp) != 0;
        _leaky = (flags & (int)GemmStoreFlags.LeakyRelu) != 0;
        _hasBias = bias != null;
        _bias0 = _hasBias ? Neon.LoadVector128(bias) : default;
        _bias1 = _hasBias ? Neon.LoadVector128(bias + 4) : default;
        _bias2 = _hasBias ? Neon.LoadVector128(bias + 8) : default;
        _min = Neon.DuplicateToVector128(min);
        _max = Neon.DuplicateToVector128(max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreRow(float* c, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2)
    {
        if (_accumulate)
        {
            v0 = Neon.Add(v0, Neon.LoadVector128(c));
            v1 = Neon.Add(v1, Neon.LoadVector128(c + 4));
            v2 = Neon.Add(v2, Neon.LoadVector128(c + 8));
        }

        if (_hasBias)
        {
            v0 = Neon.Add(v0, _bias0);
            v1 = Neon.Add(v1, _bias1);
            v2 = Neon.Add(v2, _bias2);
        }

        if (_clamp)
        {
            v0 = Neon.Min(Neon.Max(v0, _min), _max);
            v1 = Neon.Min(Neon.Max(v1, _min), _max);
            v2 = Neon.Min(Neon.Max(v2, _min), _max);
        }

        if (_leaky)
        {
            // max(x, 0) + slope·min(x, 0) (fmla by element 0 of the slope vector): x for x ≥ 0, slope·x below.
            var zero = Vector128<float>.Zero;
            v0 = Neon.FusedMultiplyAddBySelectedScalar(Neon.Max(v0, zero), Neon.Min(v0, zero), _min, 0);
            v1 = Neon.FusedMultiplyAddBySelectedScalar(Neon.Max(v1, zero), Neon.Min(v1, zero), _min, 0);
            v2 = Neon.FusedMultiplyAddBySelectedScalar(Neon.Max(v2, zero), Neon.Min(v2, zero), _min, 0);
        }

        Neon.Store(c, v0);
        Neon.Store(c + 4, v1);
        Neon.Store(c + 8, v2);
    }
}
