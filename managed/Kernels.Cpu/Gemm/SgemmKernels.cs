using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Cpu.Gemm.MicroKernels;
using Kernels.Cpu.Native;

namespace Kernels.Cpu.Gemm;

/// <summary>
/// The registry of SGEMM micro-kernels, built once from the CPU's features (XNNPACK style).
/// The tester runs every kernel that <see cref="SgemmMicroKernel.CanExecute"/>; operators take
/// <see cref="Best"/> unless told otherwise.
/// </summary>
public static unsafe class SgemmKernels
{
    /// <summary>Every registered kernel, in order of preference (fastest first where supported).</summary>
    public static IReadOnlyList<SgemmMicroKernel> All { get; } =
    [
        new SgemmMicroKernel(
            "f32-gemm-12x32-avx512", "avx512f", F32Gemm12x32Avx512.MR, F32Gemm12x32Avx512.NR,
            static () => Avx512F.IsSupported, static () => Avx512F.IsSupported, &F32Gemm12x32Avx512.Run, &F32Gemm12x32Avx512.RunUnpackedA),
        new SgemmMicroKernel(
            "f32-gemm-6x16-avx2", "avx2+fma", F32Gemm6x16Avx2.MR, F32Gemm6x16Avx2.NR,
            static () => Avx2.IsSupported && Fma.IsSupported, static () => Avx2.IsSupported && Fma.IsSupported, &F32Gemm6x16Avx2.Run),
        new SgemmMicroKernel(
            "f32-gemm-8x12-advsimd", "advsimd", F32Gemm8x12AdvSimd.MR, F32Gemm8x12AdvSimd.NR,
            static () => AdvSimd.Arm64.IsSupported, static () => true, &F32Gemm8x12AdvSimd.Run),

        // The C helper library's NEON kernel (native/src/kn_sgemm_neon.c), same packed layout. On
        // x86 it runs through SIMDe: executable for the tests, never selected for speed.
        new SgemmMicroKernel(
            "f32-gemm-8x12-neon-c", "neon (C)", NativeSgemmKernels.MR, NativeSgemmKernels.NR,
            static () => AdvSimd.Arm64.IsSupported && NativeLibraryStatus.HasNeonKernels,
            static () => NativeLibraryStatus.HasNeonKernels, &NativeSgemmKernels.Neon8x12),
        new SgemmMicroKernel(
            "f32-gemm-4x8-vector128", "vector128", F32Gemm4x8Vector128.MR, F32Gemm4x8Vector128.NR,
            static () => Vector128.IsHardwareAccelerated, static () => true, &F32Gemm4x8Vector128.Run),
    ];

    /// <summary>The preferred kernel for this CPU: the first that runs natively, else the portable one.</summary>
    public static SgemmMicroKernel Best { get; } =
        All.FirstOrDefault(static k => k.IsSupported) ?? Get("f32-gemm-4x8-vector128");

    /// <summary>Finds a kernel by its registry name.</summary>
    /// <exception cref="ArgumentException">No kernel has that name; the message lists the names.</exception>
    public static SgemmMicroKernel Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var kernel in All)
        {
            if (string.Equals(kernel.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return kernel;
            }
        }

        throw new ArgumentException(
            $"Unknown SGEMM micro-kernel '{name}'. Registered: {string.Join(", ", All.Select(static k => k.Name))}.",
            nameof(name));
    }
}
