using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// OpenCL tests need a device. Without libOpenCL or without any platform they are skipped with a one-line
/// reason; under KERNELS_REQUIRE_ALL=1, or when PoCL is installed (its ICD file is where the loader looks)
/// and still no device is found, they run and fail on the missing device instead.
/// </summary>
internal static class OpenCLAvailability
{
    /// <summary>PoCL's .icd file in the loader's vendor folder (OCL_ICD_VENDORS, a folder or one file, else /etc/OpenCL/vendors).</summary>
    public static bool PoclInstalled
    {
        get
        {
            string vendors = Environment.GetEnvironmentVariable("OCL_ICD_VENDORS") is { Length: > 0 } v ? v : "/etc/OpenCL/vendors";
            return File.Exists(vendors)
                ? Path.GetFileName(vendors).Contains("pocl", StringComparison.OrdinalIgnoreCase)
                : Directory.Exists(vendors) && Directory.EnumerateFiles(vendors, "*pocl*.icd").Any();
        }
    }

    public static string? SkipReason
    {
        get
        {
            if (OptionalDependencies.RequireAll || PoclInstalled)
            {
                return null;
            }

            OpenCLDiscovery discovery = OpenCLDiscovery.Current;
            return discovery.IsAvailable
                ? null
                : $"no OpenCL device: {discovery.UnavailableReason?.Split('\n')[0]}";
        }
    }
}

/// <summary>A fact that needs an OpenCL device (PoCL on development machines).</summary>
public sealed class OpenCLFactAttribute : FactAttribute
{
    public OpenCLFactAttribute() => Skip = OpenCLAvailability.SkipReason;
}

/// <summary>A theory that needs an OpenCL device (PoCL on development machines).</summary>
public sealed class OpenCLTheoryAttribute : TheoryAttribute
{
    public OpenCLTheoryAttribute() => Skip = OpenCLAvailability.SkipReason;
}

/// <summary>
/// One context per test class (PoCL compiles each program and each kernel's local size once per context),
/// on the first device, with its program cache and tuner file in a private temporary folder.
/// Created on first use, so a skipped class never touches OpenCL.
/// </summary>
public sealed class OpenCLFixture : IDisposable
{
    private readonly Lazy<OpenCLContext> _context;

    public OpenCLFixture()
    {
        Folder = Directory.CreateTempSubdirectory("kernels-opencl-tests-").FullName;
        _context = new Lazy<OpenCLContext>(() => OpenCLContext.Create(
            OpenCLDiscovery.Current.Default,
            new ProgramCache(Path.Combine(Folder, "programs")),
            new WorkSizeTuner(Path.Combine(Folder, "tuner.json"), TunerMode.None)));
    }

    /// <summary>The test class's private folder (deleted at the end).</summary>
    public string Folder { get; }

    public OpenCLContext Context => _context.Value;

    public void Dispose()
    {
        if (_context.IsValueCreated)
        {
            _context.Value.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open elsewhere: the temporary folder is left for the OS to clean.
        }
    }
}
