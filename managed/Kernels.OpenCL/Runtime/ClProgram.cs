using System.Text;
using Kernels.OpenCL.Native;

namespace Kernels.OpenCL.Runtime;

/// <summary>A built program (cl_program) of one context.</summary>
public sealed unsafe class ClProgram : IDisposable
{
    internal ClProgram(OpenCLContext context, ClProgramHandle handle, string name, string options, bool fromCache, TimeSpan buildTime)
    {
        Context = context;
        Handle = handle;
        Name = name;
        Options = options;
        FromCache = fromCache;
        BuildTime = buildTime;
    }

    public string Name { get; }

    public string Options { get; }

    /// <summary>True when the program was loaded from a cached binary instead of compiled from source.</summary>
    public bool FromCache { get; }

    /// <summary>Wall time of creating and building the program (including the cache lookup).</summary>
    public TimeSpan BuildTime { get; }

    internal OpenCLContext Context { get; }

    internal ClProgramHandle Handle { get; }

    /// <summary>A kernel object for the __kernel function <paramref name="kernelName"/>.</summary>
    public ClKernel CreateKernel(string kernelName)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(kernelName + "\0");
        int error;
        ClKernelHandle kernel;
        fixed (byte* b = bytes)
        {
            kernel = ClApi.clCreateKernel(Handle, b, &error);
        }

        if (error != 0)
        {
            kernel.Dispose();
            throw new OpenCLException(error, "clCreateKernel", $"kernel {kernelName} of program {Name} on {Context.Device.Name}");
        }

        return new ClKernel(Context, kernel, kernelName);
    }

    public void Dispose() => Handle.Dispose();
}

/// <summary>A kernel object with its arguments (cl_kernel). Not shared between threads.</summary>
public sealed unsafe class ClKernel : IDisposable
{
    internal ClKernel(OpenCLContext context, ClKernelHandle handle, string name)
    {
        Context = context;
        Handle = handle;
        Name = name;
        nuint size;
        ClCheck.Ok(
            ClApi.clGetKernelWorkGroupInfo(handle, context.Device.Id, ClApi.KernelWorkGroupSize, (nuint)sizeof(nuint), &size, null),
            "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)",
            $"kernel {name} on {context.Device.Name}");
        MaxWorkGroupSize = (long)size;
    }

    public string Name { get; }

    /// <summary>The largest work-group this kernel can be launched with on its device (registers limit it below the device's).</summary>
    public long MaxWorkGroupSize { get; }

    internal OpenCLContext Context { get; }

    internal ClKernelHandle Handle { get; }

    /// <summary>Sets argument <paramref name="index"/> to a buffer.</summary>
    public void SetArgument(int index, DeviceBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        nint mem = buffer.Handle.DangerousGetHandle();
        ClCheck.Ok(ClApi.clSetKernelArg(Handle, (uint)index, (nuint)sizeof(nint), &mem), "clSetKernelArg", $"kernel {Name} argument {index}");
        GC.KeepAlive(buffer);
    }

    /// <summary>Sets argument <paramref name="index"/> to a scalar or vector value.</summary>
    public void SetArgument<T>(int index, T value)
        where T : unmanaged
    {
        ClCheck.Ok(ClApi.clSetKernelArg(Handle, (uint)index, (nuint)sizeof(T), &value), "clSetKernelArg", $"kernel {Name} argument {index}");
    }

    /// <summary>Sets arguments <paramref name="first"/>, first + 1, ... to int values (no allocation); returns the next index.</summary>
    public int SetArguments(int first, params ReadOnlySpan<int> values)
    {
        foreach (int value in values)
        {
            SetArgument(first++, value);
        }

        return first;
    }

    public void Dispose() => Handle.Dispose();
}
