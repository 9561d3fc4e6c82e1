namespace Kernels.OpenCL.Runtime;

/// <summary>
/// One OpenCL device and the limits kernels and the tuner need. <see cref="Key"/> identifies the device
/// and driver for the program cache and the tuner file.
/// </summary>
public sealed record OpenCLDevice
{
    /// <summary>The cl_device_id (valid for the life of the process).</summary>
    internal nint Id { get; init; }

    /// <summary>Index in <see cref="OpenCLDiscovery.Devices"/> (what <c>--component opencl:N</c> will name).</summary>
    public required int Index { get; init; }

    public required string PlatformName { get; init; }

    public required string PlatformVersion { get; init; }

    public required string Name { get; init; }

    public required string Vendor { get; init; }

    /// <summary>CL_DRIVER_VERSION.</summary>
    public required string DriverVersion { get; init; }

    /// <summary>CL_DEVICE_VERSION, e.g. "OpenCL 3.0 PoCL ...".</summary>
    public required string DeviceVersion { get; init; }

    /// <summary>CL_DEVICE_OPENCL_C_VERSION, e.g. "OpenCL C 1.2 PoCL".</summary>
    public required string OpenCLCVersion { get; init; }

    /// <summary>"GPU", "CPU", "Accelerator" or a combination.</summary>
    public required string Type { get; init; }

    public required int ComputeUnits { get; init; }

    /// <summary>CL_DEVICE_MAX_CLOCK_FREQUENCY in MHz (0 when the driver does not say).</summary>
    public required int MaxClockMHz { get; init; }

    public required long MaxWorkGroupSize { get; init; }

    /// <summary>Per-dimension limits of a work-group.</summary>
    public required IReadOnlyList<long> MaxWorkItemSizes { get; init; }

    public required long LocalMemoryBytes { get; init; }

    public required long GlobalMemoryBytes { get; init; }

    /// <summary>CL_DEVICE_MAX_MEM_ALLOC_SIZE: the largest single buffer.</summary>
    public required long MaxAllocationBytes { get; init; }

    public required IReadOnlyList<string> Extensions { get; init; }

    /// <summary>cl_khr_fp16: half arithmetic (the kernels' KERNELS_FP16 path).</summary>
    public bool HasFp16 => Extensions.Contains("cl_khr_fp16");

    /// <summary>cl_arm_integer_dot_product_int8: arm_dot on char4 (the kernels' KERNELS_ARM_DOT8 path).</summary>
    public bool HasIntegerDot8 => Extensions.Contains("cl_arm_integer_dot_product_int8");

    /// <summary>Device, vendor, driver and platform version: compiled binaries and tuned sizes are only reused under the same key.</summary>
    public string Key => $"{Name} | {Vendor} | {DriverVersion} | {DeviceVersion} | {PlatformName} {PlatformVersion}";

    /// <summary>"pthread-skylake (Portable Computing Language, CPU)".</summary>
    public override string ToString() => $"{Name} ({PlatformName}, {Type})";
}
