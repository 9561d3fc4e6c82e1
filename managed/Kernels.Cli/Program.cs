using System.CommandLine;
using System.CommandLine.Parsing;

namespace Kernels.Cli;

/// <summary>The <c>kernels</c> command. <see cref="Run"/> is the whole program, callable in-process by tests.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Parses and runs one command line. Results go to <paramref name="stdout"/> (one JSON object
    /// with <c>--json</c>), progress and errors to <paramref name="stderr"/>.
    /// </summary>
    /// <returns><see cref="ExitCodes"/>: 0 success, 1 failure (for example a wrong GEMM result), 2 bad usage.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var context = new CliContext(stdout, stderr);
        RootCommand root = KernelsCommand.Create(context);
        ParseResult parse = root.Parse(args);

        // System.CommandLine would print every error and the whole help text; one line is easier to
        // read in a script's log, and 2 is the conventional exit code for bad usage.
        if (parse.Errors.Count > 0)
        {
            // "Required command was not provided" also comes with an unknown command: name the unknown one.
            ParseError error = parse.Errors.FirstOrDefault(e => e.Message.Contains('\'')) ?? parse.Errors[0];
            context.WriteError($"{error.Message} (see 'kernels --help')");
            return ExitCodes.Usage;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            });
        }
        catch (UsageException exception)
        {
            context.WriteError(exception.Message);
            return ExitCodes.Usage;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            context.WriteError($"{exception.Message} ({exception.GetType().Name})");
            return ExitCodes.Failure;
        }
    }
}
