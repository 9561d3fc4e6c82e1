using Kernels.Core;
using Kernels.Cpu.Convolution.Winograd;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// A 3x3 convolution by Winograd F(2x2, 3x3) on the device (opencl/winograd_f2x3.cl): stride 1, dilation 1, groups 1,
/// any padding, NHWC, bias and activation fused into the output transform, output pixel stride honoured. The filter
/// transform runs here, once, in float64 (<see cref="WinogradTile.TransformFilter"/>, as the CPU algorithm); a run
/// enqueues the input transform, the 16 batched multiplies and the output transform, with the transformed tiles in
/// scratch buffers allocated here for this layer.
/// </summary>
public sealed class WinogradF2x3Convolution : IDeviceConvolution
{
    private const int ChannelBlock = 4;
    private const int TileBlock = 4;
    private const int Positions = 16;
    private readonly OpenCLContext _context;
    private readonly ClKernel _input;
    private readonly ClKernel _multiply;
    private readonly ClKernel _output;
    private readonly DeviceBuffer _filters;
    private readonly DeviceBuffer _bias;
    private readonly DeviceBuffer _transformedInput;
    private readonly DeviceBuffer _products;
    private readonly int _inBlocks;
    private readonly int _outBlocks;

    /// <exception cref="ArgumentException">The descriptor is invalid or not one this algorithm runs (<see cref="WhyNotApplicable"/>).</exception>
    public WinogradF2x3Convolution(OpenCLContext context, Conv2DDescriptor descriptor, ReadOnlySpan<float> weightsOhwi, ReadOnlySpan<float> bias, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (WhyNotApplicable(descriptor) is string reason)
        {
            throw new ArgumentException($"winograd_f2x3 cannot run {descriptor}: {reason}.", nameof(descriptor));
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
        _inBlocks = (descriptor.InputChannels + ChannelBlock - 1) / ChannelBlock;
        _outBlocks = (descriptor.OutputChannels + ChannelBlock - 1) / ChannelBlock;
        (float[] filters, float[] packedBias) = Pack(descriptor, weightsOhwi, bias, _inBlocks, _outBlocks);
        ClProgram program = context.GetProgram("winograd_f2x3", precision);
        _input = program.CreateKernel("winograd_f2x3_input_transform_c4");
        _multiply = program.CreateKernel("winograd_f2x3_multiply_4x4");
        _output = program.CreateKernel("winograd_f2x3_output_transform_c4");
        _filters = DevicePrecisions.Upload(context, filters, precision);
        _bias = DevicePrecisions.Upload(context, packedBias, precision);
        _transformedInput = context.CreateBuffer((long)Positions * Tiles * _inBlocks * ChannelBlock * sizeof(float));
        _products = context.CreateBuffer((long)Positions * Tiles * _outBlocks * ChannelBlock * sizeof(float));
    }

    public Conv2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <inheritdoc />
    public string KernelName => "winograd_f2x3";

    private int TilesHigh => (Descriptor.OutputHeight + 1) / 2;

    private int TilesWide => (Descriptor.OutputWidth + 1) / 2;

    private int Tiles => Descriptor.Batch * TilesHigh * TilesWide;

    /// <summary>Null when this algorithm runs <paramref name="d"/>; else why not (3x3, stride 1, dilation 1, groups 1).</summary>
    public static string? WhyNotApplicable(Conv2DDescriptor d)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (d.KernelHeight != 3 || d.KernelWidth != 3)
        {
            return $"the kernel is {d.KernelHeight}x{d.KernelWidth}, F(2x2, 3x3) needs 3x3";
        }

        if (d.StrideHeight != 1 || d.StrideWidth != 1)
        {
            return $"the stride is {d.StrideHeight}x{d.StrideWidth}, Winograd needs stride 1";
        }

        if (d.DilationHeight != 1 || d.DilationWidth != 1)
        {
            return $"the dilation is {d.DilationHeight}x{d.DilationWidth}, Winograd needs dilation 1";
        }

        return d.Groups != 1 ? $"it has {d.Groups} groups, Winograd needs 1" : null;
    }

    /// <summary>
    /// Enqueues the three kernels on <paramref name="input"/> into <paramref name="output"/> from float
    /// <paramref name="outputOffset"/> on (only this layer's channels of each pixel are written). With <paramref name="profile"/>, waits and returns the three kernels' device time in ms.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        Conv2DDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, KernelName, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, KernelName, _context, nameof(output), Precision);
        OperatorChecks.NotInPlace(input, output, KernelName, _context);

        int tiles = Tiles;
        int i = 0;
        _input.SetArgument(i++, input);
        _input.SetArgument(i++, _transformedInput);
        _input.SetArguments(i, d.InputHeight, d.InputWidth, d.InputChannels, TilesHigh, TilesWide, d.PadTop, d.PadLeft, _inBlocks, tiles);

        _multiply.SetArgument(0, _transformedInput);
        _multiply.SetArgument(1, _filters);
        _multiply.SetArgument(2, _products);
        _multiply.SetArgument(3, _inBlocks);
        _multiply.SetArgument(4, _outBlocks);
        _multiply.SetArgument(5, tiles);

        (int act, float slope) = ActivationCode.Of(d.Activation);
        i = 0;
        _output.SetArgument(i++, _products);
        _output.SetArgument(i++, _bias);
        _output.SetArgument(i++, output);
        i = _output.SetArguments(
            i,
            d.OutputHeight, d.OutputWidth, d.OutputChannels, d.EffectiveOutputPixelStride, outputOffset, TilesHigh,
            TilesWide, _outBlocks, tiles, act);

        _output.SetArgument(i, slope);

        // Each kernel only reads its own scratch input, so tuning (which reruns a kernel) is safe for all three.
        string configuration = Precision.TunerConfiguration(d.ToString());
        var inputGlobal = new WorkSize(_inBlocks, tiles);
        var multiplyGlobal = new WorkSize(_outBlocks, (tiles + TileBlock - 1) / TileBlock, Positions);
        var outputGlobal = new WorkSize(_outBlocks, tiles);
        WorkSize inputLocal = _context.Tuner.Choose(_context, _input, configuration, inputGlobal, new WorkSize(Math.Min(inputGlobal.X, 4), Math.Min(inputGlobal.Y, 16)));
        double ms = _context.Enqueue(_input, inputGlobal, inputLocal, profile);
        WorkSize multiplyLocal = _context.Tuner.Choose(
            _context, _multiply, configuration, multiplyGlobal, new WorkSize(Math.Min(multiplyGlobal.X, 4), Math.Min(multiplyGlobal.Y, 16), 1));
        ms += _context.Enqueue(_multiply, multiplyGlobal, multiplyLocal, profile);
        WorkSize outputLocal = _context.Tuner.Choose(_context, _output, configuration, outputGlobal, new WorkSize(Math.Min(outputGlobal.X, 4), Math.Min(outputGlobal.Y, 16)));
        return ms + _context.Enqueue(_output, outputGlobal, outputLocal, profile);
    }

    public void Dispose()
    {
        _input.Dispose();
        _multiply.Dispose();
        _output.Dispose();
        _filters.Dispose();
        _bias.Dispose();
        _transformedInput.Dispose();
        _products.Dispose();
    }

    /// <summary>U[p][ic][oc] (float64 transform, rounded once) → [p][output block][ICp][4], zeros in the padding; bias → [OCp].</summary>
    private static (float[] Filters, float[] Bias) Pack(Conv2DDescriptor d, ReadOnlySpan<float> ohwi, ReadOnlySpan<float> bias, int inBlocks, int outBlocks)
    {
        int ic = d.InputChannels, oc = d.OutputChannels, icp = inBlocks * ChannelBlock;
        float[] u = WinogradTile.F2.TransformFilter(ohwi, ic, oc);
        var packed = new float[(long)Positions * outBlocks * icp * ChannelBlock];
        for (int p = 0; p < Positions; p++)
        {
            for (int c = 0; c < ic; c++)
            {
                for (int o = 0; o < oc; o++)
                {
                    long at = ((((long)p * outBlocks) + (o / ChannelBlock)) * icp + c) * ChannelBlock + (o % ChannelBlock);
                    packed[at] = u[(((long)p * ic) + c) * oc + o];
                }
            }
        }

        var packedBias = new float[outBlocks * ChannelBlock];
        if (!bias.IsEmpty)
        {
            bias.CopyTo(packedBias);
        }

        return (packed, packedBias);
    }
}
