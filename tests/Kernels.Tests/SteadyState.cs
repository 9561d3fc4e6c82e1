using Xunit;

namespace Kernels.Tests;

/// <summary>The "no managed allocation per call after warm-up" check shared by every kernel's tests.</summary>
internal static class SteadyState
{
    /// <summary>
    /// Warms <paramref name="call"/> past tiered compilation (30 calls to tier-1 promotion, which compiles in the
    /// background after a 100 ms delay and may allocate once on the calling thread), then measures three windows of
    /// ten calls and asserts that one of them allocated nothing. A call that allocates every time allocates in
    /// every window, so it still fails; a one-off runtime allocation in one window does not.
    /// </summary>
    public static void AssertAllocatesNothing(Action call, string what)
    {
        for (int i = 0; i < 40; i++)
        {
            call();
        }

        Thread.Sleep(250);
        for (int i = 0; i < 10; i++)
        {
            call();
        }

        long least = long.MaxValue;
        for (int window = 0; window < 3 && least != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++)
            {
                call();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.True(least == 0, $"{what}: {least} bytes allocated in the quietest window of 10 steady-state calls.");
    }
}
