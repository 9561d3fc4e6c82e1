using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

/// <summary>
/// The native library is always built by `dotnet build`, so its absence is a failure, not a skip
/// (unless KERNELS_SKIP_NATIVE is set, for builds with -p:KernelsSkipNative=true). Its NEON kernels
/// need SIMDe on x86: tests of those carry [NeonFact]/[NeonTheory] (see OptionalDependencies).
/// </summary>
internal static class NativeTestSupport
{
    public static bool SkipRequested => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KERNELS_SKIP_NATIVE"));

    public static bool ShouldRun()
    {
        if (SkipRequested)
            return false;
        Assert.True(NativeLibraryStatus.IsAvailable,
            $"libkernels_native is not available ({NativeLibraryStatus.UnavailableReason}); set KERNELS_SKIP_NATIVE=1 to skip native tests");
        return true;
    }

    public static bool ShouldRunNeon()
    {
        if (!ShouldRun())
            return false;
        Assert.True(NativeLibraryStatus.HasNeonKernels,
            "libkernels_native was built without the NEON kernels (x86 without SIMDe: apt-get install libsimde-dev, delete artifacts/native)");
        return true;
    }

    public static readonly float Poison = BitConverter.Int32BitsToSingle(0x7FC0BEEF);

    public static bool IsPoison(float f) => BitConverter.SingleToInt32Bits(f) == 0x7FC0BEEF;
}
