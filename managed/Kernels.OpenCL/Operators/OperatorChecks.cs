using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>The argument checks the layer operators share; every message names the kernel and the device.</summary>
internal static class OperatorChecks
{
    /// <summary>Throws unless <paramref name="buffer"/> holds <paramref name="offset"/> + <paramref name="floats"/> values of <paramref name="precision"/>.</summary>
    public static void Holds(DeviceBuffer buffer, long floats, long offset, string kernel, OpenCLContext context, string parameterName, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(buffer, parameterName);
        if (offset < 0)
        {
            throw new ArgumentOutOfRangeException(parameterName, offset, $"A negative offset ({kernel} on {context.Device.Name}).");
        }

        long bytes = (offset + floats) * precision.ElementBytes();
        if (buffer.Bytes < bytes)
        {
            string at = offset == 0 ? string.Empty : $" at offset {offset}";
            throw new ArgumentException(
                $"The {parameterName} buffer has {buffer.Bytes} bytes; {floats} {(precision == DevicePrecision.Float32 ? "floats" : "halves")}{at} need {bytes} ({kernel} on {context.Device.Name}).",
                parameterName);
        }
    }

    /// <summary>Throws when a kernel that reads what other work-items write is given the same buffer twice.</summary>
    public static void NotInPlace(DeviceBuffer input, DeviceBuffer output, string kernel, OpenCLContext context)
    {
        if (ReferenceEquals(input, output))
        {
            throw new ArgumentException($"{kernel} cannot run in place (on {context.Device.Name}): give it separate input and output buffers.", nameof(output));
        }
    }
}
