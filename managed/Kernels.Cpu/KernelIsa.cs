using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu;

/// <summary>
/// The instruction-set variant of a layer kernel. Every kernel family has an AdvSimd variant,
/// written against the <see cref="Arm.Neon"/> shim (so it runs, bit-exact, in the x86 tests), and x86 variants.
/// </summary>
public enum KernelIsa
{
    /// <summary>x86 AVX-512F (Vector512, 16 floats).</summary>
    Avx512,

    /// <summary>x86 AVX2 with FMA (Vector256, 8 floats).</summary>
    Avx2,

    /// <summary>ARM AdvSimd (NEON, 4 floats) through the Neon shim: native on arm64, emulated elsewhere.</summary>
    AdvSimd,
}

/// <summary>Which <see cref="KernelIsa"/> variants run here, and which is preferred.</summary>
public static class KernelIsas
{
    private static readonly KernelIsa[] Order = [KernelIsa.Avx512, KernelIsa.Avx2, KernelIsa.AdvSimd];

    /// <summary>The variants this machine can execute (natively, or AdvSimd through the shim), preferred first.</summary>
    public static IReadOnlyList<KernelIsa> Executable { get; } = Order.Where(static i => i.CanExecute()).ToArray();

    /// <summary>The preferred variant: the first that runs natively, else AdvSimd through the shim.</summary>
    public static KernelIsa Best { get; } = Order.FirstOrDefault(static i => i.IsNative(), KernelIsa.AdvSimd);

    /// <summary>True when this CPU runs the variant on its own instructions.</summary>
    public static bool IsNative(this KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => Avx512F.IsSupported,
        KernelIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelIsa.AdvSimd => AdvSimd.Arm64.IsSupported,
        _ => false,
    };

    /// <summary>True when the variant can run here at all (AdvSimd always can, through the shim).</summary>
    public static bool CanExecute(this KernelIsa isa) => isa == KernelIsa.AdvSimd || isa.IsNative();

    /// <summary>Lower-case name used in kernel names and on the command line (avx512, avx2, advsimd).</summary>
    public static string ToName(this KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => "avx512",
        KernelIsa.Avx2 => "avx2",
        KernelIsa.AdvSimd => "advsimd",
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "Unknown ISA."),
    };

    /// <summary>Reads avx512, avx2 or advsimd (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Not one of those names.</exception>
    public static KernelIsa Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var isa in Order)
        {
            if (string.Equals(isa.ToName(), name, StringComparison.OrdinalIgnoreCase))
            {
                return isa;
            }
        }

        throw new ArgumentException($"Unknown ISA '{name}'; expected one of {string.Join(", ", Order.Select(static i => i.ToName()))}.", nameof(name));
    }

    /// <summary>Throws unless the variant can run here.</summary>
    /// <exception cref="ArgumentException">It cannot.</exception>
    public static void EnsureExecutable(this KernelIsa isa, string parameterName)
    {
        // A range check, not Enum.IsDefined, which allocates on every call (this runs on every layer call).
        if ((uint)isa > (uint)KernelIsa.AdvSimd)
        {
            throw new ArgumentException($"Unknown ISA {(int)isa}.", parameterName);
        }

        if (!isa.CanExecute())
        {
            throw new ArgumentException($"The {isa.ToName()} kernels cannot run on this machine.", parameterName);
        }
    }

    /// <summary>The SGEMM micro-kernel of this variant (for the GEMM-based algorithms).</summary>
    public static SgemmMicroKernel GemmKernel(this KernelIsa isa) => isa switch
    {
        KernelIsa.Avx512 => SgemmKernels.Get("f32-gemm-12x32-avx512"),
        KernelIsa.Avx2 => SgemmKernels.Get("f32-gemm-6x16-avx2"),
        KernelIsa.AdvSimd => SgemmKernels.Get("f32-gemm-8x12-advsimd"),
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "Unknown ISA."),
    };
}
