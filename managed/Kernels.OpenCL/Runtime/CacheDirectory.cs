namespace Kernels.OpenCL.Runtime;

/// <summary>
/// The engine's cache folder, the same one the CPU convolution tuner uses: $KERNELS_CACHE_DIR, else
/// $XDG_CACHE_HOME/kernels, else ~/.cache/kernels. OpenCL keeps program binaries, the tuner file and
/// PoCL's own cache below it.
/// </summary>
public static class CacheDirectory
{
    /// <summary>The folder (not created here).</summary>
    public static string Root
    {
        get
        {
            string? dir = Environment.GetEnvironmentVariable("KERNELS_CACHE_DIR");
            if (!string.IsNullOrEmpty(dir))
            {
                return dir;
            }

            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            return Path.Combine(
                string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg,
                "kernels");
        }
    }
}
