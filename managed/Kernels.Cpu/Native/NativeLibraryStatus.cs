using System.Reflection;
using System.Runtime.InteropServices;

namespace Kernels.Cpu.Native;

/// <summary>
/// Whether libkernels_native could be loaded, probed once on first use; never throws.
/// When <see cref="IsAvailable"/> is false the managed kernels must be used instead and
/// <see cref="UnavailableReason"/> says why (missing file, stale library, missing export).
/// </summary>
public static class NativeLibraryStatus
{
    // Static initializers run in textual order: the export lists must precede State.
    private static readonly string[] RequiredExports =
        ["kn_version", "kn_has_neon_kernels", "kn_im2col_nhwc_f32", "kn_pack_a_f32", "kn_pack_b_f32", "kn_dot_s8", "kn_dot_s8_path"];

    private static readonly string[] NeonExports = ["kn_sgemm_ukernel_8x12_neon", "kn_dot_s8_neon", "kn_dot_s8_sdot"];

    private static readonly (bool Available, string? Reason, bool Neon, string DotPath) State = Probe();

    /// <summary>The library was found, exports the expected ABI version and its functions can be called.</summary>
    public static bool IsAvailable => State.Available;

    /// <summary>Why the library is not available; null when it is.</summary>
    public static string? UnavailableReason => State.Reason;

    /// <summary>
    /// The NEON source is compiled in (always on arm64; on x86 only when SIMDe was installed when
    /// the library was configured): <see cref="NativeSgemmKernels.Neon8x12"/> and the explicit NEON
    /// dot products may be called.
    /// </summary>
    public static bool HasNeonKernels => State.Neon;

    /// <summary>The path kn_dot_s8 dispatches to ("sdot", "neon", "scalar"); "" when unavailable.</summary>
    public static string DotS8Path => State.DotPath;

    private static (bool, string?, bool, string) Probe()
    {
        try
        {
            var assembly = typeof(NativeLibraryStatus).Assembly;
            if (!NativeLibrary.TryLoad(NativeMethods.LibraryName, assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out var handle))
            {
                string dir = Path.GetDirectoryName(assembly.Location) is { Length: > 0 } d ? d : AppContext.BaseDirectory;
                return (false,
                    $"{FileName()} was not found in {dir} nor on the loader path; it is built by `dotnet build` (needs cmake and a C compiler) unless KernelsSkipNative=true",
                    false, "");
            }

            foreach (var export in RequiredExports)
            {
                if (!NativeLibrary.TryGetExport(handle, export, out _))
                    return (false, $"{FileName()} does not export {export}: stale or foreign library; rebuild it (delete artifacts/native)", false, "");
            }

            int version = NativeMethods.kn_version();
            if (version != NativeMethods.ExpectedVersion)
                return (false, $"{FileName()} has ABI version {version}, expected {NativeMethods.ExpectedVersion}: rebuild it (delete artifacts/native)", false, "");

            bool neon = NativeMethods.kn_has_neon_kernels() != 0;
            if (neon)
            {
                foreach (var export in NeonExports)
                {
                    if (!NativeLibrary.TryGetExport(handle, export, out _))
                        return (false, $"{FileName()} reports NEON kernels but does not export {export}", false, "");
                }
            }

            string path;
            unsafe
            {
                path = Marshal.PtrToStringAnsi((nint)NativeMethods.kn_dot_s8_path()) ?? "";
            }
            return (true, null, neon, path);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException
                                       or MarshalDirectiveException or IOException or NotSupportedException)
        {
            return (false, $"{FileName()} could not be loaded: {e.GetType().Name}: {e.Message}", false, "");
        }
    }

    private static string FileName() =>
        OperatingSystem.IsWindows() ? "kernels_native.dll" :
        OperatingSystem.IsMacOS() ? "libkernels_native.dylib" : "libkernels_native.so";

    internal static void ThrowIfUnavailable()
    {
        if (!IsAvailable)
            throw new InvalidOperationException($"The native kernel library is not available: {UnavailableReason}");
    }

    internal static void ThrowIfNoNeon()
    {
        ThrowIfUnavailable();
        if (!HasNeonKernels)
            throw new InvalidOperationException("The native library was built without the NEON kernels (x86 without SIMDe: apt-get install libsimde-dev, then delete artifacts/native and rebuild).");
    }
}
