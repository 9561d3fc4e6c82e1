using System.Runtime.InteropServices;
using Kernels.Core.Topology;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class IsaFeaturesTests
{
    [Fact]
    public void Describe_ListsExactlyTheSupportedFlags()
    {
        var expected = new List<string>();
        if (IsaFeatures.Avx512F) { expected.Add("avx512f"); }
        if (IsaFeatures.Avx2) { expected.Add("avx2"); }
        if (IsaFeatures.Fma) { expected.Add("fma"); }
        if (IsaFeatures.AvxVnni) { expected.Add("avx-vnni"); }
        if (IsaFeatures.Avx512Vnni) { expected.Add("avx512-vnni"); }
        if (IsaFeatures.AdvSimd) { expected.Add("advsimd"); }
        if (IsaFeatures.AdvSimdDotProduct) { expected.Add("advsimd-dotprod"); }

        Assert.Equal(expected, IsaFeatures.Describe());
    }

    [Fact]
    public void Flags_AgreeWithArchitecture()
    {
        bool x86 = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;
        bool arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm64;
        if (!x86)
        {
            Assert.False(IsaFeatures.Avx2 || IsaFeatures.Avx512F || IsaFeatures.Avx512Vnni);
        }

        if (!arm)
        {
            Assert.False(IsaFeatures.AdvSimd || IsaFeatures.AdvSimdDotProduct);
        }

        Assert.True(!IsaFeatures.Avx512Vnni || IsaFeatures.Avx512F, "AVX512-VNNI implies AVX-512F here.");
    }

    [Fact]
    public void Flags_AgreeWithKernelCpuFlags()
    {
        // /proc/cpuinfo is an independent source; the runtime may only switch features off (DOTNET_Enable*=0).
        if (!File.Exists("/proc/cpuinfo") || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return;
        }

        string? flagsLine = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
        Assert.NotNull(flagsLine);
        var flags = flagsLine[(flagsLine.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        bool restricted = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Any(k => k.StartsWith("DOTNET_Enable", StringComparison.OrdinalIgnoreCase));

        Assert.True(!IsaFeatures.Avx2 || flags.Contains("avx2"));
        Assert.True(!IsaFeatures.Avx512F || flags.Contains("avx512f"));
        Assert.True(!IsaFeatures.Avx512Vnni || flags.Contains("avx512_vnni"));
        if (!restricted)
        {
            Assert.Equal(flags.Contains("avx2"), IsaFeatures.Avx2);
            Assert.Equal(flags.Contains("avx512f"), IsaFeatures.Avx512F);
            Assert.Equal(flags.Contains("avx512f") && flags.Contains("avx512_vnni"), IsaFeatures.Avx512Vnni);
            Assert.True(IsaFeatures.VectorHardwareAccelerated);
        }
    }
}
