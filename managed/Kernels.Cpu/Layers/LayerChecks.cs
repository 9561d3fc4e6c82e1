namespace Kernels.Cpu.Layers;

/// <summary>The argument checks every layer's Validate() and run methods share, so messages read alike.</summary>
internal static class LayerChecks
{
    public static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }

    public static void NotNegative(int value, string name)
    {
        if (value < 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must not be negative.");
        }
    }

    public static void Finite(float value, string name)
    {
        if (!float.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite.");
        }
    }

    /// <summary>0 means dense (the channel count); otherwise the stride must hold the channels.</summary>
    public static void PixelStride(int stride, int channels, string name)
    {
        NotNegative(stride, name);
        if (stride != 0 && stride < channels)
        {
            throw new ArgumentException($"{name} {stride} is smaller than the {channels} channels written per pixel.", name);
        }
    }

    /// <summary>
    /// Floats a strided NHWC tensor spans: up to the last channel of the last pixel. Throws when that
    /// does not fit an int, because spans cannot address it.
    /// </summary>
    public static long StridedLength(long pixels, int stride, int channels, string name)
    {
        long length = pixels == 0 ? 0 : ((pixels - 1) * stride) + channels;
        if (length > int.MaxValue || pixels * stride > int.MaxValue)
        {
            throw new ArgumentException($"The tensor has more than 2^31 - 1 elements ({pixels} pixels of stride {stride}).", name);
        }

        return length;
    }

    public static void Length(int actual, long needed, string name)
    {
        if (actual < needed)
        {
            throw new ArgumentException($"{name} has {actual} elements; the layer needs {needed}.", name);
        }
    }

    public static void Isa(KernelIsa isa, string name) => isa.EnsureExecutable(name);
}
