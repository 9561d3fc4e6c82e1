using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// A depthwise convolution on the device (opencl/conv_depthwise.cl): groups = input = output channels,
/// any kernel, stride, padding and dilation, NHWC, bias and activation fused, output pixel stride honoured.
/// Channels are vectorized 4 at a time, which NHWC makes contiguous.
/// </summary>
public sealed class DepthwiseConvolution : IDeviceConvolution
{
    private const int ChannelBlock = 4;
    private const int PixelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly DeviceBuffer _weights;
    private readonly DeviceBuffer _bias;
    private readonly int _blocks;

    /// <exception cref="ArgumentException">The descriptor is invalid or not depthwise with multiplier 1.</exception>
    public DepthwiseConvolution(OpenCLContext context, Conv2DDescriptor descriptor, ReadOnlySpan<float> weightsOhwi, ReadOnlySpan<float> bias, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (!descriptor.IsDepthwise)
        {
            throw new ArgumentException(
                $"conv2d_depthwise_nhwc_4x4 cannot run {descriptor}: it needs groups = input channels = output channels (multiplier 1).",
                nameof(descriptor));
        }

        if (weightsOhwi.Length != descriptor.WeightsLength)
        {
            throw new ArgumentException($"Expected {descriptor.WeightsLength} OHWI weights for {descriptor}, got {weightsOhwi.Length}.", nameof(weightsOhwi));
        }

        if (!bias.IsEmpty && bias.Length != descriptor.OutputChannels)
        {
            throw new ArgumentException($"Expected {descriptor.OutputChannels} biases for {descriptor}, got {bias.Length}.", nameof(bias));
        }

        _context = context;
        Descriptor = descriptor;
        Precision = precision;
        _blocks = (descriptor.OutputChannels + ChannelBlock - 1) / ChannelBlock;
        (float[] packedWeights, float[] packedBias) = Pack(descriptor, weightsOhwi, bias, _blocks);
        _kernel = context.GetProgram("conv_depthwise", precision).CreateKernel("conv2d_depthwise_nhwc_4x4");
        _weights = DevicePrecisions.Upload(context, packedWeights, precision);
        _bias = DevicePrecisions.Upload(context, packedBias, precision);
    }

    public Conv2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <inheritdoc />
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: channel blocks × pixel quads of a row × images·rows.</summary>
    public WorkSize GlobalSize => new(
        _blocks,
        (Descriptor.OutputWidth + PixelBlock - 1) / PixelBlock,
        Descriptor.Batch * Descriptor.OutputHeight);

    /// <inheritdoc />
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Conv2DDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, "conv2d_depthwise_nhwc_4x4", _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, "conv2d_depthwise_nhwc_4x4", _context, nameof(output), Precision);

        OperatorChecks.NotInPlace(input, output, "conv2d_depthwise_nhwc_4x4", _context);

        (int act, float slope) = ActivationCode.Of(d.Activation);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, _weights);
        _kernel.SetArgument(i++, _bias);
        _kernel.SetArgument(i++, output);
        i = _kernel.SetArguments(
            i,
            d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride,
            outputOffset, d.KernelHeight, d.KernelWidth, d.StrideHeight, d.StrideWidth, d.PadTop, d.PadLeft,
            d.DilationHeight, d.DilationWidth, _blocks, d.Batch, act);

        _kernel.SetArgument(i, slope);
        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 8), Math.Min(global.Y, 4), Math.Min(global.Z, 2)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _weights.Dispose();
        _bias.Dispose();
    }

    /// <summary>OHWI with one input channel per group, [c][ky][kx] → [ky][kx][c rounded up to 4]; bias → [c rounded up to 4].</summary>
    private static (float[] Weights, float[] Bias) Pack(Conv2DDescriptor d, ReadOnlySpan<float> ohwi, ReadOnlySpan<float> bias, int blocks)
    {
        int channels = d.OutputChannels, taps = d.KernelHeight * d.KernelWidth, padded = blocks * ChannelBlock;
        var packed = new float[taps * padded];
        var packedBias = new float[padded];
        for (int c = 0; c < channels; c++)
        {
            packedBias[c] = bias.IsEmpty ? 0f : bias[c];
            for (int t = 0; t < taps; t++)
            {
                packed[(t * padded) + c] = ohwi[(c * taps) + t];
            }
        }

        return (packed, packedBias);
    }
}
