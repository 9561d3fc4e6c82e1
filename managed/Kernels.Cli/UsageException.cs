namespace Kernels.Cli;

/// <summary>A command line that cannot be run as given; reported in one line with exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
