using System.Runtime.InteropServices;

namespace Kernels.Baselines;

/// <summary>
/// The C environment, which native baselines read when they load (OpenBLAS's thread timeout, libgomp's wait
/// policy): .NET's Environment.SetEnvironmentVariable does not reach it on Linux.
/// </summary>
internal static unsafe class NativeEnvironment
{
    /// <summary>Sets a variable in the C environment (what native libraries read at load) unless the user set it.</summary>
    public static void SetDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null
            || !(NativeLibrary.TryLoad("libc.so.6", out nint libc) || NativeLibrary.TryLoad("libc.so", out libc))
            || !NativeLibrary.TryGetExport(libc, "setenv", out nint setenvExport))
        {
            return;
        }

        var setenv = (delegate* unmanaged<byte*, byte*, int, int>)setenvExport;
        byte[] n = System.Text.Encoding.ASCII.GetBytes(name + "\0");
        byte[] v = System.Text.Encoding.ASCII.GetBytes(value + "\0");
        fixed (byte* pn = n)
        fixed (byte* pv = v)
        {
            _ = setenv(pn, pv, 0);
        }
    }
}
