using System.Runtime.InteropServices;

namespace Kernels.Baselines;

/// <summary>
/// oneDNN 2.x (Debian libdnnl-dev: oneDNN 2.6, OpenMP runtime) as a convolution baseline: the C API
/// loaded at run time, so that a machine without it gets <see cref="UnavailableReason"/> instead of a
/// <see cref="DllNotFoundException"/>. Only the v2 API is bound (its op descriptors are caller-owned
/// structs initialized by <c>dnnl_*_desc_init</c>; v3 removed them), so another major version is
/// reported as unavailable. The convolution itself is <see cref="OneDnnConvolution"/>.
/// <para>
/// Threads: this oneDNN runs on OpenMP (libgomp), and reads the calling thread's OpenMP thread count
/// (<c>omp_get_max_threads</c>) both when a primitive is created (its work split) and when it
/// executes. <see cref="OneDnnConvolution"/> therefore calls <c>omp_set_num_threads</c> on the calling
/// thread before it creates and before every execution; <see cref="MaxThreads"/> reads it back.
/// OpenMP workers inherit the CPU affinity of the thread that starts them, so a measurement that pins
/// its caller to one core should run a oneDNN primitive once before pinning (see <c>kernels bench conv</c>).
/// </para>
/// </summary>
public static unsafe class OneDnn
{
    /// <summary>The soname of oneDNN 2.x (Debian libdnnl2; libdnnl-dev adds headers and libdnnl.so).</summary>
    public const string LibraryName = "libdnnl.so.2";

    /// <summary>The OpenMP runtime Debian's oneDNN links against.</summary>
    public const string OpenMpLibraryName = "libgomp.so.1";

    // Sizes of the caller-owned v2 structs, measured with sizeof() against oneDNN 2.6's dnnl_types.h
    // (dnnl_memory_desc_t 696 bytes, dnnl_convolution_desc_t 5976). They are opaque here: only oneDNN
    // reads or writes them; the buffers are rounded up so that a 2.x minor version that grew them stays safe.
    internal const int MemoryDescBytes = 1024;
    internal const int ConvolutionDescBytes = 8192;

    internal const int Success = 0;
    internal const int Unimplemented = 3;
    internal const int EngineKindCpu = 1;
    internal const uint StreamDefaultFlags = 1;
    internal const int DataTypeF32 = 3;
    internal const int FormatTagAny = 1;
    internal const int FormatTagX = 2;        // 1-D (bias)
    internal const int FormatTagNhwc = 20;    // dnnl_acdb: also dnnl_ohwi for 4-D weights
    internal const int FormatTagGohwi = 16;   // dnnl_abdec
    internal const int FormatTagOihw = 5;     // dnnl_abcd
    internal const int FormatTagGoihw = 7;    // dnnl_abcde
    internal const int PropForwardInference = 96;
    internal const int EltwiseRelu = 0x1f;
    internal const int EltwiseClip = 0xff;
    internal const int QueryImplInfoStr = 8;
    internal const int QuerySrcMd = 129;
    internal const int QueryWeightsMd = 131;
    internal const int QueryDstMd = 133;
    internal const int ArgSrc = 1;
    internal const int ArgDst = 17;
    internal const int ArgWeights = 33;
    internal const int ArgBias = 41;
    internal const uint RuntimeOmp = 2;
    internal const uint RuntimeSequential = 1;

    internal static readonly nint MemoryAllocate = -1; // DNNL_MEMORY_ALLOCATE: the library allocates the buffer

    private static readonly string? s_unavailableReason;
    private static readonly delegate* unmanaged<int, void> s_ompSetNumThreads;
    private static readonly delegate* unmanaged<int> s_ompGetMaxThreads;
    private static nint s_engine;
    private static readonly Lock s_engineLock = new();

    internal static readonly delegate* unmanaged<nint*, int, nuint, int> EngineCreate;
    internal static readonly delegate* unmanaged<nint*, nint, uint, int> StreamCreate;
    internal static readonly delegate* unmanaged<nint, int> StreamWait;
    internal static readonly delegate* unmanaged<nint, int> StreamDestroy;
    internal static readonly delegate* unmanaged<void*, int, long*, int, int, int> MemoryDescInitByTag;
    internal static readonly delegate* unmanaged<void*, int, long*, int, long*, int> MemoryDescInitByStrides;
    internal static readonly delegate* unmanaged<void*, void*, int> MemoryDescEqual;
    internal static readonly delegate* unmanaged<void*, int, int, void*, void*, void*, void*, long*, long*, long*, long*, int> DilatedConvolutionForwardDescInit;
    internal static readonly delegate* unmanaged<nint*, int> PrimitiveAttrCreate;
    internal static readonly delegate* unmanaged<nint, int> PrimitiveAttrDestroy;
    internal static readonly delegate* unmanaged<nint, nint, int> PrimitiveAttrSetPostOps;
    internal static readonly delegate* unmanaged<nint*, int> PostOpsCreate;
    internal static readonly delegate* unmanaged<nint, int> PostOpsDestroy;
    internal static readonly delegate* unmanaged<nint, float, int, float, float, int> PostOpsAppendEltwise;
    internal static readonly delegate* unmanaged<nint*, void*, nint, nint, nint, int> PrimitiveDescCreate;
    internal static readonly delegate* unmanaged<nint, int> PrimitiveDescDestroy;
    internal static readonly delegate* unmanaged<nint, int, int, void*, int> PrimitiveDescQuery;
    internal static readonly delegate* unmanaged<nint, int, int, void*> PrimitiveDescQueryMd;
    internal static readonly delegate* unmanaged<nint*, void*, nint, void*, nint, nint, int> ReorderPrimitiveDescCreate;
    internal static readonly delegate* unmanaged<nint*, nint, int> PrimitiveCreate;
    internal static readonly delegate* unmanaged<nint, nint, int, ExecArg*, int> PrimitiveExecute;
    internal static readonly delegate* unmanaged<nint, int> PrimitiveDestroy;
    internal static readonly delegate* unmanaged<nint*, void*, nint, void*, int> MemoryCreate;
    internal static readonly delegate* unmanaged<nint, void*, int> MemorySetDataHandle;
    internal static readonly delegate* unmanaged<nint, int> MemoryDestroy;

    static OneDnn()
    {
        // libgomp's idle workers spin for a while after each parallel region (OMP_WAIT_POLICY unset). Interleaved
        // with our 2-thread runs they held the second core: depthwise 112x112x32 took 3.8 ms instead of 0.047.
        // PASSIVE makes them sleep at once; it must be in the C environment before libgomp initializes.
        NativeEnvironment.SetDefault("OMP_WAIT_POLICY", "PASSIVE");
        if (!NativeLibrary.TryLoad(LibraryName, out nint handle))
        {
            s_unavailableReason = $"{LibraryName} not found: apt-get install libdnnl-dev (oneDNN 2.x)";
            return;
        }

        if (!NativeLibrary.TryGetExport(handle, "dnnl_version", out nint versionExport))
        {
            s_unavailableReason = $"{LibraryName} was loaded but exports no dnnl_version";
            return;
        }

        // dnnl_version_t: int major, minor, patch; const char* hash; unsigned cpu_runtime, gpu_runtime.
        byte* v = ((delegate* unmanaged<byte*>)versionExport)();
        int major = *(int*)v, minor = *(int*)(v + 4), patch = *(int*)(v + 8);
        CpuRuntime = *(uint*)(v + 16 + sizeof(nint)); // after the three ints (padded to 16) and the hash pointer
        Version = $"{major}.{minor}.{patch}";
        if (major != 2)
        {
            s_unavailableReason = $"{LibraryName} is oneDNN {Version}; this adapter binds the 2.x C API (Debian 12's libdnnl-dev)";
            return;
        }

        string? missing = null;
        nint Export(string name)
        {
            if (NativeLibrary.TryGetExport(handle, name, out nint address))
            {
                return address;
            }

            missing ??= name;
            return 0;
        }

        EngineCreate = (delegate* unmanaged<nint*, int, nuint, int>)Export("dnnl_engine_create");
        StreamCreate = (delegate* unmanaged<nint*, nint, uint, int>)Export("dnnl_stream_create");
        StreamWait = (delegate* unmanaged<nint, int>)Export("dnnl_stream_wait");
        StreamDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_stream_destroy");
        MemoryDescInitByTag = (delegate* unmanaged<void*, int, long*, int, int, int>)Export("dnnl_memory_desc_init_by_tag");
        MemoryDescInitByStrides = (delegate* unmanaged<void*, int, long*, int, long*, int>)Export("dnnl_memory_desc_init_by_strides");
        MemoryDescEqual = (delegate* unmanaged<void*, void*, int>)Export("dnnl_memory_desc_equal");
        DilatedConvolutionForwardDescInit = (delegate* unmanaged<void*, int, int, void*, void*, void*, void*, long*, long*, long*, long*, int>)Export("dnnl_dilated_convolution_forward_desc_init");
        PrimitiveAttrCreate = (delegate* unmanaged<nint*, int>)Export("dnnl_primitive_attr_create");
        PrimitiveAttrDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_primitive_attr_destroy");
        PrimitiveAttrSetPostOps = (delegate* unmanaged<nint, nint, int>)Export("dnnl_primitive_attr_set_post_ops");
        PostOpsCreate = (delegate* unmanaged<nint*, int>)Export("dnnl_post_ops_create");
        PostOpsDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_post_ops_destroy");
        PostOpsAppendEltwise = (delegate* unmanaged<nint, float, int, float, float, int>)Export("dnnl_post_ops_append_eltwise");
        PrimitiveDescCreate = (delegate* unmanaged<nint*, void*, nint, nint, nint, int>)Export("dnnl_primitive_desc_create");
        PrimitiveDescDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_primitive_desc_destroy");
        PrimitiveDescQuery = (delegate* unmanaged<nint, int, int, void*, int>)Export("dnnl_primitive_desc_query");
        PrimitiveDescQueryMd = (delegate* unmanaged<nint, int, int, void*>)Export("dnnl_primitive_desc_query_md");
        ReorderPrimitiveDescCreate = (delegate* unmanaged<nint*, void*, nint, void*, nint, nint, int>)Export("dnnl_reorder_primitive_desc_create");
        PrimitiveCreate = (delegate* unmanaged<nint*, nint, int>)Export("dnnl_primitive_create");
        PrimitiveExecute = (delegate* unmanaged<nint, nint, int, ExecArg*, int>)Export("dnnl_primitive_execute");
        PrimitiveDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_primitive_destroy");
        MemoryCreate = (delegate* unmanaged<nint*, void*, nint, void*, int>)Export("dnnl_memory_create");
        MemorySetDataHandle = (delegate* unmanaged<nint, void*, int>)Export("dnnl_memory_set_data_handle");
        MemoryDestroy = (delegate* unmanaged<nint, int>)Export("dnnl_memory_destroy");
        if (missing is not null)
        {
            s_unavailableReason = $"{LibraryName} ({Version}) exports no {missing}";
            return;
        }

        if (CpuRuntime == RuntimeOmp)
        {
            // Already loaded as oneDNN's dependency: this finds the same runtime, so its thread count is oneDNN's.
            if (!NativeLibrary.TryLoad(OpenMpLibraryName, out nint gomp)
                || !NativeLibrary.TryGetExport(gomp, "omp_set_num_threads", out nint set)
                || !NativeLibrary.TryGetExport(gomp, "omp_get_max_threads", out nint get))
            {
                s_unavailableReason = $"{LibraryName} ({Version}) uses OpenMP, but {OpenMpLibraryName} with omp_set_num_threads was not found, so its thread count cannot be set";
                return;
            }

            s_ompSetNumThreads = (delegate* unmanaged<int, void>)set;
            s_ompGetMaxThreads = (delegate* unmanaged<int>)get;
        }
        else if (CpuRuntime != RuntimeSequential)
        {
            s_unavailableReason = $"{LibraryName} ({Version}) uses CPU runtime {CpuRuntime} (TBB or threadpool); only OpenMP and sequential builds are supported";
            return;
        }

        IsAvailable = true;
    }

    /// <summary>True when oneDNN 2.x was loaded with every function the adapter needs, and its thread count can be set.</summary>
    public static bool IsAvailable { get; }

    /// <summary>Why oneDNN cannot be used (with the fix), or null when it can.</summary>
    public static string? UnavailableReason => s_unavailableReason;

    /// <summary>major.minor.patch of the loaded library, or null when it was not loaded.</summary>
    public static string? Version { get; }

    /// <summary>dnnl_version()->cpu_runtime: 1 sequential, 2 OpenMP, 4 TBB, 8 threadpool.</summary>
    public static uint CpuRuntime { get; }

    /// <summary>The OpenMP thread count of the calling thread (oneDNN's thread count for primitives it runs), 1 for a sequential build.</summary>
    public static int MaxThreads
    {
        get
        {
            ThrowIfUnavailable();
            return s_ompGetMaxThreads == null ? 1 : s_ompGetMaxThreads();
        }
    }

    /// <summary>
    /// Sets the OpenMP thread count of the calling thread (<c>omp_set_num_threads</c>): what oneDNN
    /// primitives created and executed on this thread use. A sequential build accepts only 1.
    /// </summary>
    public static void SetThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ThrowIfUnavailable();
        if (s_ompSetNumThreads == null)
        {
            if (threads != 1)
            {
                throw new NotSupportedException($"{LibraryName} ({Version}) is a sequential build: it runs on 1 thread, not {threads}.");
            }

            return;
        }

        s_ompSetNumThreads(threads);
    }

    /// <summary>The process's CPU engine (created once; engines are thread-safe and cheap to share).</summary>
    internal static nint Engine
    {
        get
        {
            ThrowIfUnavailable();
            lock (s_engineLock)
            {
                if (s_engine == 0)
                {
                    nint engine;
                    Check(EngineCreate(&engine, EngineKindCpu, 0), "dnnl_engine_create");
                    s_engine = engine;
                }

                return s_engine;
            }
        }
    }

    internal static void ThrowIfUnavailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException($"oneDNN is unavailable: {s_unavailableReason}.");
        }
    }

    internal static void Check(int status, string function)
    {
        if (status != Success)
        {
            throw new InvalidOperationException($"oneDNN {function} failed: {StatusName(status)}.");
        }
    }

    internal static string StatusName(int status) => status switch
    {
        0 => "dnnl_success",
        1 => "dnnl_out_of_memory",
        2 => "dnnl_invalid_arguments",
        3 => "dnnl_unimplemented",
        4 => "dnnl_iterator_ends",
        5 => "dnnl_runtime_error",
        6 => "dnnl_not_required",
        _ => $"status {status}",
    };

    /// <summary>dnnl_exec_arg_t: an argument index (DNNL_ARG_*) and a memory object.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ExecArg
    {
        public int Arg;
        public nint Memory;
    }
}
