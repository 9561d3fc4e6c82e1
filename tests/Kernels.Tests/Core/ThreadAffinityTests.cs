using Kernels.Core.Threading;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class ThreadAffinityTests
{
    [Fact]
    public void PinAndRead_RoundTrip_OnLinux()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(ThreadAffinity.IsSupported);
            return;
        }

        int[]? original = ThreadAffinity.GetCurrentThreadAffinity();
        Assert.NotNull(original);
        Assert.NotEmpty(original);

        // On a dedicated thread, so the test runner's threads keep their affinity.
        int[]? seen = null;
        bool pinned = false;
        var thread = new Thread(() =>
        {
            pinned = ThreadAffinity.TryPinCurrentThread([original[^1]]);
            seen = ThreadAffinity.GetCurrentThreadAffinity();
        });
        thread.Start();
        thread.Join();

        Assert.True(pinned);
        Assert.Equal([original[^1]], Assert.IsType<int[]>(seen));
    }

    [Fact]
    public void Pin_RejectsBadArguments()
    {
        Assert.Throws<ArgumentException>(() => ThreadAffinity.TryPinCurrentThread([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ThreadAffinity.TryPinCurrentThread([-1]));
    }

    [Fact]
    public void Pin_ToAnOfflineCore_ReportsFailure()
    {
        bool pinned = true;
        var thread = new Thread(() => pinned = ThreadAffinity.TryPinCurrentThread([4000]));
        thread.Start();
        thread.Join();
        Assert.False(pinned);
    }
}
