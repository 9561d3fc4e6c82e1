using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// The few lane-wise float operations the channel-vectorized kernels need, so that each is written once and
/// specialized by the JIT per vector width (a struct type argument makes every call a single inlined
/// instruction): the Winograd transforms (<see cref="Winograd.WinogradF4x3Transforms"/>,
/// <see cref="Winograd.WinogradF2x3Transforms"/>), and the x86 direct and depthwise convolutions
/// (<see cref="Direct.DirectVector{TLanes}"/>, <see cref="Depthwise.DepthwiseVector{TLanes}"/>).
/// Lanes are channels (NHWC keeps them contiguous); <see cref="ScalarLane"/> handles the channel tail.
/// </summary>
internal unsafe interface IFloatLanes<TSelf>
    where TSelf : unmanaged, IFloatLanes<TSelf>
{
    /// <summary>Channels per vector.</summary>
    static abstract int Count { get; }

    static abstract TSelf Load(float* address);

    static abstract void Store(float* address, TSelf value);

    /// <summary>Lane l to address[l·stride]: the channels of one tile into a packed GEMM panel, where channels are MR floats apart.</summary>
    static abstract void StoreStrided(float* address, nint stride, TSelf value);

    static abstract TSelf Splat(float value);

    static abstract TSelf Add(TSelf left, TSelf right);

    static abstract TSelf Subtract(TSelf left, TSelf right);

    /// <summary>addend + left·right, one rounding.</summary>
    static abstract TSelf MultiplyAdd(TSelf addend, TSelf left, TSelf right);

    /// <summary>minuend - left·right, one rounding.</summary>
    static abstract TSelf MultiplySubtract(TSelf minuend, TSelf left, TSelf right);

    static abstract TSelf Max(TSelf left, TSelf right);

    static abstract TSelf Min(TSelf left, TSelf right);

    /// <summary>The machine's max without NaN and signed-zero fix-ups (x86 maxps: right where either is NaN), for pooling.</summary>
    static abstract TSelf MaxNative(TSelf left, TSelf right);

    static abstract TSelf Multiply(TSelf left, TSelf right);
}

/// <summary>One channel: the tail of every vector width, with the same fused roundings as the vectors.</summary>
internal unsafe struct ScalarLane : IFloatLanes<ScalarLane>
{
    private float _v;

    public static int Count => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Load(float* address) => new() { _v = *address };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* address, ScalarLane value) => *address = value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStrided(float* address, nint stride, ScalarLane value) => *address = value._v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Splat(float value) => new() { _v = value };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Add(ScalarLane left, ScalarLane right) => new() { _v = left._v + right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Subtract(ScalarLane left, ScalarLane right) => new() { _v = left._v - right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane MultiplyAdd(ScalarLane addend, ScalarLane left, ScalarLane right) =>
        new() { _v = MathF.FusedMultiplyAdd(left._v, right._v, addend._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane MultiplySubtract(ScalarLane minuend, ScalarLane left, ScalarLane right) =>
        new() { _v = MathF.FusedMultiplyAdd(-left._v, right._v, minuend._v) };

    // MathF.Max/Min propagate NaN like the vector forms (fmax/fmin, Vector*.Max/Min).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Max(ScalarLane left, ScalarLane right) => new() { _v = MathF.Max(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Min(ScalarLane left, ScalarLane right) => new() { _v = MathF.Min(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane MaxNative(ScalarLane left, ScalarLane right) => new() { _v = right._v > left._v ? right._v : left._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ScalarLane Multiply(ScalarLane left, ScalarLane right) => new() { _v = left._v * right._v };
}

/// <summary>16 channels in a Vector512 (AVX-512F).</summary>
internal unsafe struct Avx512Lanes : IFloatLanes<Avx512Lanes>
{
    private Vector512<float> _v;

    public static int Count => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Load(float* address) => new() { _v = Vector512.Load(address) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* address, Avx512Lanes value) => value._v.Store(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStrided(float* address, nint stride, Avx512Lanes value)
    {
        // No scatter in the BCL: four 128-bit quarters, each stored lane by lane (vextractf32x4 + vmovss/vextractps).
        StoreQuarter(address, stride, value._v.GetLower().GetLower());
        StoreQuarter(address + (4 * stride), stride, value._v.GetLower().GetUpper());
        StoreQuarter(address + (8 * stride), stride, value._v.GetUpper().GetLower());
        StoreQuarter(address + (12 * stride), stride, value._v.GetUpper().GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StoreQuarter(float* address, nint stride, Vector128<float> q)
    {
        address[0] = q.ToScalar();
        address[stride] = q.GetElement(1);
        address[2 * stride] = q.GetElement(2);
        address[3 * stride] = q.GetElement(3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Splat(float value) => new() { _v = Vector512.Create(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Add(Avx512Lanes left, Avx512Lanes right) => new() { _v = left._v + right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Subtract(Avx512Lanes left, Avx512Lanes right) => new() { _v = left._v - right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes MultiplyAdd(Avx512Lanes addend, Avx512Lanes left, Avx512Lanes right) =>
        new() { _v = Vector512.FusedMultiplyAdd(left._v, right._v, addend._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes MultiplySubtract(Avx512Lanes minuend, Avx512Lanes left, Avx512Lanes right) =>
        new() { _v = Vector512.FusedMultiplyAdd(-left._v, right._v, minuend._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Max(Avx512Lanes left, Avx512Lanes right) => new() { _v = Vector512.Max(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Min(Avx512Lanes left, Avx512Lanes right) => new() { _v = Vector512.Min(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes MaxNative(Avx512Lanes left, Avx512Lanes right) => new() { _v = Vector512.MaxNative(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx512Lanes Multiply(Avx512Lanes left, Avx512Lanes right) => new() { _v = left._v * right._v };
}

/// <summary>8 channels in a Vector256 (AVX2 + FMA).</summary>
internal unsafe struct Avx2Lanes : IFloatLanes<Avx2Lanes>
{
    private Vector256<float> _v;

    public static int Count => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Load(float* address) => new() { _v = Vector256.Load(address) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* address, Avx2Lanes value) => value._v.Store(address);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStrided(float* address, nint stride, Avx2Lanes value)
    {
        Avx512Lanes.StoreQuarter(address, stride, value._v.GetLower());
        Avx512Lanes.StoreQuarter(address + (4 * stride), stride, value._v.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Splat(float value) => new() { _v = Vector256.Create(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Add(Avx2Lanes left, Avx2Lanes right) => new() { _v = left._v + right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Subtract(Avx2Lanes left, Avx2Lanes right) => new() { _v = left._v - right._v };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes MultiplyAdd(Avx2Lanes addend, Avx2Lanes left, Avx2Lanes right) =>
        new() { _v = Vector256.FusedMultiplyAdd(left._v, right._v, addend._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes MultiplySubtract(Avx2Lanes minuend, Avx2Lanes left, Avx2Lanes right) =>
        new() { _v = Vector256.FusedMultiplyAdd(-left._v, right._v, minuend._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Max(Avx2Lanes left, Avx2Lanes right) => new() { _v = Vector256.Max(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Min(Avx2Lanes left, Avx2Lanes right) => new() { _v = Vector256.Min(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes MaxNative(Avx2Lanes left, Avx2Lanes right) => new() { _v = Vector256.MaxNative(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Avx2Lanes Multiply(Avx2Lanes left, Avx2Lanes right) => new() { _v = left._v * right._v };
}

/// <summary>4 channels in a q-register, every operation one AdvSimd instruction through the <see cref="Neon"/> shim.</summary>
internal unsafe struct NeonLanes : IFloatLanes<NeonLanes>
{
    private Vector128<float> _v;

    public static int Count => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Load(float* address) => new() { _v = Neon.LoadVector128(address) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(float* address, NeonLanes value) => Neon.Store(address, value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreStrided(float* address, nint stride, NeonLanes value)
    {
        Neon.StoreSelectedScalar(address, value._v, 0);
        Neon.StoreSelectedScalar(address + stride, value._v, 1);
        Neon.StoreSelectedScalar(address + (2 * stride), value._v, 2);
        Neon.StoreSelectedScalar(address + (3 * stride), value._v, 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Splat(float value) => new() { _v = Neon.DuplicateToVector128(value) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Add(NeonLanes left, NeonLanes right) => new() { _v = Neon.Add(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Subtract(NeonLanes left, NeonLanes right) => new() { _v = Neon.Subtract(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes MultiplyAdd(NeonLanes addend, NeonLanes left, NeonLanes right) =>
        new() { _v = Neon.FusedMultiplyAdd(addend._v, left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes MultiplySubtract(NeonLanes minuend, NeonLanes left, NeonLanes right) =>
        new() { _v = Neon.FusedMultiplySubtract(minuend._v, left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Max(NeonLanes left, NeonLanes right) => new() { _v = Neon.Max(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Min(NeonLanes left, NeonLanes right) => new() { _v = Neon.Min(left._v, right._v) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes MaxNative(NeonLanes left, NeonLanes right) => Max(left, right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static NeonLanes Multiply(NeonLanes left, NeonLanes right) => new() { _v = Neon.Multiply(left._v, right._v) };
}
