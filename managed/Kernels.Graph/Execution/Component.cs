using System.Globalization;

namespace Kernels.Graph.Execution;

/// <summary>What kind of SoC component runs a whole network.</summary>
public enum ComponentKind
{
    /// <summary>The CPU executor (<see cref="InferenceSession"/>).</summary>
    Cpu,

    /// <summary>An OpenCL device (<see cref="OpenCL.DeviceSession"/>).</summary>
    OpenCL,
}

/// <summary>
/// Where a network should run, as the command line writes it: <c>cpu</c>, <c>opencl</c> (device 0), <c>opencl:N</c>,
/// and with a trailing <c>!</c> (<c>opencl!</c>, <c>opencl:N!</c>) the device is demanded: failing to plan there is an
/// error instead of a fall-back to the CPU.
/// </summary>
/// <param name="Kind">CPU or OpenCL.</param>
/// <param name="Device">The OpenCL device index (<see cref="Kernels.OpenCL.Runtime.OpenCLDiscovery.Devices"/>); 0 for the CPU.</param>
/// <param name="Required">The user demanded this component: no fall-back.</param>
public sealed record Component(ComponentKind Kind, int Device = 0, bool Required = false)
{
    /// <summary>The CPU.</summary>
    public static Component Cpu { get; } = new(ComponentKind.Cpu);

    /// <summary>Parses <c>cpu</c>, <c>opencl</c>, <c>opencl:N</c>, optionally followed by <c>!</c> (case-insensitive).</summary>
    /// <exception cref="FormatException">Anything else; the accepted forms are listed.</exception>
    public static Component Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        bool required = s.EndsWith('!');
        if (required)
        {
            s = s[..^1];
        }

        if (s == "cpu")
        {
            return new Component(ComponentKind.Cpu, 0, required);
        }

        if (s == "opencl")
        {
            return new Component(ComponentKind.OpenCL, 0, required);
        }

        if (s.StartsWith("opencl:", StringComparison.Ordinal) && int.TryParse(s["opencl:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int index))
        {
            return new Component(ComponentKind.OpenCL, index, required);
        }

        throw new FormatException($"Unknown component '{text}': expected cpu, opencl or opencl:N, with a trailing '!' to demand it (no fall-back to the CPU).");
    }

    /// <summary>The command-line form (<c>cpu</c>, <c>opencl:0</c>, <c>opencl:1!</c>).</summary>
    public override string ToString() => (Kind == ComponentKind.Cpu ? "cpu" : $"opencl:{Device}") + (Required ? "!" : string.Empty);
}
