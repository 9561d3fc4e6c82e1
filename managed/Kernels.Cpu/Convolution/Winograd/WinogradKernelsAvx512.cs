using System.Runtime.CompilerServices;
namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// The Winograd data transforms for AVX-512F, 16 channels per vector: F(4x4,3x3) and F(2x2,3x3) input and output transforms,
/// each with its scalar channel tail. Contracts: <see cref="WinogradF4x3Transforms"/>.
/// </summary>
internal static unsafe class WinogradKernelsAvx512
{
    /// <summary>f32-winograd-f4x3-input-avx512.</summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputF4(float* src, nint rowStride, nint colStride, int channels, float* dst, nint posStride, nint laneStride, float* tmp) =>
        WinogradF4x3Transforms.Input<Avx512Lanes>(src, rowStride, colStride, channels, dst, posStride, laneStride, tmp);

    /// <summary>f32-winograd-f4x3-output-avx512.</summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputF4(
        float* m, nint posStride, int channels, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp) =>
        WinogradF4x3Transforms.Output<Avx512Lanes>(m, posStride, channels, bias, output, outRowStride, outColStride, rows, cols, epilogue, tmp);

    /// <summary>f32-winograd-f2x3-input-avx512.</summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputF2(float* src, nint rowStride, nint colStride, int channels, float* dst, nint posStride, nint laneStride, float* tmp) =>
        WinogradF2x3Transforms.Input<Avx512Lanes>(src, rowStride, colStride, channels, dst, posStride, laneStride, tmp);

    /// <summary>f32-winograd-f2x3-output-avx512.</summary>

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputF2(
        float* m, nint posStride, int channels, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp) =>
        WinogradF2x3Transforms.Output<Avx512Lanes>(m, posStride, channels, bias, output, outRowStride, outColStride, rows, cols, epilogue, tmp);
}
