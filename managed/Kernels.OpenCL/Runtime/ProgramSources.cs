using System.Reflection;

namespace Kernels.OpenCL.Runtime;

/// <summary>The repository's opencl/*.cl files, embedded in this assembly as resources named opencl/NAME.cl.</summary>
public static class ProgramSources
{
    private const string Prefix = "opencl/";
    private const string Suffix = ".cl";

    /// <summary>The program names (file names without .cl), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ProgramSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(Suffix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^Suffix.Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>The source text of opencl/<paramref name="name"/>.cl.</summary>
    /// <exception cref="ArgumentException">No such program; the message lists the ones there are.</exception>
    public static string Get(string name)
    {
        Assembly assembly = typeof(ProgramSources).Assembly;
        using Stream? stream = assembly.GetManifestResourceStream(Prefix + name + Suffix)
            ?? throw new ArgumentException($"No OpenCL program '{name}'; embedded: {string.Join(", ", Names)}.", nameof(name));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
