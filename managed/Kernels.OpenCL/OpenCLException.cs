using Kernels.OpenCL.Native;

namespace Kernels.OpenCL;

/// <summary>
/// An OpenCL call that returned an error: the code's name (CL_OUT_OF_RESOURCES), the call, and the device
/// and kernel or program it concerned; a failed build also carries the compiler's log.
/// </summary>
public class OpenCLException : Exception
{
    public OpenCLException(int code, string call, string? context = null, string? buildLog = null)
        : base(Compose(code, call, context, buildLog))
    {
        Code = code;
        Call = call;
        BuildLog = buildLog;
    }

    /// <summary>The cl_int error code.</summary>
    public int Code { get; }

    /// <summary>The error code's name, e.g. CL_OUT_OF_RESOURCES.</summary>
    public string CodeName => ClErrorCodes.Name(Code);

    /// <summary>The OpenCL function that failed.</summary>
    public string Call { get; }

    /// <summary>The compiler's log when a program build failed; null otherwise.</summary>
    public string? BuildLog { get; }

    private static string Compose(int code, string call, string? context, string? buildLog)
    {
        string where = string.IsNullOrEmpty(context) ? string.Empty : $" ({context})";
        string hint = code == -1001
            ? ": no OpenCL platform is installed (the ICD loader found no vendor driver in /etc/OpenCL/vendors; on Debian apt-get install pocl-opencl-icd)"
            : string.Empty;
        string log = string.IsNullOrWhiteSpace(buildLog) ? string.Empty : $"{Environment.NewLine}Build log:{Environment.NewLine}{buildLog.TrimEnd()}";
        return $"{call} failed with {ClErrorCodes.Name(code)} ({code}){where}{hint}{log}";
    }
}

/// <summary>libOpenCL.so.1 (the ICD loader) is not installed: OpenCL cannot be used on this machine.</summary>
public sealed class OpenCLLibraryNotFoundException(DllNotFoundException inner)
    : DllNotFoundException(
        $"The OpenCL library {ClApi.Library} could not be loaded ({inner.Message.Split('\n')[0].TrimEnd()}); "
        + "install an OpenCL ICD loader and a driver (Debian: apt-get install ocl-icd-libopencl1 pocl-opencl-icd).",
        inner);

/// <summary>Turns a cl_int result into an exception.</summary>
internal static class ClCheck
{
    public static void Ok(int code, string call, string? context = null)
    {
        if (code != 0)
        {
            throw new OpenCLException(code, call, context);
        }
    }
}
