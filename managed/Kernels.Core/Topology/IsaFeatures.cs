using System.Collections.ObjectModel;
using System.Runtime.Intrinsics;
using ArmIntrinsics = System.Runtime.Intrinsics.Arm;
using X86Intrinsics = System.Runtime.Intrinsics.X86;

namespace Kernels.Core.Topology;

/// <summary>
/// The instruction sets the JIT will emit here, from the runtime's IsSupported flags (so DOTNET_EnableAVX512F=0
/// and friends switch paths off for testing). Micro-kernel registries pick kernels from these.
/// </summary>
public static class IsaFeatures
{
    // Initializers run in textual order: Avx512Vnni must be set before Names reads it.
    private static readonly bool Avx512VnniDetected = DetectAvx512Vnni();
    private static readonly ReadOnlyCollection<string> Names = BuildNames();

    /// <summary>AVX-512 Foundation (512-bit FMA kernels).</summary>
    public static bool Avx512F => X86Intrinsics.Avx512F.IsSupported;

    /// <summary>AVX2 (256-bit integer kernels).</summary>
    public static bool Avx2 => X86Intrinsics.Avx2.IsSupported;

    /// <summary>FMA3 (fused multiply-add for the AVX2 float kernels).</summary>
    public static bool Fma => X86Intrinsics.Fma.IsSupported;

    /// <summary>AVX-VNNI: 256-bit vpdpbusd for the int8 path.</summary>
    public static bool AvxVnni => X86Intrinsics.AvxVnni.IsSupported;

    /// <summary>
    /// AVX512-VNNI (512-bit vpdpbusd), from CPUID leaf 7 ECX bit 11 and only when the runtime enables AVX-512F.
    /// .NET 10 has no Avx512Vnni intrinsics class, so managed code cannot emit this instruction (and on Zen 4
    /// <see cref="AvxVnni"/> is false): this flag is for native kernels and for choosing the AVX-512BW
    /// vpmaddubsw fallback knowingly.
    /// </summary>
    public static bool Avx512Vnni => Avx512VnniDetected;

    /// <summary>ARM AdvSimd (NEON).</summary>
    public static bool AdvSimd => ArmIntrinsics.AdvSimd.IsSupported;

    /// <summary>ARMv8.2 dot product (sdot/udot) for the int8 path.</summary>
    public static bool AdvSimdDotProduct => ArmIntrinsics.Dp.IsSupported;

    /// <summary>Whether 128-bit vectors are accelerated at all (false means the portable kernels run scalar).</summary>
    public static bool VectorHardwareAccelerated => Vector128.IsHardwareAccelerated;

    /// <summary>Lower-case names of the supported features, for logs and benchmark reports; empty when none.</summary>
    public static IReadOnlyList<string> Describe() => Names;

    private static bool DetectAvx512Vnni()
    {
        if (!X86Intrinsics.X86Base.IsSupported || !X86Intrinsics.Avx512F.IsSupported)
        {
            return false;
        }

        (int maxLeaf, _, _, _) = X86Intrinsics.X86Base.CpuId(0, 0);
        if (maxLeaf < 7)
        {
            return false;
        }

        (_, _, int ecx, _) = X86Intrinsics.X86Base.CpuId(7, 0);
        return (ecx & (1 << 11)) != 0;
    }

    private static ReadOnlyCollection<string> BuildNames()
    {
        var names = new List<string>();
        Add(Avx512F, "avx512f");
        Add(Avx2, "avx2");
        Add(Fma, "fma");
        Add(AvxVnni, "avx-vnni");
        Add(Avx512Vnni, "avx512-vnni");
        Add(AdvSimd, "advsimd");
        Add(AdvSimdDotProduct, "advsimd-dotprod");
        return names.AsReadOnly();

        void Add(bool supported, string name)
        {
            if (supported)
            {
                names.Add(name);
            }
        }
    }
}
