using Kernels.OpenCL.Native;

namespace Kernels.OpenCL.Runtime;

/// <summary>
/// One device's context with an in-order profiling queue, a buffer pool, its built programs (through the
/// on-disk <see cref="ProgramCache"/>) and the local-work-size <see cref="WorkSizeTuner"/>.
/// Commands are issued from one thread at a time.
/// </summary>
public sealed unsafe class OpenCLContext : IDisposable
{
    private readonly Dictionary<string, ClProgram> _programs = [];
    private readonly ClContextHandle _context;

    private OpenCLContext(OpenCLDevice device, ClContextHandle context, ClQueueHandle queue, ProgramCache cache, WorkSizeTuner tuner)
    {
        Device = device;
        _context = context;
        Queue = queue;
        ProgramCache = cache;
        Tuner = tuner;
        Buffers = new BufferPool(this);
        BuildOptions = BuildOptionsFor(device);
    }

    public OpenCLDevice Device { get; }

    public BufferPool Buffers { get; }

    public ProgramCache ProgramCache { get; }

    public WorkSizeTuner Tuner { get; }

    /// <summary>
    /// Options every program is built with: -cl-std=CL1.2, KERNELS_FP16 when cl_khr_fp16 is there and
    /// KERNELS_ARM_DOT8 when cl_arm_integer_dot_product_int8 is (the kernels' #ifdef paths).
    /// </summary>
    public string BuildOptions { get; }

    internal ClQueueHandle Queue { get; }

    internal ClContextHandle Handle => _context;

    /// <summary>A context and profiling queue on <paramref name="device"/>.</summary>
    /// <param name="device">From <see cref="OpenCLDiscovery.Devices"/>.</param>
    /// <param name="cache">Program binaries; default: the cache folder's opencl/programs.</param>
    /// <param name="tuner">Local work sizes; default: mode none, the cache folder's opencl/tuner.json.</param>
    public static OpenCLContext Create(OpenCLDevice device, ProgramCache? cache = null, WorkSizeTuner? tuner = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        nint id = device.Id;
        int error;
        ClContextHandle context = ClApi.clCreateContext(null, 1, &id, 0, 0, &error);
        if (error != 0)
        {
            context.Dispose();
            throw new OpenCLException(error, "clCreateContext", device.Name);
        }

        ClQueueHandle queue = ClApi.clCreateCommandQueue(context, id, ClApi.QueueProfilingEnable, &error);
        if (error != 0)
        {
            queue.Dispose();
            context.Dispose();
            throw new OpenCLException(error, "clCreateCommandQueue(CL_QUEUE_PROFILING_ENABLE)", device.Name);
        }

        return new OpenCLContext(device, context, queue, cache ?? new ProgramCache(), tuner ?? new WorkSizeTuner());
    }

    /// <summary>A new buffer the caller owns (not pooled).</summary>
    public DeviceBuffer CreateBuffer(long bytes, BufferAccess access = BufferAccess.ReadWrite) => Allocate(bytes, access, null);

    /// <summary>The program built from the embedded source opencl/<paramref name="name"/>.cl (from the binary cache when it is warm); built once per context.</summary>
    public ClProgram GetProgram(string name) => GetProgram(name, ProgramSources.Get(name));

    /// <summary>
    /// The program built from opencl/<paramref name="name"/>.cl for <paramref name="precision"/>: <see cref="BuildOptions"/>
    /// plus <see cref="DevicePrecisions.BuildOptions"/> (so a Float16 program is a separate cache entry); built once per context.
    /// </summary>
    public ClProgram GetProgram(string name, DevicePrecision precision) =>
        GetProgram(name, ProgramSources.Get(name), precision.BuildOptions(Device));

    /// <summary>The program built from <paramref name="source"/> with <see cref="BuildOptions"/> (plus <paramref name="extraOptions"/>); built once per context.</summary>
    public ClProgram GetProgram(string name, string source, string? extraOptions = null)
    {
        string options = string.IsNullOrEmpty(extraOptions) ? BuildOptions : $"{BuildOptions} {extraOptions}";
        string key = $"{name}\n{options}\n{source}";
        if (!_programs.TryGetValue(key, out ClProgram? program))
        {
            program = ProgramCache.Build(this, name, source, options);
            _programs[key] = program;
        }

        return program;
    }

    /// <summary>
    /// Enqueues <paramref name="kernel"/> over <paramref name="global"/> (rounded up to a multiple of
    /// <paramref name="local"/>; the kernel bounds-checks). With <paramref name="profile"/>, waits and returns the
    /// device time in milliseconds from the profiling event; otherwise returns 0 without waiting.
    /// </summary>
    public double Enqueue(ClKernel kernel, WorkSize global, WorkSize local, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        if (local.X < 1 || local.Y < 1 || local.Z < 1 || global.X < 1 || global.Y < 1 || global.Z < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(local), $"Work sizes must be positive: global {global}, local {local} ({kernel.Name} on {Device.Name}).");
        }

        WorkSize rounded = global.RoundUpTo(local);
        nuint* g = stackalloc nuint[3] { (nuint)rounded.X, (nuint)rounded.Y, (nuint)rounded.Z };
        nuint* l = stackalloc nuint[3] { (nuint)local.X, (nuint)local.Y, (nuint)local.Z };
        nint evt = 0;
        int rc = ClApi.clEnqueueNDRangeKernel(Queue, kernel.Handle, 3, null, g, l, 0, null, profile ? &evt : null);
        ClCheck.Ok(rc, "clEnqueueNDRangeKernel", $"kernel {kernel.Name}, global {rounded}, local {local}, on {Device.Name}");
        if (!profile)
        {
            return 0;
        }

        using var handle = new ClEventHandle(evt);
        ClCheck.Ok(ClApi.clWaitForEvents(1, &evt), "clWaitForEvents", $"kernel {kernel.Name} on {Device.Name}");
        ulong start, end;
        ClCheck.Ok(ClApi.clGetEventProfilingInfo(handle, ClApi.ProfilingCommandStart, sizeof(ulong), &start, null), "clGetEventProfilingInfo(START)", kernel.Name);
        ClCheck.Ok(ClApi.clGetEventProfilingInfo(handle, ClApi.ProfilingCommandEnd, sizeof(ulong), &end, null), "clGetEventProfilingInfo(END)", kernel.Name);
        return (end - start) / 1e6;
    }

    /// <summary>Waits for every queued command.</summary>
    public void Finish() => ClCheck.Ok(ClApi.clFinish(Queue), "clFinish", Device.Name);

    public void Dispose()
    {
        foreach (ClProgram p in _programs.Values)
        {
            p.Dispose();
        }

        _programs.Clear();
        Buffers.Dispose();
        if (!Queue.IsClosed)
        {
            _ = ClApi.clFinish(Queue);
        }

        Queue.Dispose();
        _context.Dispose();
    }

    internal DeviceBuffer Allocate(long bytes, BufferAccess access, BufferPool? pool)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1);
        if (bytes > Device.MaxAllocationBytes)
        {
            throw new OpenCLException(-61, "clCreateBuffer", $"{bytes} bytes exceed the largest allocation of {Device.Name}, {Device.MaxAllocationBytes} bytes");
        }

        ulong flags = access switch
        {
            BufferAccess.ReadOnly => ClApi.MemReadOnly,
            BufferAccess.WriteOnly => ClApi.MemWriteOnly,
            _ => ClApi.MemReadWrite,
        };
        int error;
        ClMemHandle mem = ClApi.clCreateBuffer(_context, flags, (nuint)bytes, null, &error);
        if (error != 0)
        {
            mem.Dispose();
            throw new OpenCLException(error, "clCreateBuffer", $"{bytes} bytes on {Device.Name}");
        }

        return new DeviceBuffer(this, mem, bytes, pool);
    }

    /// <summary>The options a context on <paramref name="device"/> builds its programs with (see <see cref="BuildOptions"/>).</summary>
    public static string BuildOptionsFor(OpenCLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var options = new List<string>();
        if (!device.OpenCLCVersion.StartsWith("OpenCL C 1.0", StringComparison.Ordinal)
            && !device.OpenCLCVersion.StartsWith("OpenCL C 1.1", StringComparison.Ordinal))
        {
            options.Add("-cl-std=CL1.2");
        }

        if (device.HasFp16)
        {
            options.Add("-DKERNELS_FP16=1");
        }

        if (device.HasIntegerDot8)
        {
            options.Add("-DKERNELS_ARM_DOT8=1");
        }

        return string.Join(' ', options);
    }
}
