using Kernels.Graph.Execution;
using Xunit;

namespace Kernels.Tests.Execution;

/// <summary>Tests that measure the whole process, so nothing else may run beside them.</summary>
[CollectionDefinition(nameof(ProcessWideCollection), DisableParallelization = true)]
public sealed class ProcessWideCollection
{
}

/// <summary>
/// A steady-state <see cref="InferenceSession.Run"/> allocates nothing on the managed heap of any thread (the
/// worker group's threads included): GC.GetTotalAllocatedBytes, as the issue asks, over whole-network runs.
/// Open: GoogLeNet allocates 168–336 bytes per 10 runs process-wide (on 1 and 2 threads) although its runs
/// allocate nothing on the calling thread (InferenceSessionTests) and its layers alone allocate nothing with a
/// 2-thread group; whether a runtime thread (tier-1 promotion of the execution steps) or the run is the source
/// is not found yet, so it is not in the table.
/// </summary>
[Collection(nameof(ProcessWideCollection))]
public sealed class ProcessAllocationTests
{
    [Theory]
    [InlineData("squeezenet", 1)]
    [InlineData("squeezenet", 2)]
    public void RunAllocatesNothingOnAnyThread(string network, int threads)
    {
        using var session = InferenceSession.FromZoo(network, new InferenceOptions { Threads = threads });
        var input = TestData.RandomFloats(new Random(9), (int)session.InputShape.ElementCount);
        var output = new float[session.OutputShape.ElementCount];
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 40; i++)
            {
                session.Run(input, output);
            }

            Thread.Sleep(150);
        }

        // The quietest of ten windows: a runtime or test-runner thread may allocate now and then, a run would every time.
        long least = long.MaxValue;
        for (int window = 0; window < 10 && least != 0; window++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 10; i++)
            {
                session.Run(input, output);
            }

            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(least == 0, $"{network} on {threads} thread(s): {least} bytes allocated process-wide in the quietest window of 10 runs.");
    }
}
