namespace Kernels.Graph.Execution.OpenCL;

/// <summary>
/// One executed layer of a <see cref="DeviceSession"/>: its buffers are fixed when the plan is built, so running it
/// is one enqueue (or a few, for Winograd and concat copies). <see cref="Run"/> returns the device time in ms from
/// profiling events when asked to profile (and then waits), else 0 without waiting.
/// </summary>
internal sealed class DeviceStep(PlanStepInfo info, Func<bool, double> run, IDisposable? owned) : IDisposable
{
    public PlanStepInfo Info { get; } = info;

    public double Run(bool profile) => run(profile);

    public void Dispose() => owned?.Dispose();
}
