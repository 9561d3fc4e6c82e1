using Xunit;

namespace Kernels.Tests;

/// <summary>The "no managed allocation per call after warm-up" check shared by every kernel's tests.</summary>
internal static class SteadyState
{
    /// <summary>
    /// Warms <paramref name="call"/> past tiered compilation, then measures five windows of ten calls and asserts
    /// that one of them allocated nothing. With tiered PGO a method is promoted twice (tier 0 → instrumented
    /// tier 1 → tier 1), each after 30 calls and a 100 ms background delay, and a promotion may allocate once on
    /// the calling thread; so the warm-up is four rounds of 40 calls with a pause after each. A call that
    /// allocates every time allocates in every window, so it still fails.
    /// </summary>
    public static void AssertAllocatesNothing(Action call, string what) => Assert(call, what, GC.GetAllocatedBytesForCurrentThread, "on the calling thread");

    private static void Assert(Action call, string what, Func<long> allocated, string where)
    {
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 40; i++)
            {
                call();
            }

            Thread.Sleep(150);
        }

        long least = long.MaxValue;
        for (int window = 0; window < 5 && least != 0; window++)
        {
            long before = allocated();
            for (int i = 0; i < 10; i++)
            {
                call();
            }

            least = Math.Min(least, allocated() - before);
        }

        Xunit.Assert.True(least == 0, $"{what}: {least} bytes allocated {where} in the quietest window of 10 steady-state calls.");
    }
}

