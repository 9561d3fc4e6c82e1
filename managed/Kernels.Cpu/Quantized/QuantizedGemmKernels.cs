using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Kernels.Cpu.Native;
using Kernels.Cpu.Quantized.MicroKernels;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// The registry of int8 GEMM micro-kernels (uint8 activations × int8 weights → int32 → requantized uint8),
/// built once from the CPU's features. The tester runs every kernel that
/// <see cref="QuantizedGemmMicroKernel.CanExecute"/>; <see cref="Best"/> is the first that runs natively.
/// </summary>
public static unsafe class QuantizedGemmKernels
{
    /// <summary>Registry name of the C AVX-512 VNNI tile, which also has the indirect convolution form.</summary>
    internal const string Avx512VnniName = "qu8s8-gemm-12x32-avx512vnni-c";

    /// <summary>Every registered kernel, in order of preference.</summary>
    public static IReadOnlyList<QuantizedGemmMicroKernel> All { get; } = Build();

    /// <summary>The preferred kernel for this CPU: the first that runs natively, else the portable one.</summary>
    public static QuantizedGemmMicroKernel Best { get; } =
        All.FirstOrDefault(static k => k.IsSupported) ?? Get("qu8s8-gemm-4x4-scalar");

    /// <summary>Finds a kernel by its registry name.</summary>
    /// <exception cref="ArgumentException">No kernel has that name; the message lists the names.</exception>
    public static QuantizedGemmMicroKernel Get(string name)
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
            $"Unknown int8 GEMM micro-kernel '{name}'. Registered: {string.Join(", ", All.Select(static k => k.Name))}.",
            nameof(name));
    }

    private static QuantizedGemmMicroKernel[] Build() =>
    [
        // The C helper library's vpdpbusd zmm kernel: .NET 10 cannot emit 512-bit VNNI (see NativeQuantizedKernels).
        new QuantizedGemmMicroKernel(
            Avx512VnniName, "avx512vnni (C)", NativeQuantizedKernels.MR, NativeQuantizedKernels.NR, 0,
            static () => NativeQuantizedKernels.CanRunAvx512Vnni, static () => NativeQuantizedKernels.CanRunAvx512Vnni, &NativeQuantizedKernels.Avx512Vnni12x32),
        // AVX-VNNI (VEX vpdpbusd ymm); where it is missing the kernel runs on an exact AVX2 emulation, for the tests.
        new QuantizedGemmMicroKernel(
            "qu8s8-gemm-6x16-avxvnni", "avxvnni", Q8Gemm6x16AvxVnni.MR, Q8Gemm6x16AvxVnni.NR, 0,
            static () => AvxVnni.IsSupported, static () => Avx2.IsSupported, &Q8Gemm6x16AvxVnni.Run),
        new QuantizedGemmMicroKernel(
            "qu8s8-gemm-4x8-avx2", "avx2", Q8Gemm4x8Avx2.MR, Q8Gemm4x8Avx2.NR, 0,
            static () => Avx2.IsSupported, static () => Avx2.IsSupported, &Q8Gemm4x8Avx2.Run),
        new QuantizedGemmMicroKernel(
            "qu8s8-gemm-8x12-advsimd-dot", "advsimd+dotprod", Q8Gemm8x12AdvSimdDot.MR, Q8Gemm8x12AdvSimdDot.NR, 128,
            static () => AdvSimd.Arm64.IsSupported && Dp.IsSupported, static () => true, &Q8Gemm8x12AdvSimdDot.Run),
        new QuantizedGemmMicroKernel(
            "qu8s8-gemm-4x8-advsimd", "advsimd", Q8Gemm4x8AdvSimd.MR, Q8Gemm4x8AdvSimd.NR, 128,
            static () => AdvSimd.Arm64.IsSupported, static () => true, &Q8Gemm4x8AdvSimd.Run),
        new QuantizedGemmMicroKernel(
            "qu8s8-gemm-4x4-scalar", "scalar", Q8Gemm4x4Scalar.MR, Q8Gemm4x4Scalar.NR, 0,
            static () => true, static () => true, &Q8Gemm4x4Scalar.Run),
    ];
}
