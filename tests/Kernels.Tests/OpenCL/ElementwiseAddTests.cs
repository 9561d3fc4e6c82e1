using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Xunit;

namespace Kernels.Tests.OpenCL;

public sealed class ElementwiseAddTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    public static TheoryData<int, int> Cases()
    {
        var data = new TheoryData<int, int>();
        int[] counts = [1, 7, 8, 9, 15, 16, 17, 1000, 4099];
        for (int i = 0; i < counts.Length; i++)
        {
            data.Add(counts[i], i % 4);
        }

        data.Add(4099, 1);
        data.Add(4099, 2);
        data.Add(4099, 3);
        return data;
    }

    [OpenCLTheory]
    [MemberData(nameof(Cases))]
    public void MatchesTheScalarDefinitionExactly(int count, int activationKind)
    {
        FusedActivation activation = new((Activation)activationKind, 0.1f);
        var rng = new Random(count * 7 + activationKind);
        float[] a = TestData.RandomFloats(rng, count).Select(v => v * 8).ToArray();
        float[] b = TestData.RandomFloats(rng, count).Select(v => v * 8).ToArray();
        OpenCLContext context = fixture.Context;
        using var add = new ElementwiseAdd(context);
        using DeviceBuffer da = context.CreateBuffer(count * sizeof(float));
        using DeviceBuffer db = context.CreateBuffer(count * sizeof(float));

        // One float more than needed, so a store past the end shows.
        using DeviceBuffer dout = context.CreateBuffer((count + 1) * sizeof(float));
        da.Write<float>(a);
        db.Write<float>(b);
        dout.Write<float>(Enumerable.Repeat(float.NaN, count + 1).ToArray());
        add.Run(da, db, dout, count, activation);
        var got = new float[count + 1];
        dout.Read<float>(got);
        for (int i = 0; i < count; i++)
        {
            float expected = activation.Apply(a[i] + b[i]);
            Assert.True(expected == got[i], $"add {activation} n={count} at {i}: {got[i]}, expected {expected}");
        }

        Assert.True(float.IsNaN(got[count]), $"add n={count} wrote past the end");
    }

    [OpenCLFact]
    public void RunsInPlace()
    {
        OpenCLContext context = fixture.Context;
        using var add = new ElementwiseAdd(context);
        float[] a = Enumerable.Range(0, 21).Select(i => i - 10f).ToArray();
        using DeviceBuffer da = context.CreateBuffer(a.Length * sizeof(float));
        using DeviceBuffer db = context.CreateBuffer(a.Length * sizeof(float));
        da.Write<float>(a);
        db.Write<float>(a);
        add.Run(da, db, da, a.Length, Activation.Relu6);
        var got = new float[a.Length];
        da.Read<float>(got);
        Assert.Equal(a.Select(v => Math.Clamp(2 * v, 0f, 6f)), got);
        Assert.Throws<ArgumentException>(() => add.Run(da, db, da, a.Length + 1));
    }
}
