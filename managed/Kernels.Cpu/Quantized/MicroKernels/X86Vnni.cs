using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kernels.Cpu.Quantized.MicroKernels;

/// <summary>
/// vpdpbusd ymm for the AVX-VNNI kernel, with the Neon shim's idea on x86: where the CPU has AVX-VNNI it is the one
/// instruction, elsewhere (Zen 4 has AVX-512 VNNI but not the VEX form) an exact AVX2 emulation, so the kernel's
/// tiling, tails and store run in the tests of any AVX2 machine.
/// </summary>
internal static class X86Vnni
{
    /// <summary>
    /// <c>vpdpbusd ymm</c>: lane i of addend + Σ_t left[4i+t]·right[4i+t] (uint8 × int8, int32 wrapping, no saturation).
    /// The emulation widens to int16 (vpmovzxbw/vpmovsxbw), pairs with vpmaddwd (exact) and adds the pairs with vphaddd.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyWideningAndAdd(Vector256<int> addend, Vector256<byte> left, Vector256<sbyte> right)
    {
        if (AvxVnni.IsSupported)
        {
            return AvxVnni.MultiplyWideningAndAdd(addend, left, right);
        }

        Vector256<int> low = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(left.GetLower()), Avx2.ConvertToVector256Int16(right.GetLower()));
        Vector256<int> high = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(left.GetUpper()), Avx2.ConvertToVector256Int16(right.GetUpper()));
        Vector256<int> quads = Avx2.Permute4x64(Avx2.HorizontalAdd(low, high).AsInt64(), 0b11_01_10_00).AsInt32();
        return Avx2.Add(addend, quads);
    }
}
