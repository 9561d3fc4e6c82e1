using System.Diagnostics;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.Graph.Onnx;
using Kernels.Graph.Reference;
using Kernels.Graph.Zoo;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// Full-size zoo networks and the BlazeFace ONNX model on the OpenCL executor: every layer on the device, against
/// the CPU executor (zoo) or the float64 reference (BlazeFace, all four outputs).
/// </summary>
public sealed class DeviceNetworkTests(OpenCLFixture fixture, ITestOutputHelper output) : IClassFixture<OpenCLFixture>
{
    public static TheoryData<string> ZooNames => [.. ModelZoo.Names];

    [OpenCLTheory]
    [MemberData(nameof(ZooNames))]
    public void ZooNetworkMatchesTheCpuExecutor(string name)
    {
        NetworkGraph graph = ModelZoo.Create(name);
        float[] input = DeviceSessionTests.Random(graph.Inputs[0].Shape.ElementCount, 21);
        using var cpu = InferenceSession.Create(graph, new InferenceOptions());
        float[] expected = cpu.Run(input);

        long start = Stopwatch.GetTimestamp();
        using DeviceSession device = DeviceSession.Create(graph, fixture.Context);
        TimeSpan plan = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        float[] actual = device.Run(input);
        TimeSpan run = Stopwatch.GetElapsedTime(start);

        double error = DeviceSessionTests.RelativeL2(actual, expected.Select(v => (double)v).ToArray());
        output.WriteLine($"{name} on {device.Device.Name}: {device.LayerCount} layers ({device.InPlaceConcats} concats in place, {device.CopiedConcats} copied), plan {plan.TotalMilliseconds:0} ms, first run {run.TotalMilliseconds:0} ms, relative L2 against the CPU {error:E2}");
        Assert.True(error <= 1e-4, $"{name}: relative L2 error {error:E3} against the CPU executor");
    }

    [BlazeFaceOpenCLTheory]
    [InlineData("face_detection_front_128x128_barracuda.onnx")]
    [InlineData("face_detection_back_256x256_barracuda.onnx")]
    public void BlazeFaceRunsWhollyOnTheDeviceAndMatchesTheReferenceOnEveryOutput(string file)
    {
        string path = Path.Combine(OptionalDependencies.ModelsDirectory, "blazeface", file);
        OnnxImportedModel model = OnnxImporter.LoadModel(path);
        float[] image = DeviceSessionTests.Random(model.Inputs[0].Value.Shape.ElementCount, 5);
        IReadOnlyDictionary<string, double[]> reference = ReferenceExecutor.RunAll(model.Graph, new Dictionary<string, float[]> { [model.Inputs[0].Value.Name] = image });
        using DeviceSession session = DeviceSession.Create(model.Graph, fixture.Context);
        float[][] outputs = model.Outputs.Select(o => new float[o.Value.Shape.ElementCount]).ToArray();
        session.Run([image], outputs.Select(o => (Memory<float>)o).ToArray());
        for (int k = 0; k < outputs.Length; k++)
        {
            double error = DeviceSessionTests.RelativeL2(outputs[k], reference[model.Outputs[k].Value.Name]);
            output.WriteLine($"output '{model.Outputs[k].OnnxName}': relative L2 {error:E2}");
            Assert.True(error <= 1e-4, $"{file} output {k}: relative L2 error {error:E3}");
        }

        output.WriteLine($"{file}: {session.LayerCount} layers on {session.Device.Name}, {session.InPlaceConcats} in-place and {session.CopiedConcats} copied concats");
    }
}

/// <summary>A theory that needs both an OpenCL device and the BlazeFace models (tools/fetch-models.sh).</summary>
public sealed class BlazeFaceOpenCLTheoryAttribute : TheoryAttribute
{
    public BlazeFaceOpenCLTheoryAttribute() => Skip = OpenCLAvailability.SkipReason ?? OptionalDependencies.BlazeFaceSkipReason;
}
