using System.Globalization;
using System.Text;

namespace Kernels.Core.Topology;

/// <summary>The kernel's cpulist format ("0-3,6,8-9"), used by sysfs <c>online</c> and <c>related_cpus</c>.</summary>
internal static class CpuList
{
    /// <summary>Parses a cpulist into ascending, distinct ids; an empty string is an empty list.</summary>
    /// <exception cref="FormatException">Malformed list.</exception>
    public static int[] Parse(string text)
    {
        var cores = new SortedSet<int>();
        foreach (var raw in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = raw.IndexOf('-');
            if (dash < 0)
            {
                cores.Add(ParseId(raw, text));
                continue;
            }

            int first = ParseId(raw[..dash], text);
            int last = ParseId(raw[(dash + 1)..], text);
            if (last < first)
            {
                throw new FormatException($"Bad CPU range '{raw}' in cpulist '{text}'.");
            }

            for (int c = first; c <= last; c++)
            {
                cores.Add(c);
            }
        }

        return [.. cores];
    }

    /// <summary>Formats ascending ids as a cpulist, for messages.</summary>
    public static string Format(IReadOnlyList<int> cores)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < cores.Count;)
        {
            int j = i;
            while (j + 1 < cores.Count && cores[j + 1] == cores[j] + 1)
            {
                j++;
            }

            if (sb.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(CultureInfo.InvariantCulture, $"{cores[i]}");
            if (j > i)
            {
                sb.Append(CultureInfo.InvariantCulture, $"-{cores[j]}");
            }

            i = j + 1;
        }

        return sb.ToString();
    }

    private static int ParseId(string s, string whole) =>
        int.TryParse(s.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int id)
            ? id
            : throw new FormatException($"Bad CPU id '{s}' in cpulist '{whole}'.");
}
