using Kernels.Baselines;
using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests;

/// <summary>
/// Optional packages of the test suite. A fresh machine needs only the .NET SDK, cmake and gcc:
/// a test that needs an optional package is skipped with a one-line reason when it is absent.
/// CI sets KERNELS_REQUIRE_ALL=1 and installs everything; there an absent package runs the test,
/// which then fails on the missing piece instead of being skipped.
/// </summary>
internal static class OptionalDependencies
{
    public static bool RequireAll => Environment.GetEnvironmentVariable("KERNELS_REQUIRE_ALL") == "1";

    /// <summary>The NEON C source is built for x86 only when SIMDe headers were found.</summary>
    public static string? NeonSkipReason =>
        RequireAll || NativeLibraryStatus.HasNeonKernels || !NativeLibraryStatus.IsAvailable
            ? null
            : "NEON C kernels not built (x86 without SIMDe): apt-get install libsimde-dev, then delete artifacts/native";

    public static string? OpenBlasSkipReason =>
        RequireAll || OpenBlas.IsAvailable ? null : $"{OpenBlas.UnavailableReason}";

    public static string? OneDnnSkipReason =>
        RequireAll || OneDnn.IsAvailable ? null : $"{OneDnn.UnavailableReason}";

    public static string? OnnxTestDataSkipReason =>
        RequireAll ? null : Onnx.OnnxTestData.MissingReason;
}

/// <summary>A fact that needs the NEON C kernels (SIMDe on x86).</summary>
public sealed class NeonFactAttribute : FactAttribute
{
    public NeonFactAttribute() => Skip = OptionalDependencies.NeonSkipReason;
}

/// <summary>A theory that needs the NEON C kernels (SIMDe on x86).</summary>
public sealed class NeonTheoryAttribute : TheoryAttribute
{
    public NeonTheoryAttribute() => Skip = OptionalDependencies.NeonSkipReason;
}

/// <summary>A fact that needs OpenBLAS (libopenblas-dev).</summary>
public sealed class OpenBlasFactAttribute : FactAttribute
{
    public OpenBlasFactAttribute() => Skip = OptionalDependencies.OpenBlasSkipReason;
}

/// <summary>A theory that needs OpenBLAS (libopenblas-dev).</summary>
public sealed class OpenBlasTheoryAttribute : TheoryAttribute
{
    public OpenBlasTheoryAttribute() => Skip = OptionalDependencies.OpenBlasSkipReason;
}

/// <summary>A fact that needs oneDNN 2.x (libdnnl-dev).</summary>
public sealed class OneDnnFactAttribute : FactAttribute
{
    public OneDnnFactAttribute() => Skip = OptionalDependencies.OneDnnSkipReason;
}

/// <summary>A theory that needs oneDNN 2.x (libdnnl-dev).</summary>
public sealed class OneDnnTheoryAttribute : TheoryAttribute
{
    public OneDnnTheoryAttribute() => Skip = OptionalDependencies.OneDnnSkipReason;
}

/// <summary>A fact that needs the ONNX backend test data (libonnx-testdata).</summary>
public sealed class OnnxTestDataFactAttribute : FactAttribute
{
    public OnnxTestDataFactAttribute() => Skip = OptionalDependencies.OnnxTestDataSkipReason;
}

/// <summary>A theory that needs the ONNX backend test data (libonnx-testdata).</summary>
public sealed class OnnxTestDataTheoryAttribute : TheoryAttribute
{
    public OnnxTestDataTheoryAttribute() => Skip = OptionalDependencies.OnnxTestDataSkipReason;
}
