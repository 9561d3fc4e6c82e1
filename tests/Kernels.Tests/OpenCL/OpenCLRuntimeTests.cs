using Kernels.OpenCL;
using Kernels.OpenCL.Native;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

public sealed class OpenCLRuntimeTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    private OpenCLContext Context => fixture.Context;

    [Fact]
    public void ErrorCodesHaveTheirHeaderNames()
    {
        Assert.Equal("CL_SUCCESS", ClErrorCodes.Name(0));
        Assert.Equal("CL_OUT_OF_RESOURCES", ClErrorCodes.Name(-5));
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", ClErrorCodes.Name(-11));
        Assert.Equal("CL_INVALID_WORK_GROUP_SIZE", ClErrorCodes.Name(-54));
        Assert.Equal("CL_PLATFORM_NOT_FOUND_KHR", ClErrorCodes.Name(-1001));
        Assert.Equal("CL_UNKNOWN_ERROR", ClErrorCodes.Name(-12345));

        var e = new OpenCLException(-4, "clCreateBuffer", "1024 bytes on Mali-G78");
        Assert.Equal("clCreateBuffer failed with CL_MEM_OBJECT_ALLOCATION_FAILURE (-4) (1024 bytes on Mali-G78)", e.Message);
        Assert.Contains("no OpenCL platform is installed", new OpenCLException(-1001, "clGetPlatformIDs").Message);
    }

    [OpenCLFact]
    public void DiscoveryReportsTheDeviceLimits()
    {
        OpenCLDiscovery discovery = OpenCLDiscovery.Current;
        Assert.True(discovery.IsAvailable, discovery.UnavailableReason);
        Assert.Null(discovery.UnavailableReason);
        Assert.True(discovery.LibraryFound);
        Assert.True(discovery.PlatformCount >= 1);
        for (int i = 0; i < discovery.Devices.Count; i++)
        {
            OpenCLDevice d = discovery.Devices[i];
            Assert.Equal(i, d.Index);
            Assert.False(string.IsNullOrWhiteSpace(d.Name));
            Assert.StartsWith("OpenCL C ", d.OpenCLCVersion, StringComparison.Ordinal);
            Assert.StartsWith("OpenCL ", d.DeviceVersion, StringComparison.Ordinal);
            Assert.True(d.ComputeUnits >= 1);
            Assert.True(d.MaxWorkGroupSize >= 1);
            Assert.True(d.MaxWorkItemSizes.Count >= 3);
            Assert.All(d.MaxWorkItemSizes, s => Assert.True(s >= 1));
            Assert.True(d.GlobalMemoryBytes >= d.MaxAllocationBytes && d.MaxAllocationBytes > 0);
            Assert.True(d.LocalMemoryBytes > 0);
            Assert.NotEmpty(d.Extensions);
            Assert.Equal(d.Extensions.Contains("cl_khr_fp16"), d.HasFp16);
        }

        // The environment PoCL needs was set in the C environment before the first call (else 0 devices).
        Assert.False(string.IsNullOrEmpty(Environment.GetEnvironmentVariable("POCL_CACHE_DIR")));
        Assert.Equal("0", Environment.GetEnvironmentVariable("POCL_SIGFPE_HANDLER"));
    }

    [OpenCLFact]
    public void BuildOptionsFollowTheDevice()
    {
        string options = Context.BuildOptions;
        Assert.Contains("-cl-std=CL1.2", options);
        Assert.Equal(Context.Device.HasFp16, options.Contains("-DKERNELS_FP16=1"));
        Assert.Equal(Context.Device.HasIntegerDot8, options.Contains("-DKERNELS_ARM_DOT8=1"));
    }

    [OpenCLFact]
    public void IntegerDivisionByZeroStillThrowsAfterOpenCLIsLoaded()
    {
        _ = Context.GetProgram("elementwise");
        int zero = Environment.ProcessorCount - Environment.ProcessorCount;
        Assert.Throws<DivideByZeroException>(() => 1 / zero);
    }

    [OpenCLFact]
    public void BuffersRoundTripThroughWriteReadAndMap()
    {
        float[] data = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        using DeviceBuffer buffer = Context.CreateBuffer(data.Length * sizeof(float));
        buffer.Write<float>(data);
        var back = new float[data.Length];
        buffer.Read<float>(back);
        Assert.Equal(data, back);

        buffer.Write<float>(new float[] { -1f, -2f }, offsetBytes: 4 * sizeof(float));
        using (MappedBuffer<float> mapped = buffer.Map<float>(8, write: true))
        {
            Assert.Equal(new[] { 0f, 0.5f, 1f, 1.5f, -1f, -2f, 3f, 3.5f }, mapped.Span.ToArray());
            mapped.Span[0] = 42f;
        }

        buffer.Read<float>(back.AsSpan(0, 1));
        Assert.Equal(42f, back[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Read<float>(new float[1001]));
    }

    [OpenCLFact]
    public void BufferPoolReusesReturnedBuffers()
    {
        using var pool = new BufferPool(Context);
        DeviceBuffer first = pool.Rent(10_000);
        Assert.Equal(12_288, first.Bytes);
        first.Dispose();
        Assert.Equal(1, pool.FreeCount);
        using DeviceBuffer second = pool.Rent(9_000);
        Assert.Same(first, second);
        Assert.Equal(1, pool.Reuses);

        // Far smaller than the free buffer: a new one rather than wasting most of it.
        first.Dispose();
        using DeviceBuffer small = pool.Rent(100);
        Assert.NotSame(first, small);
        Assert.Equal(4096, small.Bytes);
        Assert.Equal(12_288 + 4096, pool.AllocatedBytes);
    }

    [OpenCLFact]
    public void ClErrorsNameTheCodeTheCallAndTheKernel()
    {
        using ClKernel kernel = Context.GetProgram("elementwise").CreateKernel("add_f32_x8");
        var e = Assert.Throws<OpenCLException>(() => kernel.SetArgument(99, 1));
        Assert.Equal("CL_INVALID_ARG_INDEX", e.CodeName);
        Assert.Equal("clSetKernelArg", e.Call);
        Assert.Contains("add_f32_x8", e.Message);

        var missing = Assert.Throws<OpenCLException>(() => Context.GetProgram("elementwise").CreateKernel("no_such_kernel"));
        Assert.Equal("CL_INVALID_KERNEL_NAME", missing.CodeName);
        Assert.Contains("no_such_kernel", missing.Message);
        Assert.Contains(Context.Device.Name, missing.Message);

        Assert.Throws<OpenCLException>(() => Context.CreateBuffer(Context.Device.MaxAllocationBytes + 1));
        Assert.Throws<ArgumentException>(() => ProgramSources.Get("no_such_program"));
    }

    [OpenCLFact]
    public void BuildFailureCarriesTheBuildLog()
    {
        const string Broken = "__kernel void broken(__global float* x) { x[0] = undeclared_variable_xyz; }";
        var e = Assert.Throws<OpenCLException>(() => Context.GetProgram("broken", Broken));
        Assert.Equal(-11, e.Code);
        Assert.Equal("CL_BUILD_PROGRAM_FAILURE", e.CodeName);
        Assert.NotNull(e.BuildLog);
        Assert.Contains("undeclared_variable_xyz", e.BuildLog);
        Assert.Contains("program broken", e.Message);
        Assert.Contains(Context.Device.Name, e.Message);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Kernels.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException($"No Kernels.sln above {AppContext.BaseDirectory}.");
    }

    [Fact]
    public void EveryKernelSourceIsEmbedded()
    {
        string dir = Path.Combine(RepoRoot(), "opencl");
        string[] onDisk = Directory.GetFiles(dir, "*.cl").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray()!;
        Assert.NotEmpty(onDisk);
        Assert.Equal(onDisk, ProgramSources.Names);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "elementwise.cl")).Replace("#include \"precision.h\"\n", File.ReadAllText(Path.Combine(dir, "precision.h")) + "\n", StringComparison.Ordinal), ProgramSources.Get("elementwise"));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "conv_int8.cl")), ProgramSources.Get("conv_int8"));
    }
}
