using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

public sealed class ProgramCacheTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    [OpenCLFact]
    public void ASecondContextLoadsTheBinaryInsteadOfCompiling()
    {
        string dir = Path.Combine(fixture.Folder, "round-trip");
        OpenCLDevice device = OpenCLDiscovery.Current.Default;
        string source = ProgramSources.Get("elementwise");

        var cold = new ProgramCache(dir);
        using (OpenCLContext context = OpenCLContext.Create(device, cold))
        {
            ClProgram program = context.GetProgram("elementwise");
            Assert.False(program.FromCache);
            Assert.Equal((1, 0), (cold.Compiled, cold.Loaded));
            Assert.True(File.Exists(cold.PathOf(device, "elementwise", source, context.BuildOptions)));
            Assert.Same(program, context.GetProgram("elementwise"));
        }

        var warm = new ProgramCache(dir);
        using (OpenCLContext context = OpenCLContext.Create(device, warm))
        {
            ClProgram program = context.GetProgram("elementwise");
            Assert.True(program.FromCache);
            Assert.Equal((0, 1, 0), (warm.Compiled, warm.Loaded, warm.Rejected));
            AssertAddWorks(context);
        }
    }

    [OpenCLFact]
    public void ABinaryTheDriverRejectsIsReplacedBySourceBuild()
    {
        string dir = Path.Combine(fixture.Folder, "corrupt");
        OpenCLDevice device = OpenCLDiscovery.Current.Default;
        var cache = new ProgramCache(dir);
        string file;
        using (OpenCLContext context = OpenCLContext.Create(device, cache))
        {
            _ = context.GetProgram("elementwise");
            file = cache.PathOf(device, "elementwise", ProgramSources.Get("elementwise"), context.BuildOptions);
        }

        byte[] garbage = "not a program binary"u8.ToArray();
        File.WriteAllBytes(file, garbage);
        var again = new ProgramCache(dir);
        using (OpenCLContext context = OpenCLContext.Create(device, again))
        {
            Assert.False(context.GetProgram("elementwise").FromCache);
            Assert.Equal((1, 0, 1), (again.Compiled, again.Loaded, again.Rejected));
            AssertAddWorks(context);
        }

        Assert.NotEqual(garbage, File.ReadAllBytes(file));
    }

    [OpenCLFact]
    public void ADisabledCacheWritesNothing()
    {
        string dir = Path.Combine(fixture.Folder, "disabled");
        var cache = new ProgramCache(dir, enabled: false);
        using OpenCLContext context = OpenCLContext.Create(OpenCLDiscovery.Current.Default, cache);
        Assert.False(context.GetProgram("elementwise").FromCache);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void TheKeyChangesWithDeviceDriverSourceAndOptions()
    {
        OpenCLDevice device = FakeDevice("Mali-G78", "v1.r32p1");
        string key = ProgramCache.KeyOf(device, "src", "-cl-std=CL1.2");
        Assert.Equal(key, ProgramCache.KeyOf(FakeDevice("Mali-G78", "v1.r32p1"), "src", "-cl-std=CL1.2"));
        Assert.NotEqual(key, ProgramCache.KeyOf(FakeDevice("Mali-G710", "v1.r32p1"), "src", "-cl-std=CL1.2"));
        Assert.NotEqual(key, ProgramCache.KeyOf(FakeDevice("Mali-G78", "v1.r38p0"), "src", "-cl-std=CL1.2"));
        Assert.NotEqual(key, ProgramCache.KeyOf(device, "src ", "-cl-std=CL1.2"));
        Assert.NotEqual(key, ProgramCache.KeyOf(device, "src", "-cl-std=CL1.2 -DKERNELS_FP16=1"));
    }

    [Fact]
    public void BuildOptionsDefineWhatTheDeviceHas()
    {
        OpenCLDevice mali = FakeDevice("Mali-G78", "v1.r32p1");
        Assert.Equal("-cl-std=CL1.2 -DKERNELS_FP16=1 -DKERNELS_ARM_DOT8=1", OpenCLContext.BuildOptionsFor(mali));
        Assert.Equal("-cl-std=CL1.2", OpenCLContext.BuildOptionsFor(mali with { Extensions = ["cl_khr_fp64"] }));
        Assert.Equal("-DKERNELS_FP16=1", OpenCLContext.BuildOptionsFor(mali with { OpenCLCVersion = "OpenCL C 1.1", Extensions = ["cl_khr_fp16"] }));
    }

    internal static OpenCLDevice FakeDevice(string name, string driver) => new()
    {
        Index = 0,
        PlatformName = "ARM Platform",
        PlatformVersion = "OpenCL 3.0",
        Name = name,
        Vendor = "ARM",
        DriverVersion = driver,
        DeviceVersion = "OpenCL 3.0",
        OpenCLCVersion = "OpenCL C 3.0",
        Type = "GPU",
        ComputeUnits = 10,
        MaxClockMHz = 848,
        MaxWorkGroupSize = 1024,
        MaxWorkItemSizes = [1024, 1024, 1024],
        LocalMemoryBytes = 32768,
        GlobalMemoryBytes = 1L << 32,
        MaxAllocationBytes = 1L << 30,
        Extensions = ["cl_khr_fp16", "cl_arm_integer_dot_product_int8"],
    };

    private static void AssertAddWorks(OpenCLContext context)
    {
        using var add = new ElementwiseAdd(context);
        using DeviceBuffer a = context.CreateBuffer(11 * sizeof(float));
        a.Write<float>(Enumerable.Range(-5, 11).Select(i => (float)i).ToArray());
        add.Run(a, a, a, 11, Activation.Relu);
        var got = new float[11];
        a.Read<float>(got);
        Assert.Equal(Enumerable.Range(-5, 11).Select(i => Math.Max(0f, 2f * i)), got);
    }
}
