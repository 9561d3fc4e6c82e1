using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

public sealed class WorkSizeTunerTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    private static readonly Conv2DDescriptor Layer = Conv2DDescriptor.Create(8, 8, 4, 4, 3, padding: 1, activation: Activation.Relu);

    [OpenCLFact]
    public void TunedSizesRoundTripThroughTheTunerFile()
    {
        string file = Path.Combine(fixture.Folder, "tuner-round-trip.json");
        var programs = new ProgramCache(Path.Combine(fixture.Folder, "programs"));
        var tuner = new WorkSizeTuner(file, TunerMode.Normal);
        float[] first = RunLayer(programs, tuner);
        Assert.True(tuner.Measurements > 0);
        TunerEntry entry = Assert.Single(tuner.Entries.Values);
        Assert.Equal("conv2d_direct_nhwc_4x4", entry.Kernel);
        Assert.Equal(Layer.ToString(), entry.Configuration);
        Assert.True(entry.Milliseconds >= 0);
        Assert.False(File.Exists(file));
        tuner.Save();
        Assert.Contains("conv2d_direct_nhwc_4x4", File.ReadAllText(file));

        // Another process (here: a fresh tuner and context) takes the stored size without measuring, even in mode none.
        foreach (TunerMode mode in new[] { TunerMode.None, TunerMode.Normal })
        {
            var reloaded = new WorkSizeTuner(file, mode);
            TunerEntry back = Assert.Single(reloaded.Entries.Values);
            Assert.Equal(entry.Local, back.Local);
            Assert.Equal(entry.Global, back.Global);
            Assert.Equal(first, RunLayer(programs, reloaded));
            Assert.Equal(0, reloaded.Measurements);
        }
    }

    [OpenCLFact]
    public void ExhaustiveModeKeepsOneOfItsCandidatesAndAnInPlaceAddIsNeverTuned()
    {
        var tuner = new WorkSizeTuner(Path.Combine(fixture.Folder, "tuner-exhaustive.json"), TunerMode.Exhaustive);
        using OpenCLContext context = OpenCLContext.Create(fixture.Context.Device, new ProgramCache(Path.Combine(fixture.Folder, "programs")), tuner);
        using var add = new ElementwiseAdd(context);
        const int Count = 40; // 5 work-items: exhaustive candidates 1..8 (up to the next power of two)
        using DeviceBuffer a = context.CreateBuffer(Count * sizeof(float));
        using DeviceBuffer output = context.CreateBuffer(Count * sizeof(float));
        a.Write<float>(Enumerable.Range(0, Count).Select(i => (float)i).ToArray());

        // In place, a measured candidate would add twice: the tuner is only consulted, never run.
        add.Run(a, a, a, Count);
        Assert.Equal(0, tuner.Measurements);
        Assert.Empty(tuner.Entries);

        add.Run(a, a, output, Count);
        TunerEntry entry = Assert.Single(tuner.Entries.Values);
        Assert.Equal(new[] { 5, 1, 1 }, entry.Global);
        Assert.InRange(entry.Local[0], 1, 8);
        Assert.Equal(new[] { 1, 1 }, entry.Local[1..]);
        Assert.Equal(8 * 3, tuner.Measurements);
        var got = new float[Count];
        output.Read<float>(got);
        Assert.Equal(Enumerable.Range(0, Count).Select(i => 4f * i), got);
    }

    [OpenCLFact]
    public void CandidatesStayWithinTheLimitsAndTheGlobalSize()
    {
        using ClKernel kernel = fixture.Context.GetProgram("conv_direct").CreateKernel("conv2d_direct_nhwc_4x4");
        OpenCLDevice device = fixture.Context.Device;
        var global = new WorkSize(3, 20, 1);
        WorkSize[] normal = WorkSizeTuner.Candidates(global, kernel, device, TunerMode.Normal).ToArray();
        WorkSize[] exhaustive = WorkSizeTuner.Candidates(global, kernel, device, TunerMode.Exhaustive).ToArray();
        Assert.Equal(new[] { 1, 2, 4 }, normal.Select(w => w.X).Distinct().Order());
        Assert.Equal(new[] { 1, 2, 4, 8, 16, 32 }, normal.Select(w => w.Y).Distinct().Order());
        Assert.All(normal, w => Assert.Equal(1, w.Z));
        Assert.Subset(exhaustive.ToHashSet(), normal.ToHashSet());
        Assert.Contains(new WorkSize(3, 5, 1), exhaustive);
        Assert.All(exhaustive, w => Assert.True(w.Product <= Math.Min(device.MaxWorkGroupSize, kernel.MaxWorkGroupSize)));
    }

    [Fact]
    public void AFileThatIsNotATunerFileIsRejectedWithItsName()
    {
        string file = Path.Combine(Path.GetTempPath(), $"kernels-bad-tuner-{Environment.ProcessId}.json");
        try
        {
            File.WriteAllText(file, "{ not json");
            var e = Assert.Throws<InvalidDataException>(() => new WorkSizeTuner(file));
            Assert.Contains(file, e.Message);
            File.WriteAllText(file, """{ "version": 7, "entries": [] }""");
            Assert.Throws<InvalidDataException>(() => new WorkSizeTuner(file));
            File.WriteAllText(file, """{ "version": 1, "entries": [ { "device": "d", "kernel": "k", "configuration": "c", "global": [1,1,1], "local": [0,1,1], "milliseconds": 1 } ] }""");
            Assert.Contains("without 3 positive local sizes", Assert.Throws<InvalidDataException>(() => new WorkSizeTuner(file)).Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void GlobalSizesRoundUpToTheLocalSize()
    {
        Assert.Equal(new WorkSize(8, 12, 5), new WorkSize(5, 9, 5).RoundUpTo(new WorkSize(4, 6, 1)));
        Assert.Equal(new WorkSize(4, 4, 4), new WorkSize(4, 4, 4).RoundUpTo(new WorkSize(2, 4, 1)));
    }

    private float[] RunLayer(ProgramCache programs, WorkSizeTuner tuner)
    {
        var rng = new Random(5);
        float[] input = TestData.RandomFloats(rng, (int)Layer.InputLength);
        float[] weights = TestData.RandomFloats(rng, (int)Layer.WeightsLength);
        using OpenCLContext context = OpenCLContext.Create(fixture.Context.Device, programs, tuner);
        using var conv = new DirectConvolution(context, Layer, weights, []);
        using DeviceBuffer dIn = context.CreateBuffer(input.Length * sizeof(float));
        using DeviceBuffer dOut = context.CreateBuffer(Layer.OutputLength * sizeof(float));
        dIn.Write<float>(input);
        conv.Run(dIn, dOut);
        var output = new float[Layer.OutputLength];
        dOut.Read<float>(output);
        return output;
    }
}
