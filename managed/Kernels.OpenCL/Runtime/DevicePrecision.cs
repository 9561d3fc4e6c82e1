namespace Kernels.OpenCL.Runtime;

/// <summary>
/// How the floating-point kernels store tensors on the device (opencl/precision.h). The host always speaks float32:
/// weights are converted when a layer is planned, inputs and outputs at the borders (<see cref="DevicePrecisions.WriteFloats"/>,
/// <see cref="DevicePrecisions.ReadFloats"/>).
/// </summary>
public enum DevicePrecision
{
    /// <summary>float storage and arithmetic.</summary>
    Float32,

    /// <summary>
    /// half storage (2 bytes a value, vload_half/vstore_half, core OpenCL 1.2, rounded to nearest even); half arithmetic
    /// in the convolutions, fully connected and add where the device has cl_khr_fp16, float arithmetic elsewhere.
    /// </summary>
    Float16,
}

/// <summary>Element sizes, build options, names and host conversions of <see cref="DevicePrecision"/>.</summary>
public static class DevicePrecisions
{
    /// <summary>Bytes of one stored value: 4 or 2.</summary>
    public static int ElementBytes(this DevicePrecision precision) => precision switch
    {
        DevicePrecision.Float32 => sizeof(float),
        DevicePrecision.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown device precision."),
    };

    /// <summary>"fp32" or "fp16", as the command line spells them.</summary>
    public static string ToName(this DevicePrecision precision) => precision switch
    {
        DevicePrecision.Float32 => "fp32",
        DevicePrecision.Float16 => "fp16",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown device precision."),
    };

    /// <summary>Parses fp32/float32/f32 or fp16/float16/f16/half (any case).</summary>
    /// <exception cref="ArgumentException">Anything else; the message lists what is accepted.</exception>
    public static DevicePrecision Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "fp32" or "float32" or "f32" => DevicePrecision.Float32,
            "fp16" or "float16" or "f16" or "half" => DevicePrecision.Float16,
            _ => throw new ArgumentException($"Unknown device precision '{text}': expected fp32 or fp16.", nameof(text)),
        };
    }

    /// <summary>
    /// The build options that select <paramref name="precision"/> in the kernels, on top of the context's own: none for
    /// Float32; for Float16 <c>-DKERNELS_HALF_STORAGE=1</c>, plus <c>-DKERNELS_HALF_ARITH=1</c> only where
    /// <paramref name="device"/> reports cl_khr_fp16 (elsewhere the half-arithmetic branch is never compiled; storage
    /// stays half, arithmetic float).
    /// </summary>
    public static string BuildOptions(this DevicePrecision precision, OpenCLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return precision switch
        {
            DevicePrecision.Float32 => string.Empty,
            DevicePrecision.Float16 => device.HasFp16 ? "-DKERNELS_HALF_STORAGE=1 -DKERNELS_HALF_ARITH=1" : "-DKERNELS_HALF_STORAGE=1",
            _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown device precision."),
        };
    }

    /// <summary>True when <paramref name="precision"/> computes in half on <paramref name="device"/> (Float16 and cl_khr_fp16).</summary>
    public static bool UsesHalfArithmetic(this DevicePrecision precision, OpenCLDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return precision == DevicePrecision.Float16 && device.HasFp16;
    }

    /// <summary>Host floats in the device's storage format: the same array for Float32, rounded to nearest-even halves for Float16.</summary>
    public static Half[] ToHalves(ReadOnlySpan<float> values)
    {
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            halves[i] = (Half)values[i];
        }

        return halves;
    }

    /// <summary>Writes <paramref name="values"/> to <paramref name="buffer"/> in <paramref name="precision"/> from element <paramref name="offsetElements"/> on.</summary>
    public static void WriteFloats(this DeviceBuffer buffer, ReadOnlySpan<float> values, DevicePrecision precision, long offsetElements = 0)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (precision == DevicePrecision.Float32)
        {
            buffer.Write(values, offsetElements * sizeof(float));
            return;
        }

        buffer.Write<Half>(ToHalves(values), offsetElements * precision.ElementBytes());
    }

    /// <summary>Reads <paramref name="destination"/>.Length values of <paramref name="precision"/> from <paramref name="buffer"/> (from element <paramref name="offsetElements"/> on) as floats.</summary>
    public static void ReadFloats(this DeviceBuffer buffer, Span<float> destination, DevicePrecision precision, long offsetElements = 0)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (precision == DevicePrecision.Float32)
        {
            buffer.Read(destination, offsetElements * sizeof(float));
            return;
        }

        var halves = new Half[destination.Length];
        buffer.Read<Half>(halves, offsetElements * precision.ElementBytes());
        for (int i = 0; i < halves.Length; i++)
        {
            destination[i] = (float)halves[i];
        }
    }

    /// <summary>
    /// The work-size tuner's configuration string of a layer in <paramref name="precision"/>: unchanged for Float32 (tuner
    /// files stay valid), " fp16" appended otherwise, since the half kernels are other programs with other best sizes.
    /// </summary>
    internal static string TunerConfiguration(this DevicePrecision precision, string configuration) =>
        precision == DevicePrecision.Float32 ? configuration : $"{configuration} {precision.ToName()}";

    /// <summary>A read-only buffer holding <paramref name="values"/> in <paramref name="precision"/> (a layer's packed weights or bias).</summary>
    internal static DeviceBuffer Upload(OpenCLContext context, ReadOnlySpan<float> values, DevicePrecision precision)
    {
        DeviceBuffer buffer = context.CreateBuffer(Math.Max(1L, values.Length) * precision.ElementBytes(), BufferAccess.ReadOnly);
        if (!values.IsEmpty)
        {
            buffer.WriteFloats(values, precision);
        }

        return buffer;
    }
}
