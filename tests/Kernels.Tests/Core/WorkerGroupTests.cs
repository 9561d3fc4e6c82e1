using System.Collections.Concurrent;
using Kernels.Core.Threading;
using Kernels.Core.Topology;
using Xunit;

namespace Kernels.Tests.Core;

public sealed class WorkerGroupTests
{
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(60);

    /// <summary>Counts every index it is given; records the chunks.</summary>
    private struct CountingBody : IRangeBody
    {
        public int[] Hits;
        public ConcurrentBag<(int Begin, int End)> Chunks;

        public readonly void Execute(int begin, int end)
        {
            Chunks.Add((begin, end));
            for (int i = begin; i < end; i++)
            {
                Interlocked.Increment(ref Hits[i]);
            }
        }
    }

    private struct CountingWork : IParallelWork
    {
        public int[] Calls;
        public int[] ThreadIds;
        public int[] WorkerCounts;

        public readonly void Execute(int worker, int workerCount)
        {
            Interlocked.Increment(ref Calls[worker]);
            ThreadIds[worker] = Environment.CurrentManagedThreadId;
            WorkerCounts[worker] = workerCount;
        }
    }

    /// <summary>Throws on the chosen workers; the others sleep first, so Run must really wait for them.</summary>
    private struct ThrowingWork : IParallelWork
    {
        public int ThrowMask;
        public int[] Finished;

        public readonly void Execute(int worker, int workerCount)
        {
            if ((ThrowMask & (1 << worker)) != 0)
            {
                throw new InvalidDataException($"worker {worker}");
            }

            Thread.Sleep(50);
            Interlocked.Increment(ref Finished[0]);
        }
    }

    private struct SumBody : IRangeBody
    {
        public long Total;

        public void Execute(int begin, int end) => Interlocked.Add(ref Total, end - begin);
    }

    private struct NoopWork : IParallelWork
    {
        public int Calls;

        public void Execute(int worker, int workerCount) => Interlocked.Increment(ref Calls);
    }

    private struct BlockingWork : IParallelWork
    {
        public ManualResetEventSlim Entered;
        public ManualResetEventSlim Release;

        public readonly void Execute(int worker, int workerCount)
        {
            if (worker == 0)
            {
                Entered.Set();
                Release.Wait();
            }
        }
    }

    private struct NestedWork : IParallelWork
    {
        public WorkerGroup Group;
        public int NestOnWorker;

        public readonly void Execute(int worker, int workerCount)
        {
            if (worker == NestOnWorker)
            {
                var inner = new NoopWork();
                Group.Run(ref inner);
            }
        }
    }

    private struct AffinityWork : IParallelWork
    {
        public int[]?[] Affinity;

        public readonly void Execute(int worker, int workerCount) =>
            Affinity[worker] = ThreadAffinity.GetCurrentThreadAffinity();
    }

    public static TheoryData<int, int> CountsAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (int threads in new[] { 1, 2, 3 })
        {
            foreach (int count in new[] { 0, 1, 2, 3, 7, 1000 })
            {
                data.Add(count, threads);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CountsAndThreads))]
    public void ParallelFor_CoversEveryIndexExactlyOnce(int count, int threads) => WithinLimit(() =>
    {
        using var group = new WorkerGroup(threads);
        var body = new CountingBody { Hits = new int[count], Chunks = [] };

        group.ParallelFor(count, ref body);

        Assert.All(body.Hits, h => Assert.Equal(1, h));
        var chunks = body.Chunks.OrderBy(c => c.Begin).ToArray();
        Assert.Equal(Math.Min(count, threads), chunks.Length);
        Assert.All(chunks, c => Assert.True(c.End > c.Begin, "no empty chunk"));
        for (int i = 1; i < chunks.Length; i++)
        {
            Assert.Equal(chunks[i - 1].End, chunks[i].Begin);
        }

        if (chunks.Length > 0)
        {
            Assert.True(chunks.Max(c => c.End - c.Begin) - chunks.Min(c => c.End - c.Begin) <= 1, "balanced split");
        }
    });

    [Fact]
    public void ParallelFor_RejectsNegativeCount()
    {
        using var group = new WorkerGroup(2);
        var body = new SumBody();
        Assert.Throws<ArgumentOutOfRangeException>(() => group.ParallelFor(-1, ref body));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Run_CallsEveryWorkerOnce_CallerIsWorkerZero(int threads) => WithinLimit(() =>
    {
        using var group = new WorkerGroup(threads);
        for (int round = 0; round < 50; round++)
        {
            var work = new CountingWork { Calls = new int[threads], ThreadIds = new int[threads], WorkerCounts = new int[threads] };

            group.Run(ref work);

            Assert.All(work.Calls, c => Assert.Equal(1, c));
            Assert.All(work.WorkerCounts, c => Assert.Equal(threads, c));
            Assert.Equal(Environment.CurrentManagedThreadId, work.ThreadIds[0]);
            Assert.Equal(threads, work.ThreadIds.Distinct().Count());
        }
    });

    [Fact]
    public void Run_MutatesTheCallersStruct()
    {
        using var group = new WorkerGroup(3);
        var work = new NoopWork();
        group.Run(ref work);
        group.Run(ref work);
        Assert.Equal(6, work.Calls);
    }

    [Fact]
    public void ManyCalls_NeverLoseAWakeUp() => WithinLimit(() =>
    {
        using var group = new WorkerGroup(3);
        var body = new SumBody();
        for (int i = 0; i < 20_000; i++)
        {
            group.ParallelFor(10, ref body);
            if (i % 1000 == 0)
            {
                // Let the helpers fall asleep, so the blocking wake-up path runs too.
                Thread.Sleep(5);
            }
        }

        Assert.Equal(200_000, body.Total);
    });

    [Theory]
    [InlineData(0b001)]
    [InlineData(0b010)]
    [InlineData(0b100)]
    [InlineData(0b111)]
    public void Exception_IsRethrownAfterAllWorkersFinish_AndGroupStaysUsable(int throwMask) => WithinLimit(() =>
    {
        using var group = new WorkerGroup(3);
        var work = new ThrowingWork { ThrowMask = throwMask, Finished = new int[1] };

        var e = Assert.Throws<InvalidDataException>(() => group.Run(ref work));

        Assert.Matches("^worker [012]$", e.Message);
        Assert.True((throwMask & (1 << (e.Message[^1] - '0'))) != 0, "the exception comes from a throwing worker");
        int expectedFinished = 3 - System.Numerics.BitOperations.PopCount((uint)throwMask);
        Assert.Equal(expectedFinished, Volatile.Read(ref work.Finished[0]));

        var body = new CountingBody { Hits = new int[100], Chunks = [] };
        group.ParallelFor(100, ref body);
        Assert.All(body.Hits, h => Assert.Equal(1, h));
    });

    [Fact]
    public void Exception_WithSingleThread_Propagates()
    {
        using var group = new WorkerGroup(1);
        var work = new ThrowingWork { ThrowMask = 1, Finished = new int[1] };
        Assert.Throws<InvalidDataException>(() => group.Run(ref work));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void SteadyState_AllocatesNothing(int threads) => WithinLimit(() =>
    {
        using var group = new WorkerGroup(threads);
        var work = new NoopWork();
        var body = new SumBody();

        // Warm up: JIT, the spin paths, and the blocking paths on both sides.
        for (int i = 0; i < 200; i++)
        {
            group.Run(ref work);
            group.ParallelFor(100, ref body);
        }

        Thread.Sleep(20);
        group.Run(ref work);
        var slow = new ThrowingWork { ThrowMask = 0, Finished = new int[1] };
        group.Run(ref slow);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            group.Run(ref work);
            group.ParallelFor(100, ref body);
            if (i % 250 == 0)
            {
                Thread.Sleep(10);
            }
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1201 * threads, work.Calls);
        Assert.Equal(120_000, body.Total);
    });

    [Fact]
    public void ConcurrentCall_Throws_AndDoesNotDisturbTheRunningCall() => WithinLimit(() =>
    {
        using var group = new WorkerGroup(2);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var running = Task.Run(() =>
        {
            var blocking = new BlockingWork { Entered = entered, Release = release };
            group.Run(ref blocking);
        });
        Assert.True(entered.Wait(HangLimit));

        var work = new NoopWork();
        Assert.Throws<InvalidOperationException>(() => group.Run(ref work));
        var body = new SumBody();
        Assert.Throws<InvalidOperationException>(() => group.ParallelFor(10, ref body));

        release.Set();
        Assert.True(running.Wait(HangLimit));
        group.Run(ref work);
        Assert.Equal(2, work.Calls);
    });

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void NestedCall_Throws(int nestOnWorker) => WithinLimit(() =>
    {
        using var group = new WorkerGroup(2);
        var work = new NestedWork { Group = group, NestOnWorker = nestOnWorker };

        Assert.Throws<InvalidOperationException>(() => group.Run(ref work));

        var ok = new NoopWork();
        group.Run(ref ok);
        Assert.Equal(2, ok.Calls);
    });

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Dispose_StopsThreads_LaterCallsThrow(int threads) => WithinLimit(() =>
    {
        var group = new WorkerGroup(threads);
        var work = new NoopWork();
        group.Run(ref work);

        group.Dispose();
        group.Dispose();

        Assert.False(group.AnyHelperAlive);
        Assert.Throws<ObjectDisposedException>(() => group.Run(ref work));
        var body = new SumBody();
        Assert.Throws<ObjectDisposedException>(() => group.ParallelFor(5, ref body));
    });

    [Fact]
    public void Dispose_DuringACall_StopsWhenTheCallEnds() => WithinLimit(() =>
    {
        var group = new WorkerGroup(3);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var running = Task.Run(() =>
        {
            var blocking = new BlockingWork { Entered = entered, Release = release };
            group.Run(ref blocking);
        });
        Assert.True(entered.Wait(HangLimit));

        group.Dispose();
        release.Set();

        Assert.True(running.Wait(HangLimit));
        Assert.False(group.AnyHelperAlive);
    });

    [Fact]
    public void Constructor_ValidatesArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerGroup(0));
        Assert.Throws<ArgumentException>(() => new WorkerGroup(2, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerGroup(2, [0, -1]));
    }

    [Fact]
    public void Unpinned_ReportsNoPinning()
    {
        using var group = new WorkerGroup(2);
        Assert.False(group.IsPinned);
        Assert.Empty(group.Cores);
        Assert.Equal(2, group.ThreadCount);
    }

    [Fact]
    public void Pinned_HelpersRunOnTheirCoresRoundRobin() => WithinLimit(() =>
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // The cores this process may use (a taskset or cpuset may exclude some online ones).
        int[] cores = Assert.IsType<int[]>(ThreadAffinity.GetCurrentThreadAffinity());
        using var group = new WorkerGroup(cores.Length + 1, cores);

        Assert.True(group.IsPinned);
        Assert.Equal(cores, group.Cores);
        var work = new AffinityWork { Affinity = new int[]?[group.ThreadCount] };
        group.Run(ref work);
        for (int worker = 1; worker < group.ThreadCount; worker++)
        {
            Assert.Equal([cores[worker % cores.Length]], Assert.IsType<int[]>(work.Affinity[worker]));
        }

        // Worker 0 is the caller, whose affinity the group leaves alone.
        Assert.Equal(ThreadAffinity.GetCurrentThreadAffinity(), work.Affinity[0]);
    });

    [Fact]
    public void Pinned_ToAnImpossibleCore_ReportsNotPinned_AndStillWorks() => WithinLimit(() =>
    {
        using var group = new WorkerGroup(2, [4000]);

        Assert.False(group.IsPinned);
        var work = new NoopWork();
        group.Run(ref work);
        Assert.Equal(2, work.Calls);
    });

    [Fact]
    public void ForCluster_UsesOneThreadPerCore()
    {
        var cluster = CpuTopology.Detect().Clusters[0];
        using var group = WorkerGroup.ForCluster(cluster);

        Assert.Equal(cluster.Cores.Count, group.ThreadCount);
        Assert.Equal(cluster.Cores, group.Cores);
        int[] allowed = ThreadAffinity.GetCurrentThreadAffinity() ?? [];
        bool pinnable = OperatingSystem.IsLinux() && cluster.Cores.Count > 1 && cluster.Cores.All(allowed.Contains);
        Assert.Equal(pinnable, group.IsPinned);

        using var three = WorkerGroup.ForCluster(cluster, threadCount: 3);
        Assert.Equal(3, three.ThreadCount);
    }

    [Theory]
    [InlineData(10, 3, new[] { 4, 3, 3 })]
    [InlineData(2, 2, new[] { 1, 1 })]
    [InlineData(7, 7, new[] { 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(1000, 3, new[] { 334, 333, 333 })]
    public void Split_GivesBalancedContiguousChunks(int count, int chunks, int[] sizes)
    {
        int begin = 0;
        for (int i = 0; i < chunks; i++)
        {
            var (b, e) = WorkerGroup.Split(count, i, chunks);
            Assert.Equal(begin, b);
            Assert.Equal(sizes[i], e - b);
            begin = e;
        }

        Assert.Equal(count, begin);
    }

    /// <summary>Turns a hang (a lost wake-up) into a failure instead of a stuck test run.</summary>
    private static void WithinLimit(Action test)
    {
        var task = Task.Factory.StartNew(test, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(task.Wait(HangLimit), "timed out: WorkerGroup hung");
        task.GetAwaiter().GetResult();
    }
}
