using System.Text;
using Kernels.OpenCL.Native;

namespace Kernels.OpenCL.Runtime;

/// <summary>
/// The OpenCL devices of this machine, or why there are none (no libOpenCL, no platform, no device).
/// Discovery never throws for a missing library or platform: the CPU components run without OpenCL.
/// </summary>
public sealed class OpenCLDiscovery
{
    private static readonly Lazy<OpenCLDiscovery> Cached = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    private OpenCLDiscovery(IReadOnlyList<OpenCLDevice> devices, string? unavailableReason, bool libraryFound, int platformCount)
    {
        Devices = devices;
        UnavailableReason = unavailableReason;
        LibraryFound = libraryFound;
        PlatformCount = platformCount;
    }

    /// <summary>Every device of every platform, numbered in that order.</summary>
    public IReadOnlyList<OpenCLDevice> Devices { get; }

    /// <summary>One line saying why no device can be used; null when there is at least one.</summary>
    public string? UnavailableReason { get; }

    /// <summary>libOpenCL loaded.</summary>
    public bool LibraryFound { get; }

    /// <summary>Platforms the ICD loader reported.</summary>
    public int PlatformCount { get; }

    public bool IsAvailable => Devices.Count > 0;

    /// <summary>The devices of this process (probed once; the environment is prepared first).</summary>
    public static OpenCLDiscovery Current => Cached.Value;

    /// <summary>The first device, or an exception with the reason there is none.</summary>
    /// <exception cref="InvalidOperationException">No OpenCL device; the message says why.</exception>
    public OpenCLDevice Default => Devices.Count > 0
        ? Devices[0]
        : throw new InvalidOperationException($"No OpenCL device: {UnavailableReason}");

    private static OpenCLDiscovery Probe()
    {
        ClEnvironment.Prepare();
        try
        {
            return Enumerate();
        }
        catch (DllNotFoundException e)
        {
            return new([], new OpenCLLibraryNotFoundException(e).Message, libraryFound: false, platformCount: 0);
        }
        catch (OpenCLException e)
        {
            // -1001 (no platform) lands here, and so does a driver that fails a device query: both mean no usable device.
            return new([], e.Message, libraryFound: true, platformCount: 0);
        }
    }

    private static unsafe OpenCLDiscovery Enumerate()
    {
        uint platformCount;
        ClCheck.Ok(ClApi.clGetPlatformIDs(0, null, &platformCount), "clGetPlatformIDs");
        if (platformCount == 0)
        {
            return new([], "clGetPlatformIDs found no OpenCL platform (no vendor driver in /etc/OpenCL/vendors; on Debian apt-get install pocl-opencl-icd).", true, 0);
        }

        var platforms = new nint[platformCount];
        fixed (nint* p = platforms)
        {
            ClCheck.Ok(ClApi.clGetPlatformIDs(platformCount, p, null), "clGetPlatformIDs");
        }

        var devices = new List<OpenCLDevice>();
        var empty = new List<string>();
        foreach (nint platform in platforms)
        {
            string platformName = PlatformString(platform, ClApi.PlatformName);
            string platformVersion = PlatformString(platform, ClApi.PlatformVersion);
            uint count;
            int rc = ClApi.clGetDeviceIDs(platform, ClApi.DeviceTypeAll, 0, null, &count);
            if (rc == -1 || count == 0)
            {
                // CL_DEVICE_NOT_FOUND: PoCL says this when POCL_CACHE_DIR is unusable.
                empty.Add(platformName);
                continue;
            }

            ClCheck.Ok(rc, "clGetDeviceIDs", platformName);
            var ids = new nint[count];
            fixed (nint* d = ids)
            {
                ClCheck.Ok(ClApi.clGetDeviceIDs(platform, ClApi.DeviceTypeAll, count, d, null), "clGetDeviceIDs", platformName);
            }

            foreach (nint id in ids)
            {
                devices.Add(Describe(id, devices.Count, platformName, platformVersion));
            }
        }

        string? reason = devices.Count > 0
            ? null
            : $"the OpenCL platform(s) {string.Join(", ", empty)} report no device"
              + (ClEnvironment.UnwritableCacheDirectory is string dir ? $" (POCL_CACHE_DIR not writable: {dir})" : " (PoCL needs a writable POCL_CACHE_DIR)");
        return new(devices, reason, true, (int)platformCount);
    }

    private static unsafe OpenCLDevice Describe(nint id, int index, string platformName, string platformVersion)
    {
        string name = DeviceString(id, ClApi.DeviceName, null);
        int dims = (int)DeviceValue<uint>(id, ClApi.DeviceMaxWorkItemDimensions, name);
        var sizes = new nuint[dims];
        fixed (nuint* s = sizes)
        {
            ClCheck.Ok(ClApi.clGetDeviceInfo(id, ClApi.DeviceMaxWorkItemSizes, (nuint)(dims * sizeof(nuint)), s, null), "clGetDeviceInfo(CL_DEVICE_MAX_WORK_ITEM_SIZES)", name);
        }

        ulong type = DeviceValue<ulong>(id, ClApi.DeviceType, name);
        var types = new List<string>();
        if ((type & 2) != 0)
        {
            types.Add("CPU");
        }

        if ((type & 4) != 0)
        {
            types.Add("GPU");
        }

        if ((type & 8) != 0)
        {
            types.Add("Accelerator");
        }

        return new OpenCLDevice
        {
            Id = id,
            Index = index,
            PlatformName = platformName,
            PlatformVersion = platformVersion,
            Name = name,
            Vendor = DeviceString(id, ClApi.DeviceVendor, name),
            DriverVersion = DeviceString(id, ClApi.DriverVersion, name),
            DeviceVersion = DeviceString(id, ClApi.DeviceVersion, name),
            OpenCLCVersion = DeviceString(id, ClApi.DeviceOpenCLCVersion, name),
            Type = types.Count > 0 ? string.Join("+", types) : "Other",
            ComputeUnits = (int)DeviceValue<uint>(id, ClApi.DeviceMaxComputeUnits, name),
            MaxClockMHz = (int)DeviceValue<uint>(id, ClApi.DeviceMaxClockFrequency, name),
            MaxWorkGroupSize = (long)DeviceValue<nuint>(id, ClApi.DeviceMaxWorkGroupSize, name),
            MaxWorkItemSizes = sizes.Select(s => (long)s).ToArray(),
            LocalMemoryBytes = (long)DeviceValue<ulong>(id, ClApi.DeviceLocalMemSize, name),
            GlobalMemoryBytes = (long)DeviceValue<ulong>(id, ClApi.DeviceGlobalMemSize, name),
            MaxAllocationBytes = (long)DeviceValue<ulong>(id, ClApi.DeviceMaxMemAllocSize, name),
            Extensions = DeviceString(id, ClApi.DeviceExtensions, name).Split(' ', StringSplitOptions.RemoveEmptyEntries),
        };
    }

    private static unsafe T DeviceValue<T>(nint device, uint param, string? deviceName)
        where T : unmanaged
    {
        T value = default;
        ClCheck.Ok(ClApi.clGetDeviceInfo(device, param, (nuint)sizeof(T), &value, null), $"clGetDeviceInfo(0x{param:X4})", deviceName);
        return value;
    }

    private static unsafe string DeviceString(nint device, uint param, string? deviceName)
    {
        nuint size;
        ClCheck.Ok(ClApi.clGetDeviceInfo(device, param, 0, null, &size), $"clGetDeviceInfo(0x{param:X4})", deviceName);
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
        {
            ClCheck.Ok(ClApi.clGetDeviceInfo(device, param, size, b, null), $"clGetDeviceInfo(0x{param:X4})", deviceName);
        }

        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static unsafe string PlatformString(nint platform, uint param)
    {
        nuint size;
        ClCheck.Ok(ClApi.clGetPlatformInfo(platform, param, 0, null, &size), $"clGetPlatformInfo(0x{param:X4})");
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes)
        {
            ClCheck.Ok(ClApi.clGetPlatformInfo(platform, param, size, b, null), $"clGetPlatformInfo(0x{param:X4})");
        }

        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }
}
