using System.Runtime.InteropServices;
using System.Text;

namespace Kernels.OpenCL.Native;

/// <summary>
/// The C environment PoCL reads when the first OpenCL call loads it. .NET's
/// Environment.SetEnvironmentVariable does not reach native code on Linux, so this goes through libc's setenv.
/// </summary>
internal static unsafe class ClEnvironment
{
    private static readonly Lock Gate = new();
    private static bool _prepared;

    /// <summary>
    /// Before the first OpenCL call: POCL_CACHE_DIR (without it PoCL finds 0 devices) defaults to
    /// &lt;kernels cache&gt;/pocl unless the user set it, and POCL_SIGFPE_HANDLER is always 0: PoCL's handler would
    /// stop managed integer division by zero from throwing for the rest of the process, a silent wrong answer.
    /// </summary>
    public static void Prepare()
    {
        lock (Gate)
        {
            if (_prepared)
            {
                return;
            }

            _prepared = true;
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CACHE_DIR")))
            {
                string dir = Path.Combine(Runtime.CacheDirectory.Root, "pocl");
                try
                {
                    Directory.CreateDirectory(dir);
                    Set("POCL_CACHE_DIR", dir, overwrite: false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Not writable: PoCL then finds no device, which discovery reports with this hint.
                    UnwritableCacheDirectory = $"{dir}: {e.Message}";
                }
            }

            Set("POCL_SIGFPE_HANDLER", "0", overwrite: true);
        }
    }

    /// <summary>Why POCL_CACHE_DIR could not be prepared, if it could not.</summary>
    public static string? UnwritableCacheDirectory { get; private set; }

    private static void Set(string name, string value, bool overwrite)
    {
        if ((!overwrite && Environment.GetEnvironmentVariable(name) is not null)
            || !(NativeLibrary.TryLoad("libc.so.6", out nint libc) || NativeLibrary.TryLoad("libc.so", out libc))
            || !NativeLibrary.TryGetExport(libc, "setenv", out nint setenvExport))
        {
            return;
        }

        var setenv = (delegate* unmanaged<byte*, byte*, int, int>)setenvExport;
        byte[] n = Encoding.ASCII.GetBytes(name + "\0");
        byte[] v = Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* pn = n)
        fixed (byte* pv = v)
        {
            _ = setenv(pn, pv, overwrite ? 1 : 0);
        }

        Environment.SetEnvironmentVariable(name, value);
    }
}
