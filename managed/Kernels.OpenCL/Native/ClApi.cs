using System.Reflection;
using System.Runtime.InteropServices;

namespace Kernels.OpenCL.Native;

/// <summary>
/// Source-generated bindings to the OpenCL ICD loader (libOpenCL.so.1): only the entry points the
/// runtime uses, with blittable signatures (size_t is nuint, cl_bitfield is ulong, cl_bool is uint).
/// Every function returns the raw cl_int; <see cref="ClCheck"/> turns a failure into an <see cref="OpenCLException"/>.
/// </summary>
internal static unsafe partial class ClApi
{
    public const string Library = "libOpenCL.so.1";

    public const ulong DeviceTypeAll = 0xFFFFFFFF;
    public const ulong QueueProfilingEnable = 1 << 1;
    public const ulong MemReadWrite = 1 << 0;
    public const ulong MemWriteOnly = 1 << 1;
    public const ulong MemReadOnly = 1 << 2;
    public const ulong MapRead = 1 << 0;
    public const ulong MapWrite = 1 << 1;

    public const uint PlatformVersion = 0x0901;
    public const uint PlatformName = 0x0902;
    public const uint PlatformVendor = 0x0903;

    public const uint DeviceType = 0x1000;
    public const uint DeviceMaxComputeUnits = 0x1002;
    public const uint DeviceMaxWorkItemDimensions = 0x1003;
    public const uint DeviceMaxWorkGroupSize = 0x1004;
    public const uint DeviceMaxWorkItemSizes = 0x1005;
    public const uint DeviceMaxClockFrequency = 0x100C;
    public const uint DeviceMaxMemAllocSize = 0x1010;
    public const uint DeviceGlobalMemSize = 0x101F;
    public const uint DeviceLocalMemSize = 0x1023;
    public const uint DeviceName = 0x102B;
    public const uint DeviceVendor = 0x102C;
    public const uint DriverVersion = 0x102D;
    public const uint DeviceVersion = 0x102F;
    public const uint DeviceExtensions = 0x1030;
    public const uint DeviceOpenCLCVersion = 0x103D;

    public const uint ProgramBinarySizes = 0x1165;
    public const uint ProgramBinaries = 0x1166;
    public const uint ProgramBuildLog = 0x1183;

    public const uint KernelWorkGroupSize = 0x11B0;

    public const uint ProfilingCommandStart = 0x1282;
    public const uint ProfilingCommandEnd = 0x1283;

    static ClApi()
    {
        // PoCL reads its environment when the loader first opens it: set it before any entry point binds.
        ClEnvironment.Prepare();
        NativeLibrary.SetDllImportResolver(typeof(ClApi).Assembly, Resolve);
    }

    // Desktop Linux ships the ICD loader as libOpenCL.so.1; Android vendor images (Mali) often only as libOpenCL.so.
    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return 0;
        }

        return NativeLibrary.TryLoad(Library, out nint h) || NativeLibrary.TryLoad("libOpenCL.so", out h) ? h : 0;
    }

    [LibraryImport(Library)]
    public static partial int clGetPlatformIDs(uint numEntries, nint* platforms, uint* numPlatforms);

    [LibraryImport(Library)]
    public static partial int clGetPlatformInfo(nint platform, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial int clGetDeviceIDs(nint platform, ulong deviceType, uint numEntries, nint* devices, uint* numDevices);

    [LibraryImport(Library)]
    public static partial int clGetDeviceInfo(nint device, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial ClContextHandle clCreateContext(nint* properties, uint numDevices, nint* devices, nint notify, nint userData, int* errcode);

    [LibraryImport(Library)]
    public static partial int clReleaseContext(nint context);

    [LibraryImport(Library)]
    public static partial ClQueueHandle clCreateCommandQueue(ClContextHandle context, nint device, ulong properties, int* errcode);

    [LibraryImport(Library)]
    public static partial int clReleaseCommandQueue(nint queue);

    [LibraryImport(Library)]
    public static partial int clFinish(ClQueueHandle queue);

    [LibraryImport(Library)]
    public static partial ClMemHandle clCreateBuffer(ClContextHandle context, ulong flags, nuint size, void* hostPtr, int* errcode);

    [LibraryImport(Library)]
    public static partial int clReleaseMemObject(nint memory);

    [LibraryImport(Library)]
    public static partial int clEnqueueWriteBuffer(
        ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size, void* source, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clEnqueueReadBuffer(
        ClQueueHandle queue, ClMemHandle buffer, uint blocking, nuint offset, nuint size, void* destination, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial void* clEnqueueMapBuffer(
        ClQueueHandle queue, ClMemHandle buffer, uint blocking, ulong mapFlags, nuint offset, nuint size, uint numWait, nint* waitList, nint* evt, int* errcode);

    [LibraryImport(Library)]
    public static partial int clEnqueueUnmapMemObject(ClQueueHandle queue, ClMemHandle memory, void* mapped, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial ClProgramHandle clCreateProgramWithSource(ClContextHandle context, uint count, byte** strings, nuint* lengths, int* errcode);

    [LibraryImport(Library)]
    public static partial ClProgramHandle clCreateProgramWithBinary(
        ClContextHandle context, uint numDevices, nint* devices, nuint* lengths, byte** binaries, int* binaryStatus, int* errcode);

    [LibraryImport(Library)]
    public static partial int clBuildProgram(ClProgramHandle program, uint numDevices, nint* devices, byte* options, nint notify, nint userData);

    [LibraryImport(Library)]
    public static partial int clGetProgramBuildInfo(ClProgramHandle program, nint device, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial int clGetProgramInfo(ClProgramHandle program, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial int clReleaseProgram(nint program);

    [LibraryImport(Library)]
    public static partial ClKernelHandle clCreateKernel(ClProgramHandle program, byte* name, int* errcode);

    [LibraryImport(Library)]
    public static partial int clReleaseKernel(nint kernel);

    [LibraryImport(Library)]
    public static partial int clSetKernelArg(ClKernelHandle kernel, uint index, nuint size, void* value);

    [LibraryImport(Library)]
    public static partial int clGetKernelWorkGroupInfo(ClKernelHandle kernel, nint device, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial int clEnqueueNDRangeKernel(
        ClQueueHandle queue, ClKernelHandle kernel, uint workDim, nuint* globalOffset, nuint* globalSize, nuint* localSize, uint numWait, nint* waitList, nint* evt);

    [LibraryImport(Library)]
    public static partial int clWaitForEvents(uint numEvents, nint* events);

    [LibraryImport(Library)]
    public static partial int clGetEventProfilingInfo(ClEventHandle evt, uint param, nuint size, void* value, nuint* sizeRet);

    [LibraryImport(Library)]
    public static partial int clReleaseEvent(nint evt);
}
