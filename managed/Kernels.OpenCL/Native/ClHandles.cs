using System.Runtime.InteropServices;

namespace Kernels.OpenCL.Native;

// One SafeHandle per OpenCL object kind, so a leaked or finalized object is released with the
// right clRelease* call and a handle cannot be released while a call is using it.

/// <summary>A cl_context.</summary>
internal sealed class ClContextHandle : SafeHandle
{
    public ClContextHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseContext(handle) == 0;
}

/// <summary>A cl_command_queue.</summary>
internal sealed class ClQueueHandle : SafeHandle
{
    public ClQueueHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseCommandQueue(handle) == 0;
}

/// <summary>A cl_mem.</summary>
internal sealed class ClMemHandle : SafeHandle
{
    public ClMemHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseMemObject(handle) == 0;
}

/// <summary>A cl_program.</summary>
internal sealed class ClProgramHandle : SafeHandle
{
    public ClProgramHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseProgram(handle) == 0;
}

/// <summary>A cl_kernel.</summary>
internal sealed class ClKernelHandle : SafeHandle
{
    public ClKernelHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseKernel(handle) == 0;
}

/// <summary>A cl_event.</summary>
internal sealed class ClEventHandle : SafeHandle
{
    public ClEventHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    internal ClEventHandle(nint existing)
        : base(IntPtr.Zero, ownsHandle: true) => SetHandle(existing);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle() => ClApi.clReleaseEvent(handle) == 0;
}
