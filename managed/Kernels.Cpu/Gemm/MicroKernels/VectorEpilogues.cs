using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kernels.Cpu.Gemm.MicroKernels;

/// <summary>Bias, accumulate and clamp or leaky ReLU in the store of a full 16-lane-wide tile row of two vectors.</summary>
internal readonly unsafe ref struct Vector512Epilogue
{
    private readonly Vector512<float> _bias0;
    private readonly Vector512<float> _bias1;
    private readonly Vector512<float> _min;
    private readonly Vector512<float> _max;
    private readonly bool _accumulate;
    private readonly bool _hasBias;
    private readonly bool _clamp;
    private readonly bool _leaky;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector512Epilogue(float* bias, float min, float max, int flags)
    {
        _accumulate = (flags & (int)GemmStoreFlags.Accumulate) != 0;
        _clamp = (flags & (int)GemmStoreFlags.Clamp) != 0;
        _leaky = (flags & (int)GemmStoreFlags.LeakyRelu) != 0;
        _hasBias = bias != null;
        _bias0 = _hasBias ? Vector512.Load(bias) : default;
        _bias1 = _hasBias ? Vector512.Load(bias + 16) : default;
        _min = Vector512.Create(min);
        _max = Vector512.Create(max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreRow(float* c, Vector512<float> v0, Vector512<float> v1)
    {
        if (_accumulate)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }

        if (_hasBias)
        {
            v0 += _bias0;
            v1 += _bias1;
        }

        if (_clamp)
        {
            v0 = Vector512.Min(Vector512.Max(v0, _min), _max);
            v1 = Vector512.Min(Vector512.Max(v1, _min), _max);
        }

        if (_leaky)
        {
            // max(x, 0) + slope·min(x, 0) in one rounding: exactly x for x ≥ 0 and slope·x below.
            var zero = Vector512<float>.Zero;
            v0 = Vector512.FusedMultiplyAdd(Vector512.Min(v0, zero), _min, Vector512.Max(v0, zero));
            v1 = Vector512.FusedMultiplyAdd(Vector512.Min(v1, zero), _min, Vector512.Max(v1, zero));
        }

        v0.Store(c);
        v1.Store(c + 16);
    }
}

/// <summary>Bias, accumulate and clamp or leaky ReLU in the store of a full 8-lane-wide tile row of two vectors.</summary>
internal readonly unsafe ref struct Vector256Epilogue
{
    private readonly Vector256<float> _bias0;
    private readonly Vector256<float> _bias1;
    private readonly Vector256<float> _min;
    private readonly Vector256<float> _max;
    private readonly bool _accumulate;
    private readonly bool _hasBias;
    private readonly bool _clamp;
    private readonly bool _leaky;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256Epilogue(float* bias, float min, float max, int flags)
    {
        _accumulate = (flags & (int)GemmStoreFlags.Accumulate) != 0;
        _clamp = (flags & (int)GemmStoreFlags.Clamp) != 0;
        _leaky = (flags & (int)GemmStoreFlags.LeakyRelu) != 0;
        _hasBias = bias != null;
        _bias0 = _hasBias ? Vector256.Load(bias) : default;
        _bias1 = _hasBias ? Vector256.Load(bias + 8) : default;
        _min = Vector256.Create(min);
        _max = Vector256.Create(max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1)
    {
        if (_accumulate)
        {
            v0 += Vector256.Load(c);
            v1 += Vector256.Load(c + 8);
        }

        if (_hasBias)
        {
            v0 += _bias0;
            v1 += _bias1;
        }

        if (_clamp)
        {
            v0 = Vector256.Min(Vector256.Max(v0, _min), _max);
            v1 = Vector256.Min(Vector256.Max(v1, _min), _max);
        }

        if (_leaky)
        {
            // max(x, 0) + slope·min(x, 0) in one rounding: exactly x for x ≥ 0 and slope·x below.
            var zero = Vector256<float>.Zero;
            v0 = Vector256.FusedMultiplyAdd(Vector256.Min(v0, zero), _min, Vector256.Max(v0, zero));
            v1 = Vector256.FusedMultiplyAdd(Vector256.Min(v1, zero), _min, Vector256.Max(v1, zero));
        }

        v0.Store(c);
        v1.Store(c + 8);
    }
}

/// <summary>Bias, accumulate and clamp or leaky ReLU in the store of a full 4-lane-wide tile row of two vectors.</summary>
internal readonly unsafe ref struct Vector128Epilogue
{
    private readonly Vector128<float> _bias0;
    private readonly Vector128<float> _bias1;
    private readonly Vector128<float> _min;
    private readonly Vector128<float> _max;
    private readonly bool _accumulate;
    private readonly bool _hasBias;
    private readonly bool _clamp;
    private readonly bool _leaky;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector128Epilogue(float* bias, float min, float max, int flags)
    {
        _accumulate = (flags & (int)GemmStoreFlags.Accumulate) != 0;
        _clamp = (flags & (int)GemmStoreFlags.Clamp) != 0;
        _leaky = (flags & (int)GemmStoreFlags.LeakyRelu) != 0;
        _hasBias = bias != null;
        _bias0 = _hasBias ? Vector128.Load(bias) : default;
        _bias1 = _hasBias ? Vector128.Load(bias + 4) : default;
        _min = Vector128.Create(min);
        _max = Vector128.Create(max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StoreRow(float* c, Vector128<float> v0, Vector128<float> v1)
    {
        if (_accumulate)
        {
            v0 += Vector128.Load(c);
            v1 += Vector128.Load(c + 4);
        }

        if (_hasBias)
        {
            v0 += _bias0;
            v1 += _bias1;
        }

        if (_clamp)
        {
            v0 = Vector128.Min(Vector128.Max(v0, _min), _max);
            v1 = Vector128.Min(Vector128.Max(v1, _min), _max);
        }

        if (_leaky)
        {
            // max(x, 0) + slope·min(x, 0) in one rounding: exactly x for x ≥ 0 and slope·x below.
            var zero = Vector128<float>.Zero;
            v0 = Vector128.FusedMultiplyAdd(Vector128.Min(v0, zero), _min, Vector128.Max(v0, zero));
            v1 = Vector128.FusedMultiplyAdd(Vector128.Min(v1, zero), _min, Vector128.Max(v1, zero));
        }

        v0.Store(c);
        v1.Store(c + 4);
    }
}
