using System.Runtime.CompilerServices;
using Kernels.Cpu.Arm;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// The Winograd data transforms for AdvSimd through the Neon shim, 4 channels per q-register; tests/arm64-codegen checks each listing (no calls): F(4x4,3x3) and F(2x2,3x3) input and output transforms,
/// each with its scalar channel tail. Contracts: <see cref="WinogradF4x3Transforms"/>.
/// </summary>
internal static unsafe class WinogradKernelsAdvSimd
{
    /// <summary>f32-winograd-f4x3-input-advsimd.</summary>
    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fmls +v[0-9]+\.4s|fmla +v[0-9]+\.4s", @"st1 +\{v[0-9]+\.s\}\[")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputF4(float* src, nint rowStride, nint colStride, int channels, float* dst, nint posStride, nint laneStride, float* tmp) =>
        WinogradF4x3Transforms.Input<NeonLanes>(src, rowStride, colStride, channels, dst, posStride, laneStride, tmp);

    /// <summary>f32-winograd-f4x3-output-advsimd.</summary>
    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fmla +v[0-9]+\.4s|fsub +v[0-9]+\.4s", @"fmax +v[0-9]+\.4s", @"st1 +\{|str +q")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputF4(
        float* m, nint posStride, int channels, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp) =>
        WinogradF4x3Transforms.Output<NeonLanes>(m, posStride, channels, bias, output, outRowStride, outColStride, rows, cols, epilogue, tmp);

    /// <summary>f32-winograd-f2x3-input-advsimd.</summary>
    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fsub +v[0-9]+\.4s", @"st1 +\{v[0-9]+\.s\}\[")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputF2(float* src, nint rowStride, nint colStride, int channels, float* dst, nint posStride, nint laneStride, float* tmp) =>
        WinogradF2x3Transforms.Input<NeonLanes>(src, rowStride, colStride, channels, dst, posStride, laneStride, tmp);

    /// <summary>f32-winograd-f2x3-output-advsimd.</summary>
    [Arm64Codegen(@"fadd +v[0-9]+\.4s", @"fsub +v[0-9]+\.4s", @"fmax +v[0-9]+\.4s", @"st1 +\{|str +q")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OutputF2(
        float* m, nint posStride, int channels, float* bias, float* output, nint outRowStride, nint outColStride,
        int rows, int cols, WinogradEpilogue epilogue, float* tmp) =>
        WinogradF2x3Transforms.Output<NeonLanes>(m, posStride, channels, bias, output, outRowStride, outColStride, rows, cols, epilogue, tmp);
}
