namespace Kernels.Cpu.Layers;

/// <summary>
/// A concat along channels done without a copy (GoogLeNet's inception outputs, SqueezeNet's fire expands):
/// every producer writes its channels into a slice of the concat output, starting at its channel offset,
/// with the concat's <see cref="PixelStride"/> as its output pixel stride. This type computes the slices and
/// checks that an output buffer holds them.
/// </summary>
public sealed class ChannelConcat
{
    private readonly int[] _channels;
    private readonly int[] _offsets;

    /// <summary>Lays out inputs of <paramref name="inputChannels"/> channels each, in order, over <paramref name="pixels"/> pixels (batch·height·width).</summary>
    /// <exception cref="ArgumentException">No inputs, a channel count or the pixel count is not positive, or the tensor is too large.</exception>
    public ChannelConcat(int pixels, params int[] inputChannels)
    {
        ArgumentNullException.ThrowIfNull(inputChannels);
        LayerChecks.Positive(pixels, nameof(pixels));
        if (inputChannels.Length == 0)
        {
            throw new ArgumentException("A concat needs at least one input.", nameof(inputChannels));
        }

        _channels = [.. inputChannels];
        _offsets = new int[_channels.Length];
        long total = 0;
        for (int i = 0; i < _channels.Length; i++)
        {
            if (_channels[i] < 1)
            {
                throw new ArgumentException($"Input {i} has {_channels[i]} channels; every input needs at least one.", nameof(inputChannels));
            }

            _offsets[i] = (int)total;
            total += _channels[i];
            if (total * pixels > int.MaxValue)
            {
                throw new ArgumentException("The concat output has more than 2^31 - 1 elements.", nameof(inputChannels));
            }
        }

        Pixels = pixels;
        PixelStride = (int)total;
    }

    /// <summary>Pixels of every input and of the output.</summary>
    public int Pixels { get; }

    /// <summary>Channels of the output: the sum of the inputs'; also every producer's output pixel stride.</summary>
    public int PixelStride { get; }

    /// <summary>Number of inputs.</summary>
    public int Count => _channels.Length;

    /// <summary>Floats of the concat output.</summary>
    public int OutputLength => Pixels * PixelStride;

    /// <summary>Channels of input <paramref name="input"/>.</summary>
    public int Channels(int input) => _channels[CheckIndex(input)];

    /// <summary>The first channel of input <paramref name="input"/> in the output.</summary>
    public int Offset(int input) => _offsets[CheckIndex(input)];

    /// <summary>
    /// The part of <paramref name="output"/> that input <paramref name="input"/>'s producer writes: it starts at the
    /// input's channel offset and ends at its last channel of the last pixel. Pass it as the producer's output with
    /// <see cref="PixelStride"/> as its output pixel stride.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is shorter than <see cref="OutputLength"/>.</exception>
    public Span<float> Slice(Span<float> output, int input)
    {
        Validate(output.Length, nameof(output));
        int offset = Offset(input);
        return output.Slice(offset, ((Pixels - 1) * PixelStride) + _channels[input]);
    }

    /// <summary>Throws unless a buffer of <paramref name="length"/> floats holds the concat output.</summary>
    /// <exception cref="ArgumentException">It does not.</exception>
    public void Validate(int length, string parameterName)
    {
        if (length < OutputLength)
        {
            throw new ArgumentException($"The concat output has {length} elements; {Pixels} pixels of {PixelStride} channels need {OutputLength}.", parameterName);
        }
    }

    private int CheckIndex(int input)
    {
        if ((uint)input >= (uint)_channels.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(input), input, $"The concat has {_channels.Length} inputs.");
        }

        return input;
    }
}
