using Kernels.Core;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.OpenCL;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// Choosing the component a network runs on: the OpenCL device when it can run every node, else the CPU with a
/// one-line reason, unless the device was demanded ('!'), and then the error itself.
/// </summary>
public sealed class ComponentSessionTests
{
    private static NetworkGraph Graph(bool withSigmoid)
    {
        var b = new GraphBuilder(withSigmoid ? "gated" : "plain");
        Value x = b.Input("data", new TensorShape(1, 8, 8, 4));
        Value y = b.Conv(x, 8, 3, 1, 1, new Constant("w", ConstantRole.Weights, [8, 3, 3, 4], DeviceSessionTests.Random(8 * 9 * 4, 1, 0.3f)));
        return b.Build(withSigmoid ? b.Sigmoid(y, name: "gate") : b.Relu(y));
    }

    [Theory]
    [InlineData("cpu", ComponentKind.Cpu, 0, false)]
    [InlineData("CPU!", ComponentKind.Cpu, 0, true)]
    [InlineData("opencl", ComponentKind.OpenCL, 0, false)]
    [InlineData("opencl:2", ComponentKind.OpenCL, 2, false)]
    [InlineData(" OpenCL:1! ", ComponentKind.OpenCL, 1, true)]
    public void ComponentsParse(string text, ComponentKind kind, int device, bool required)
    {
        Component c = Component.Parse(text);
        Assert.Equal(new Component(kind, device, required), c);
        Assert.Equal(c, Component.Parse(c.ToString()));
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("opencl:")]
    [InlineData("opencl:-1")]
    [InlineData("opencl!!")]
    public void UnknownComponentsAreRejectedWithTheAcceptedForms(string text)
    {
        var e = Assert.Throws<FormatException>(() => Component.Parse(text));
        Assert.Contains("expected cpu, opencl or opencl:N", e.Message);
    }

    [Fact]
    public void AMissingDeviceFallsBackToTheCpuWithTheReason()
    {
        NetworkGraph graph = Graph(withSigmoid: false);
        using ComponentSession session = ComponentSession.Create(graph, Component.Parse("opencl:99"), new InferenceOptions());
        Assert.NotNull(session.Cpu);
        Assert.Null(session.Device);
        Assert.Equal("cpu", session.RunsOn);
        Assert.StartsWith("opencl:99 cannot run plain: no OpenCL device", session.FallbackReason);
        Assert.DoesNotContain("\n", session.FallbackReason!, StringComparison.Ordinal);
        float[] input = DeviceSessionTests.Random(8 * 8 * 4, 2);
        var fromFactory = new float[8 * 8 * 8];
        session.Run(input, fromFactory);
        using var cpu = InferenceSession.Create(graph, new InferenceOptions());
        Assert.Equal(cpu.Run(input), fromFactory);
    }

    [Fact]
    public void AMissingDemandedDeviceIsAnError()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ComponentSession.Create(Graph(withSigmoid: false), Component.Parse("opencl:99!"), new InferenceOptions()));
        Assert.Contains("no OpenCL device", e.Message);
    }

    [OpenCLFact]
    public void ANetworkTheDeviceRunsRunsThere()
    {
        NetworkGraph graph = Graph(withSigmoid: false);
        using ComponentSession session = ComponentSession.Create(graph, Component.Parse("opencl"), new InferenceOptions());
        Assert.NotNull(session.Device);
        Assert.Null(session.FallbackReason);
        Assert.Equal($"opencl:0 ({OpenCLDiscovery.Current.Devices[0].Name})", session.RunsOn);
        float[] input = DeviceSessionTests.Random(8 * 8 * 4, 3);
        var actual = new float[8 * 8 * 8];
        session.Run(input, actual);
        using var cpu = InferenceSession.Create(graph, new InferenceOptions());
        float[] expected = cpu.Run(input);
        Assert.True(DeviceSessionTests.RelativeL2(actual, expected.Select(v => (double)v).ToArray()) <= 1e-5);
    }

    [OpenCLFact]
    public void AnUnsupportedNodeFallsBackToTheCpuNamingTheNode()
    {
        using ComponentSession session = ComponentSession.Create(Graph(withSigmoid: true), Component.Parse("opencl"), new InferenceOptions());
        Assert.NotNull(session.Cpu);
        Assert.StartsWith("opencl:0 cannot run gated: Node 'gate' (Sigmoid) cannot run on OpenCL device", session.FallbackReason);
    }

    [OpenCLFact]
    public void AnUnsupportedNodeOnADemandedDeviceIsAnError()
    {
        var e = Assert.Throws<NotSupportedException>(() => ComponentSession.Create(Graph(withSigmoid: true), Component.Parse("opencl!"), new InferenceOptions()));
        Assert.Contains("'gate'", e.Message);
    }

    [OpenCLFact]
    public void AnOpenCLFailureAtPlanTimeOnADemandedDeviceIsRaisedNamingTheDevice()
    {
        // A network whose one intermediate tensor is larger than the device's largest allocation: the allocation
        // is refused (CL_INVALID_BUFFER_SIZE) naming the device, before any program is built.
        OpenCLDevice device = OpenCLDiscovery.Current.Devices[0];
        long pixels = (device.MaxAllocationBytes / sizeof(float) / 16) + 1;
        int side = (int)Math.Ceiling(Math.Sqrt(pixels));
        var b = new GraphBuilder("huge");
        Value x = b.Input("data", new TensorShape(1, side, side, 1));
        Value y = b.Conv(x, 16, 1, 1, 0, new Constant("w", ConstantRole.Weights, [16, 1, 1, 1], new float[16]));
        NetworkGraph graph = b.Build(b.GlobalAveragePool(y));

        var e = Assert.Throws<OpenCLException>(() => ComponentSession.Create(graph, Component.Parse("opencl!"), new InferenceOptions()));
        Assert.Contains(device.Name, e.Message);
        Assert.Contains("CL_INVALID_BUFFER_SIZE", e.Message);
    }
}
