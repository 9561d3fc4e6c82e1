using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// A 1x1 convolution on the device (opencl/conv_1x1.cl): groups 1, no padding, any stride, NHWC, bias and
/// activation fused, output pixel stride for a channel slice. Pixels are blocked over the whole batch.
/// </summary>
public sealed class PointwiseConvolution : IDeviceConvolution
{
    private const int PixelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly DeviceBuffer _weights;
    private readonly DeviceBuffer _bias;
    private readonly int _blocks;

    /// <exception cref="ArgumentException">The descriptor is invalid or not a 1x1 convolution this kernel runs (<see cref="WhyNotApplicable"/>).</exception>
    public PointwiseConvolution(OpenCLContext context, Conv2DDescriptor descriptor, ReadOnlySpan<float> weightsOhwi, ReadOnlySpan<float> bias, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (WhyNotApplicable(descriptor) is string reason)
        {
            throw new ArgumentException($"conv2d_1x1_nhwc_4x4 cannot run {descriptor}: {reason}.", nameof(descriptor));
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
        _blocks = (descriptor.OutputChannels + DirectConvolution.ChannelBlock - 1) / DirectConvolution.ChannelBlock;
        (float[] packedWeights, float[] packedBias) = DirectConvolution.Pack(descriptor, weightsOhwi, bias, _blocks);
        _kernel = context.GetProgram("conv_1x1", precision).CreateKernel("conv2d_1x1_nhwc_4x4");
        _weights = DevicePrecisions.Upload(context, packedWeights, precision);
        _bias = DevicePrecisions.Upload(context, packedBias, precision);
    }

    public Conv2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <inheritdoc />
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: output channel blocks × pixel quads over batch·OH·OW.</summary>
    public WorkSize GlobalSize => new(_blocks, (Pixels + PixelBlock - 1) / PixelBlock);

    private int Pixels => Descriptor.Batch * Descriptor.OutputHeight * Descriptor.OutputWidth;

    /// <summary>Null when this kernel runs <paramref name="d"/>; else why not (1x1 kernel, no padding, groups 1).</summary>
    public static string? WhyNotApplicable(Conv2DDescriptor d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.KernelHeight != 1 || d.KernelWidth != 1)
        {
            return $"the kernel is {d.KernelHeight}x{d.KernelWidth}, not 1x1";
        }

        if (d.PadTop != 0 || d.PadLeft != 0 || d.PadBottom != 0 || d.PadRight != 0)
        {
            return "it has padding";
        }

        return d.Groups != 1 ? $"it has {d.Groups} groups" : null;
    }

    /// <summary>
    /// Enqueues the convolution of <paramref name="input"/> into <paramref name="output"/> from float
    /// <paramref name="outputOffset"/> on (only this layer's channels of each pixel are written). Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Conv2DDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, "conv2d_1x1_nhwc_4x4", _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, "conv2d_1x1_nhwc_4x4", _context, nameof(output), Precision);

        OperatorChecks.NotInPlace(input, output, "conv2d_1x1_nhwc_4x4", _context);

        (int act, float slope) = ActivationCode.Of(d.Activation);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, _weights);
        _kernel.SetArgument(i++, _bias);
        _kernel.SetArgument(i++, output);
        i = _kernel.SetArguments(
            i,
            d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride,
            outputOffset, d.StrideHeight, d.StrideWidth, d.OutputChannels, _blocks, Pixels, act);

        _kernel.SetArgument(i, slope);
        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, 16)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _weights.Dispose();
        _bias.Dispose();
    }
}
