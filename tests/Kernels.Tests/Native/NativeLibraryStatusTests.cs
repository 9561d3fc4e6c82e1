using System.Runtime.InteropServices;
using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

public class NativeLibraryStatusTests
{
    [Fact]
    public void Library_is_available_with_expected_version()
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        Assert.Null(NativeLibraryStatus.UnavailableReason);
        Assert.Equal(NativeMethods.ExpectedVersion, NativeMethods.kn_version());
    }

    [Fact]
    public void HasNeonKernels_matches_library_and_dot_path_is_consistent()
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        Assert.Equal(NativeMethods.kn_has_neon_kernels() != 0, NativeLibraryStatus.HasNeonKernels);
        string path = NativeLibraryStatus.DotS8Path;
        if (!NativeLibraryStatus.HasNeonKernels)
            Assert.Equal("scalar", path);
        else if (RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
            Assert.Contains(path, new[] { "sdot", "neon" });
        else
            Assert.Equal("neon", path); // x86 + SIMDe: no HWCAP, the emulated ARMv8.0 path
    }

    [NeonFact]
    public void Neon_kernels_are_present_on_this_build()
    {
        // Not silently green when SIMDe was missing at configure time.
        NativeTestSupport.ShouldRunNeon();
    }
}
