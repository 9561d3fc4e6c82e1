namespace Kernels.OpenCL.Runtime;

/// <summary>A 3-D work size (global or local); unused dimensions are 1.</summary>
public readonly record struct WorkSize(int X, int Y = 1, int Z = 1)
{
    public long Product => (long)X * Y * Z;

    /// <summary>Each dimension rounded up to a multiple of <paramref name="local"/>'s: the device has no non-uniform work-groups, so kernels bounds-check instead.</summary>
    public WorkSize RoundUpTo(WorkSize local) => new(Up(X, local.X), Up(Y, local.Y), Up(Z, local.Z));

    public override string ToString() => $"{X}x{Y}x{Z}";

    private static int Up(int value, int multiple) => checked((value + multiple - 1) / multiple * multiple);
}
