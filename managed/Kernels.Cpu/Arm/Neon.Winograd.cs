using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace Kernels.Cpu.Arm;

/// <summary>The AdvSimd instructions the Winograd transforms use beyond the common arithmetic (a one-lane store).</summary>
public static partial class Neon
{
    /// <summary><c>st1 {v.s}[index], [address]</c>: stores one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreSelectedScalar(float* address, Vector128<float> value, [ConstantExpected(Max = (byte)3)] byte index)
    {
        if (AdvSimd.IsSupported)
        {
            AdvSimd.StoreSelectedScalar(address, value, index);
            return;
        }

        *address = value.GetElement(index);
    }
}
