using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Kernels.Cpu.Quantized;

namespace Kernels.Cpu.Native;

/// <summary>
/// The C int8 GEMM kernels for AVX-512 VNNI (native/src/kn_qgemm_avx512vnni.c: the packed tile and the indirect
/// convolution tile) and the peak loop. .NET 10 has
/// no 512-bit vpdpbusd (only AvxVnni, the VEX form, which Zen 4 lacks), so this one kernel is C. Usable when
/// the library exports it (x86-64 builds) and the CPU reports AVX512_VNNI with zmm state enabled.
/// The wrappers are NoInlining for the reason given on <see cref="NativeSgemmKernels"/>.
/// </summary>
internal static unsafe partial class NativeQuantizedKernels
{
    public const int MR = 12;
    public const int NR = 32;

    private static readonly bool s_canRun = Probe();

    /// <summary>The library has the AVX-512 VNNI kernels and this CPU can execute them.</summary>
    public static bool CanRunAvx512Vnni => s_canRun;

    /// <summary>12x32 int8 micro-kernel with the <see cref="QuantizedGemmMicroKernel"/> contract.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Avx512Vnni12x32(int groups, byte* a, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        Debug.Assert(groups >= 0 && m is >= 1 and <= MR && n is >= 1 and <= NR && ldc >= n);
        kn_qgemm_ukernel_12x32_avx512vnni((nuint)groups, a, b, c, (nuint)ldc, (nuint)m, (nuint)n, q);
    }

    /// <summary>
    /// The indirect 12x32 tile (no im2col, no A packing): <paramref name="rows"/> holds taps × 12 row pointers, tap-major;
    /// each reads 4·<paramref name="groupsPerTap"/> bytes. Same requantized store as <see cref="Avx512Vnni12x32"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Avx512Vnni12x32Indirect(int taps, int groupsPerTap, byte** rows, sbyte* b, byte* c, nint ldc, int m, int n, RequantizeTile* q)
    {
        Debug.Assert(taps >= 1 && groupsPerTap >= 1 && m is >= 1 and <= MR && n is >= 1 and <= NR && ldc >= n);
        kn_qigemm_ukernel_12x32_avx512vnni((nuint)taps, (nuint)groupsPerTap, rows, b, c, (nuint)ldc, (nuint)m, (nuint)n, q);
    }

    /// <summary>Runs the 12-chain vpdpbusd loop (1536 integer ops per iteration); only when <see cref="CanRunAvx512Vnni"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static int PeakChains(ulong iterations) => kn_vnni_peak_chains(iterations);

    /// <summary>CPUID leaf 7 ECX bit 11 (AVX512_VNNI); Avx512BW.IsSupported also says the OS saves zmm state.</summary>
    public static bool CpuHasAvx512Vnni => X86Base.IsSupported && Avx512BW.IsSupported && ((X86Base.CpuId(7, 0).Ecx >> 11) & 1) != 0;

    private static bool Probe()
    {
        if (!CpuHasAvx512Vnni || !NativeLibraryStatus.IsAvailable)
        {
            return false;
        }

        var assembly = typeof(NativeQuantizedKernels).Assembly;
        return NativeLibrary.TryLoad(NativeMethods.LibraryName, assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out var handle)
            && NativeLibrary.TryGetExport(handle, "kn_has_avx512vnni_kernels", out _)
            && NativeLibrary.TryGetExport(handle, "kn_qgemm_ukernel_12x32_avx512vnni", out _)
            && NativeLibrary.TryGetExport(handle, "kn_qigemm_ukernel_12x32_avx512vnni", out _)
            && NativeLibrary.TryGetExport(handle, "kn_vnni_peak_chains", out _)
            && kn_has_avx512vnni_kernels() == 1;
    }

    [LibraryImport(NativeMethods.LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int kn_has_avx512vnni_kernels();

    [LibraryImport(NativeMethods.LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    private static partial void kn_qgemm_ukernel_12x32_avx512vnni(nuint groups, byte* a, sbyte* b, byte* c, nuint ldc, nuint m, nuint n, RequantizeTile* q);

    [LibraryImport(NativeMethods.LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    [SuppressGCTransition]
    private static partial void kn_qigemm_ukernel_12x32_avx512vnni(nuint taps, nuint groupsPerTap, byte** rows, sbyte* b, byte* c, nuint ldc, nuint m, nuint n, RequantizeTile* q);

    [LibraryImport(NativeMethods.LibraryName)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    private static partial int kn_vnni_peak_chains(ulong iterations);
}
