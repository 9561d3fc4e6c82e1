using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Kernels.Core.Threading;

/// <summary>
/// A fixed set of threads, optionally pinned to one cluster's cores, that runs fork-join work for one component.
/// The calling thread is worker 0; workers 1..ThreadCount-1 are dedicated background threads that spin briefly
/// after each call (layers follow each other within microseconds) and then block, so an idle group costs no CPU.
/// A call allocates nothing: the work struct is reached through a pointer to the caller's copy, which stays
/// valid because the call blocks until every worker has returned.
/// </summary>
/// <remarks>
/// One call at a time: a concurrent or nested call throws <see cref="InvalidOperationException"/> instead of
/// deadlocking. Dispose the group: helper threads are background threads but otherwise live for the process.
/// </remarks>
public sealed unsafe class WorkerGroup : IDisposable
{
    // How long a waiting thread polls before it blocks: longer than the gap between two layers (so a busy
    // network never pays a kernel wake-up), short enough that an idle group stops burning CPU at once.
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 µs

    private readonly Thread[] _helpers;
    private readonly int[] _cores;
    private readonly object _wakeGate = new();
    private readonly object _doneGate = new();

    // Published by the caller before _generation is bumped, read by helpers after they see the bump.
    private void* _state;
    private delegate*<void*, int, int, void> _invoke;

    private int _generation;
    private int _pending;
    private int _sleepers;
    private int _callerWaiting;
    private int _busy;
    private int _disposed;
    private int _stopped;
    private volatile bool _stopping;
    private ExceptionDispatchInfo? _error;

    /// <summary>Starts <paramref name="threadCount"/>-1 helper threads.</summary>
    /// <param name="threadCount">Workers including the calling thread; at least 1.</param>
    /// <param name="cores">Logical CPUs; helper k is pinned to cores[k % cores.Count] (worker 0, the caller, is
    /// conceptually cores[0] but its affinity is left alone). Null: no pinning.</param>
    /// <param name="name">Thread name prefix, for profilers and debuggers.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threadCount"/> is below 1, or a core id is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="cores"/> is empty.</exception>
    public WorkerGroup(int threadCount, IReadOnlyList<int>? cores = null, string name = "kernels")
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ArgumentNullException.ThrowIfNull(name);
        if (cores is not null)
        {
            if (cores.Count == 0)
            {
                throw new ArgumentException("Pass null for no pinning, not an empty core list.", nameof(cores));
            }

            foreach (int core in cores)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(core, nameof(cores));
            }
        }

        ThreadCount = threadCount;
        _cores = cores is null ? [] : [.. cores];
        Cores = Array.AsReadOnly(_cores);

        // Inflate both monitors now so the first blocking wait or wake-up inside a call allocates nothing.
        lock (_wakeGate)
        {
            Monitor.Wait(_wakeGate, 0);
        }

        lock (_doneGate)
        {
            Monitor.Wait(_doneGate, 0);
        }

        _helpers = new Thread[threadCount - 1];
        if (_helpers.Length == 0)
        {
            return;
        }

        int pinned = 0;
        // Not disposed: a helper may still be inside Signal() when Wait() returns.
        var started = new CountdownEvent(_helpers.Length);
        for (int i = 0; i < _helpers.Length; i++)
        {
            int worker = i + 1;
            _helpers[i] = new Thread(() =>
            {
                if (_cores.Length > 0 && ThreadAffinity.TryPinCurrentThread([_cores[worker % _cores.Length]]))
                {
                    Interlocked.Increment(ref pinned);
                }

                started.Signal();
                HelperLoop(worker);
            })
            {
                IsBackground = true,
                Name = $"{name}-{worker}",
            };
            _helpers[i].Start();
        }

        // Wait for the pinning results so IsPinned is settled when the constructor returns.
        started.Wait();
        IsPinned = _cores.Length > 0 && pinned == _helpers.Length;
    }

    /// <summary>A group with one worker per core of <paramref name="cluster"/> (or <paramref name="threadCount"/>), pinned to its cores.</summary>
    /// <remarks>The caller should itself run on the cluster (e.g. <see cref="ThreadAffinity.TryPinCurrentThread"/>), since it is worker 0.</remarks>
    public static WorkerGroup ForCluster(Topology.CpuCluster cluster, int? threadCount = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        return new WorkerGroup(threadCount ?? cluster.Cores.Count, cluster.Cores, $"kernels-c{cluster.Id}");
    }

    /// <summary>Workers per call, including the calling thread.</summary>
    public int ThreadCount { get; }

    /// <summary>The cores helpers are pinned to; empty when unpinned.</summary>
    public IReadOnlyList<int> Cores { get; }

    /// <summary>
    /// True when cores were given and every helper thread accepted its affinity. False when unpinned, when the
    /// platform cannot pin (non-Linux), when the kernel refused (core offline or outside the cpuset), or when
    /// there are no helper threads (ThreadCount 1).
    /// </summary>
    public bool IsPinned { get; }

    /// <summary>Calls <c>work.Execute(w, ThreadCount)</c> once on every worker w and returns when all have returned.</summary>
    /// <remarks>With ThreadCount 1 this is a plain inline call. If workers throw, the first exception is rethrown
    /// here after all workers have finished, and the group stays usable.</remarks>
    /// <exception cref="ObjectDisposedException">The group was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call on this group is in progress (concurrent or nested).</exception>
    public void Run<T>(ref T work) where T : struct, IParallelWork
    {
        if (ThreadCount == 1)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            work.Execute(0, 1);
            return;
        }

        // Pins the struct if it lives inside a heap object: helpers hold a raw pointer to it.
        fixed (byte* state = &Unsafe.As<T, byte>(ref work))
        {
            Dispatch(state, &InvokeWork<T>);
        }
    }

    /// <summary>
    /// Calls <c>body.Execute(begin, end)</c> over a static contiguous split of [0, <paramref name="count"/>) into
    /// at most ThreadCount chunks whose sizes differ by at most one (chunk i on worker i); no call when count is 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The group was disposed.</exception>
    /// <exception cref="InvalidOperationException">Another call on this group is in progress (concurrent or nested).</exception>
    public void ParallelFor<T>(int count, ref T body) where T : struct, IRangeBody
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (count == 0)
        {
            return;
        }

        if (ThreadCount == 1 || count == 1)
        {
            body.Execute(0, count);
            return;
        }

        fixed (byte* bodyPointer = &Unsafe.As<T, byte>(ref body))
        {
            var range = new RangeWork<T> { Body = bodyPointer, Count = count, Chunks = Math.Min(count, ThreadCount) };
            Dispatch(&range, &InvokeWork<RangeWork<T>>);
        }
    }

    /// <summary>Stops and joins the helper threads; later calls do nothing. If a call is in progress on another thread, that call finishes and then stops the threads.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
        {
            Stop();
        }

        // Otherwise the call in progress sees _disposed when it releases _busy and stops the threads itself.
    }

    /// <summary>For tests: whether any helper thread is still alive.</summary>
    internal bool AnyHelperAlive => _helpers.Any(t => t.IsAlive);

    /// <summary>The chunk of [0, count) that worker <paramref name="chunk"/> of <paramref name="chunks"/> gets.</summary>
    internal static (int Begin, int End) Split(int count, int chunk, int chunks)
    {
        int size = count / chunks;
        int extra = count % chunks;
        int begin = chunk * size + Math.Min(chunk, extra);
        return (begin, begin + size + (chunk < extra ? 1 : 0));
    }

    private static void InvokeWork<T>(void* state, int worker, int workerCount) where T : struct, IParallelWork =>
        Unsafe.AsRef<T>(state).Execute(worker, workerCount);

    private void Dispatch(void* state, delegate*<void*, int, int, void> invoke)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            throw new InvalidOperationException(
                "This WorkerGroup is already running a call (from another thread, or nested inside a work item); a group runs one call at a time.");
        }

        try
        {
            // Dispose may have slipped in between the check above and taking _busy; it then left the stop to us.
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

            _state = state;
            _invoke = invoke;
            _pending = _helpers.Length;
            // Full fence: the fields above are visible to any helper that sees the new generation.
            Interlocked.Increment(ref _generation);
            // Pairs with the increment of _sleepers in WaitForWork: one side always sees the other (Dekker).
            if (Volatile.Read(ref _sleepers) != 0)
            {
                lock (_wakeGate)
                {
                    Monitor.PulseAll(_wakeGate);
                }
            }

            try
            {
                invoke(state, 0, ThreadCount);
            }
            catch (Exception e)
            {
                RecordError(e);
            }

            WaitForHelpers();
            _state = null;

            ExceptionDispatchInfo? error = _error;
            if (error is not null)
            {
                _error = null;
                error.Throw();
            }
        }
        finally
        {
            Interlocked.Exchange(ref _busy, 0);
            if (Volatile.Read(ref _disposed) != 0)
            {
                Stop();
            }
        }
    }

    private void WaitForHelpers()
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        for (int i = 1; Volatile.Read(ref _pending) != 0; i++)
        {
            if (!SpinOnce(i, deadline))
            {
                break;
            }
        }

        lock (_doneGate)
        {
            // Pairs with the decrement of _pending in HelperLoop (Dekker), so the last helper never misses us.
            Interlocked.Exchange(ref _callerWaiting, 1);
            while (Volatile.Read(ref _pending) != 0)
            {
                Monitor.Wait(_doneGate);
            }

            _callerWaiting = 0;
        }
    }

    private void HelperLoop(int worker)
    {
        int seen = 0;
        while (true)
        {
            seen = WaitForWork(seen);
            if (_stopping)
            {
                return;
            }

            try
            {
                _invoke(_state, worker, ThreadCount);
            }
            catch (Exception e)
            {
                RecordError(e);
            }

            if (Interlocked.Decrement(ref _pending) == 0 && Volatile.Read(ref _callerWaiting) != 0)
            {
                lock (_doneGate)
                {
                    Monitor.PulseAll(_doneGate);
                }
            }
        }
    }

    /// <summary>Returns the new generation once it differs from <paramref name="seen"/>, or when stopping.</summary>
    private int WaitForWork(int seen)
    {
        long deadline = Stopwatch.GetTimestamp() + SpinTicks;
        for (int i = 1; ; i++)
        {
            int generation = Volatile.Read(ref _generation);
            if (generation != seen || _stopping)
            {
                return generation;
            }

            if (!SpinOnce(i, deadline))
            {
                break;
            }
        }

        lock (_wakeGate)
        {
            Interlocked.Increment(ref _sleepers);
            try
            {
                int generation;
                while ((generation = Volatile.Read(ref _generation)) == seen && !_stopping)
                {
                    Monitor.Wait(_wakeGate);
                }

                return generation;
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }

    /// <summary>
    /// One step of a bounded spin: a pause, and every 64th step a yield (so an oversubscribed core lets the awaited
    /// thread run) and a clock check. False once the spin budget is spent and the caller should block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SpinOnce(int iteration, long deadline)
    {
        Thread.SpinWait(1);
        if ((iteration & 63) != 0)
        {
            return true;
        }

        Thread.Yield();
        return Stopwatch.GetTimestamp() < deadline;
    }

    private void RecordError(Exception e) =>
        Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);

    private void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _stopping = true;
        lock (_wakeGate)
        {
            Monitor.PulseAll(_wakeGate);
        }

        foreach (var helper in _helpers)
        {
            // A helper disposing its own group (from inside a work item) must not join itself.
            if (helper != Thread.CurrentThread)
            {
                helper.Join();
            }
        }
    }

    /// <summary>Adapts a range body to per-worker work: worker i takes chunk i, workers past the chunk count idle.</summary>
    private struct RangeWork<T> : IParallelWork where T : struct, IRangeBody
    {
        public void* Body;
        public int Count;
        public int Chunks;

        public readonly void Execute(int worker, int workerCount)
        {
            if (worker < Chunks)
            {
                (int begin, int end) = Split(Count, worker, Chunks);
                Unsafe.AsRef<T>(Body).Execute(begin, end);
            }
        }
    }
}
