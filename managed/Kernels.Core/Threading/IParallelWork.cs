namespace Kernels.Core.Threading;

/// <summary>
/// Work for <see cref="WorkerGroup.Run{T}(ref T)"/>. Implement on a struct: the group calls it through a
/// pointer to the caller's copy, so nothing is boxed or allocated per call.
/// </summary>
public interface IParallelWork
{
    /// <summary>Called exactly once per worker, concurrently; <paramref name="worker"/> is 0..<paramref name="workerCount"/>-1.</summary>
    void Execute(int worker, int workerCount);
}

/// <summary>A loop body for <see cref="WorkerGroup.ParallelFor{T}(int, ref T)"/>, given one contiguous chunk per call.</summary>
public interface IRangeBody
{
    /// <summary>Processes indices [<paramref name="begin"/>, <paramref name="end"/>); never called with an empty range.</summary>
    void Execute(int begin, int end);
}
