namespace Kernels.Cli;

/// <summary>Process exit codes of the <c>kernels</c> command.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The command ran and failed: a wrong result, a missing device.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: an unknown option or kernel, a value out of range.</summary>
    public const int Usage = 2;
}
