using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kernels.Cpu.Native;

/// <summary>
/// Raw P/Invoke declarations for libkernels_native (native/include/kernels_native.h), one per C
/// function, blittable only (<c>nuint</c> for <c>size_t</c>, pointers for arrays). No checks:
/// callers go through <see cref="NativeKernels"/> (checked) or <see cref="NativeSgemmKernels"/>
/// (hot path) and must consult <see cref="NativeLibraryStatus"/> first.
/// </summary>
internal static unsafe partial class NativeMethods
{
    /// <summary>Library name as the runtime probes it (libkernels_native.so next to the assembly).</summary>
    internal const string LibraryName = "kernels_native";

    /// <summary>KN_VERSION of the header these declarations were written against.</summary>
    internal const int ExpectedVersion = 2;

    internal const int GemmAccumulate = 1; // KN_GEMM_ACCUMULATE
    internal const int GemmClamp = 2;      // KN_GEMM_CLAMP

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int kn_version();

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial int kn_has_neon_kernels();

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void kn_im2col_nhwc_f32(
        float* input, nuint in_h, nuint in_w, nuint channels, nuint in_pixel_stride,
        nuint kernel_h, nuint kernel_w, nuint stride_h, nuint stride_w, nuint pad_top, nuint pad_left,
        nuint dilation_h, nuint dilation_w, nuint out_h, nuint out_w, float* output, nuint ld_output);

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void kn_pack_a_f32(nuint mr, nuint m, nuint k, float* a, nuint lda, float* packed);

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial void kn_pack_b_f32(nuint nr, nuint k, nuint n, float* b, nuint ldb, float* packed);

    /// <summary>Exported only when <c>kn_has_neon_kernels() == 1</c>.</summary>
    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    internal static partial void kn_sgemm_ukernel_8x12_neon(
        nuint kc, float* a, float* b, float* c, nuint ldc, nuint m, nuint n, float* bias,
        float min, float max, int flags);

    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    internal static partial int kn_dot_s8(sbyte* a, sbyte* b, nuint n);

    /// <summary>Static NUL-terminated ASCII string: "sdot", "neon" or "scalar".</summary>
    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    internal static partial byte* kn_dot_s8_path();

    /// <summary>ARMv8.0 path; exported only when <c>kn_has_neon_kernels() == 1</c>.</summary>
    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    internal static partial int kn_dot_s8_neon(sbyte* a, sbyte* b, nuint n);

    /// <summary>
    /// ARMv8.2 dot-product path; exported only when <c>kn_has_neon_kernels() == 1</c>. On arm64 it
    /// faults (SIGILL) on CPUs without the extension: call only when <c>kn_dot_s8_path()</c> is
    /// "sdot". On x86 it runs the SIMDe emulation.
    /// </summary>
    [LibraryImport(LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    internal static partial int kn_dot_s8_sdot(sbyte* a, sbyte* b, nuint n);
}
