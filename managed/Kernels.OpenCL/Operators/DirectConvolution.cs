using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// A convolution layer on the device (opencl/conv_direct.cl): NHWC input and output, any kernel, stride,
/// padding, dilation and groups, bias and activation fused, output pixel stride for a channel slice of a
/// wider tensor. The OHWI weights are packed once, here, into blocks of 4 output channels.
/// </summary>
public sealed class DirectConvolution : IDeviceConvolution
{
    /// <summary>Output channels per work-item (the float4 of the kernel).</summary>
    public const int ChannelBlock = 4;

    /// <summary>Output pixels of a row per work-item.</summary>
    public const int PixelBlock = 4;

    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly DeviceBuffer _weights;
    private readonly DeviceBuffer _bias;
    private readonly int _blocks;

    /// <param name="context">The device.</param>
    /// <param name="descriptor">The layer; validated here.</param>
    /// <param name="weightsOhwi">OutputChannels·KH·KW·(InputChannels/Groups) floats.</param>
    /// <param name="bias">OutputChannels floats, or empty for none.</param>
    /// <param name="precision">Storage on the device (opencl/precision.h); the weights and bias are converted here.</param>
    public DirectConvolution(OpenCLContext context, Conv2DDescriptor descriptor, ReadOnlySpan<float> weightsOhwi, ReadOnlySpan<float> bias, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
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
        _blocks = (descriptor.GroupOutputChannels + ChannelBlock - 1) / ChannelBlock;
        (float[] packedWeights, float[] packedBias) = Pack(descriptor, weightsOhwi, bias, _blocks);
        _kernel = context.GetProgram("conv_direct", precision).CreateKernel("conv2d_direct_nhwc_4x4");
        _weights = DevicePrecisions.Upload(context, packedWeights, precision);
        _bias = DevicePrecisions.Upload(context, packedBias, precision);
    }

    public Conv2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <inheritdoc />
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: channel blocks of all groups × pixel quads of a row × images·rows.</summary>
    public WorkSize GlobalSize => new(
        Descriptor.Groups * _blocks,
        (Descriptor.OutputWidth + PixelBlock - 1) / PixelBlock,
        Descriptor.Batch * Descriptor.OutputHeight);

    /// <summary>
    /// Enqueues the convolution of <paramref name="input"/> (<see cref="Conv2DDescriptor.InputLength"/> floats)
    /// into <paramref name="output"/> (<see cref="Conv2DDescriptor.OutputLength"/> floats from float <paramref name="outputOffset"/>
    /// on; only this layer's channels of each pixel are written). Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Conv2DDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, "conv2d_direct_nhwc_4x4", _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, "conv2d_direct_nhwc_4x4", _context, nameof(output), Precision);

        OperatorChecks.NotInPlace(input, output, "conv2d_direct_nhwc_4x4", _context);

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
            d.DilationHeight, d.DilationWidth, d.GroupInputChannels, d.GroupOutputChannels, _blocks, d.Groups, d.Batch, act);

        _kernel.SetArgument(i, slope);
        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, 4), Math.Min(global.Z, 4)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _weights.Dispose();
        _bias.Dispose();
    }

    /// <summary>OHWI → [group][block][ky][kx][ic][4 output channels], zeros past a group's last channel; bias → [group][block][4].</summary>
    internal static (float[] Weights, float[] Bias) Pack(Conv2DDescriptor d, ReadOnlySpan<float> ohwi, ReadOnlySpan<float> bias, int blocks)
    {
        int icg = d.GroupInputChannels, ocg = d.GroupOutputChannels, kh = d.KernelHeight, kw = d.KernelWidth;
        int perOc = kh * kw * icg;
        var packed = new float[(long)d.Groups * blocks * perOc * ChannelBlock];
        var packedBias = new float[d.Groups * blocks * ChannelBlock];
        for (int g = 0; g < d.Groups; g++)
        {
            for (int b = 0; b < blocks; b++)
            {
                long blockBase = ((long)g * blocks + b) * perOc * ChannelBlock;
                for (int lane = 0; lane < ChannelBlock; lane++)
                {
                    int ocInGroup = (b * ChannelBlock) + lane;
                    if (ocInGroup >= ocg)
                    {
                        continue;
                    }

                    int oc = (g * ocg) + ocInGroup;
                    packedBias[((g * blocks) + b) * ChannelBlock + lane] = bias.IsEmpty ? 0f : bias[oc];
                    ReadOnlySpan<float> source = ohwi.Slice(oc * perOc, perOc);
                    for (int k = 0; k < perOc; k++)
                    {
                        packed[blockBase + ((long)k * ChannelBlock) + lane] = source[k];
                    }
                }
            }
        }

        return (packed, packedBias);
    }
}
