using Kernels.Graph.Planning;
using Xunit;

namespace Kernels.Tests.Planning;

public sealed class ArenaPlannerTests
{
    [Fact]
    public void ChainReusesMemoryOfDeadTensors()
    {
        // a → b → c → d: at each step only the producer's input and output are live.
        var plan = ArenaPlanner.Plan([new(1000, 0, 1), new(2000, 1, 2), new(1000, 2, 3), new(2000, 3, 4)]);
        CheckNoLiveOverlap(plan, [new(1000, 0, 1), new(2000, 1, 2), new(1000, 2, 3), new(2000, 3, 4)], 64);
        Assert.Equal(6000, plan.TotalTensorBytes);
        // At most two tensors are live at once (3000 bytes); alignment to 64 may add a few bytes.
        Assert.True(plan.ArenaBytes <= 3000 + 64, $"arena {plan.ArenaBytes}");
        Assert.True(plan.ArenaBytes >= 3000);
    }

    [Fact]
    public void RandomLifetimesNeverShareLiveBytesAndStayNearTheLowerBound()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = rng.Next(1, 60);
            var tensors = new TensorLifetime[n];
            for (int i = 0; i < n; i++)
            {
                int first = rng.Next(0, 40);
                tensors[i] = new TensorLifetime(rng.Next(0, 5) == 0 ? 0 : rng.Next(1, 100_000), first, first + rng.Next(0, 6));
            }

            var plan = ArenaPlanner.Plan(tensors, alignment: 64);
            CheckNoLiveOverlap(plan, tensors, 64);

            // No plan can be smaller than the largest set of bytes live at one step.
            long peak = 0;
            for (int step = 0; step < 50; step++)
            {
                peak = Math.Max(peak, tensors.Where(t => t.FirstUse <= step && step <= t.LastUse).Sum(static t => t.Bytes));
            }

            Assert.True(plan.ArenaBytes >= peak);
            Assert.True(plan.ArenaBytes <= plan.TotalTensorBytes + (64L * n));
        }
    }

    [Fact]
    public void RejectsBadInput()
    {
        Assert.Equal("tensors", Assert.Throws<ArgumentException>(() => ArenaPlanner.Plan([new(-1, 0, 0)])).ParamName);
        Assert.Equal("tensors", Assert.Throws<ArgumentException>(() => ArenaPlanner.Plan([new(8, 3, 2)])).ParamName);
        Assert.Equal("tensors", Assert.Throws<ArgumentException>(() => ArenaPlanner.Plan([new(8, -1, 2)])).ParamName);
        Assert.Equal("alignment", Assert.Throws<ArgumentException>(() => ArenaPlanner.Plan([new(8, 0, 2)], alignment: 48)).ParamName);
        Assert.Equal(0, ArenaPlanner.Plan([]).ArenaBytes);
    }

    private static void CheckNoLiveOverlap(ArenaPlan plan, IReadOnlyList<TensorLifetime> tensors, int alignment)
    {
        Assert.Equal(tensors.Count, plan.Offsets.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            Assert.Equal(0, plan.Offsets[i] % alignment);
            Assert.True(plan.Offsets[i] + tensors[i].Bytes <= plan.ArenaBytes);
            for (int j = i + 1; j < tensors.Count; j++)
            {
                bool live = tensors[i].FirstUse <= tensors[j].LastUse && tensors[j].FirstUse <= tensors[i].LastUse;
                bool bytes = plan.Offsets[i] < plan.Offsets[j] + tensors[j].Bytes && plan.Offsets[j] < plan.Offsets[i] + tensors[i].Bytes;
                Assert.False(live && bytes && tensors[i].Bytes > 0 && tensors[j].Bytes > 0, $"tensors {i} and {j} are live together and overlap");
            }
        }
    }
}
