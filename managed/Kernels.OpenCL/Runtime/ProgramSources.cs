using System.Reflection;
using System.Text;

namespace Kernels.OpenCL.Runtime;

/// <summary>
/// The repository's opencl/*.cl files, embedded in this assembly as resources named opencl/NAME.cl, with the
/// headers they include (opencl/*.h) expanded in place: a line <c>#include "NAME.h"</c> becomes that embedded
/// header's text (once per program), so the driver needs no include path and the program-cache key covers the headers.
/// </summary>
public static class ProgramSources
{
    private const string Prefix = "opencl/";
    private const string Suffix = ".cl";
    private const string IncludeDirective = "#include \"";

    /// <summary>The program names (file names without .cl), sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = typeof(ProgramSources).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal) && n.EndsWith(Suffix, StringComparison.Ordinal))
        .Select(n => n[Prefix.Length..^Suffix.Length])
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>The source text of opencl/<paramref name="name"/>.cl, its includes expanded.</summary>
    /// <exception cref="ArgumentException">No such program (the message lists the ones there are), or it includes a header that is not embedded.</exception>
    public static string Get(string name)
    {
        string text = Read(Prefix + name + Suffix)
            ?? throw new ArgumentException($"No OpenCL program '{name}'; embedded: {string.Join(", ", Names)}.", nameof(name));
        return ExpandIncludes(name, text, new HashSet<string>(StringComparer.Ordinal));
    }

    private static string ExpandIncludes(string program, string text, HashSet<string> included)
    {
        if (!text.Contains(IncludeDirective, StringComparison.Ordinal))
        {
            return text;
        }

        var result = new StringBuilder(text.Length * 2);
        using var reader = new StringReader(text);
        while (reader.ReadLine() is string line)
        {
            string trimmed = line.Trim();
            if (!trimmed.StartsWith(IncludeDirective, StringComparison.Ordinal) || !trimmed.EndsWith('"'))
            {
                result.Append(line).Append('\n');
                continue;
            }

            string header = trimmed[IncludeDirective.Length..^1];
            if (!included.Add(header))
            {
                continue;
            }

            string body = Read(Prefix + header)
                ?? throw new ArgumentException($"The OpenCL program '{program}' includes \"{header}\", which is not embedded (opencl/*.h are).", nameof(program));
            result.Append(ExpandIncludes(program, body, included)).Append('\n');
        }

        return result.ToString();
    }

    private static string? Read(string resource)
    {
        using Stream? stream = typeof(ProgramSources).Assembly.GetManifestResourceStream(resource);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
