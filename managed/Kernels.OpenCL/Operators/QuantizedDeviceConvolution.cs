using Kernels.Core;
using Kernels.Cpu.Quantized;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// An 8-bit convolution layer on the device (opencl/conv_int8.cl), bit-exact with the CPU's
/// <see cref="QuantizedConvolutions.Create"/>: uint8 NHWC input and output (per-tensor scale and zero point), int8
/// weights symmetric per output channel and int32 bias quantized here by the CPU layer's own code, the same fixed-point
/// requantization (<see cref="Requantization"/>) with the fused ReLU/ReLU6 as the clamp. Depthwise layers (groups =
/// channels, multiplier 1) run <c>conv2d_int8_depthwise_nhwc_4x4</c> (int32 multiply-adds over 4 channels); 1x1 layers
/// without padding or groups run <c>conv2d_int8_1x1_nhwc_4x4</c>; every other layer (k×k, stride, padding, dilation,
/// groups) runs <c>conv2d_int8_direct_nhwc_4x4</c>. The last two use <c>arm_dot</c> where the device has
/// cl_arm_integer_dot_product_int8, else plain int multiply-adds with the same result.
/// </summary>
public sealed class QuantizedDeviceConvolution : IDisposable
{
    /// <summary>Output channels per work-item (the int4 accumulators).</summary>
    public const int ChannelBlock = 4;

    /// <summary>Output pixels per work-item.</summary>
    public const int PixelBlock = 4;

    /// <summary>Input channels per dot product (a char4).</summary>
    public const int InputChannelBlock = 4;

    private const string DirectKernel = "conv2d_int8_direct_nhwc_4x4";
    private const string PointwiseKernel = "conv2d_int8_1x1_nhwc_4x4";
    private const string DepthwiseKernel = "conv2d_int8_depthwise_nhwc_4x4";

    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly DeviceBuffer _weights;
    private readonly DeviceBuffer _bias;
    private readonly DeviceBuffer _multipliers;
    private readonly DeviceBuffer _shifts;
    private readonly int _blocks;
    private readonly int _icg4;
    private readonly bool _pointwise;
    private readonly bool _depthwise;

    /// <summary>Validates and quantizes the layer exactly as <see cref="QuantizedConvolutions.Create"/> does, packs it and uploads it.</summary>
    /// <param name="context">The device.</param>
    /// <param name="descriptor">The layer.</param>
    /// <param name="weightsOhwi">fp32 OHWI weights, OutputChannels·KH·KW·(InputChannels/Groups).</param>
    /// <param name="bias">fp32 bias per output channel, or null.</param>
    /// <param name="input">uint8 quantization of the input.</param>
    /// <param name="output">uint8 quantization of the output.</param>
    /// <exception cref="ArgumentException">
    /// What is wrong, naming the parameter: a weights or bias length, non-finite values, a quantization that is not
    /// uint8, a requantization scale not below 1 (see <see cref="QuantizedConvolutions.Validate"/>).
    /// </exception>
    /// <exception cref="NotSupportedException">A LeakyRelu activation (not a clamp).</exception>
    public QuantizedDeviceConvolution(
        OpenCLContext context, Conv2DDescriptor descriptor, float[] weightsOhwi, float[]? bias, QuantizationParameters input, QuantizationParameters output)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(weightsOhwi);
        Conv2DDescriptor d = descriptor;
        d.Validate();
        if (bias is not null && bias.Length != d.OutputChannels)
        {
            // An empty array is not "no bias" here, as it is not for the CPU layer.
            throw new ArgumentException($"bias has {bias.Length} elements; {d} has {d.OutputChannels} output channels (or pass null for no bias).", nameof(bias));
        }

        foreach ((QuantizationParameters q, string name) in new[] { (input, nameof(input)), (output, nameof(output)) })
        {
            if (q.DataType != DataType.UInt8)
            {
                throw new ArgumentException(
                    $"Tensor '{name}': the OpenCL int8 convolution on {context.Device.Name} takes uint8 activations (asymmetric, with a zero point), not {q.DataType}.", name);
            }
        }

        try
        {
            QuantizedConvolutions.Validate(d, weightsOhwi, bias, input, output);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{e.Message.Split(" (Parameter")[0]} (int8 convolution on {context.Device.Name})", e.ParamName, e);
        }
        QuantizedOutput clamp = QuantizedLayerChecks.Clamp(d.Activation, output, $"Convolution {d}");
        QuantizedChannels channels = QuantizedChannels.Create(weightsOhwi, d.OutputChannels, d.ReductionLength, bias, input, output);

        _context = context;
        Descriptor = d;
        Input = input;
        Output = output;
        Clamp = clamp;
        _depthwise = d.IsDepthwise;
        _pointwise = !_depthwise && PointwiseConvolution.WhyNotApplicable(d) is null;
        _blocks = ((_depthwise ? d.OutputChannels : d.GroupOutputChannels) + ChannelBlock - 1) / ChannelBlock;
        _icg4 = (d.GroupInputChannels + InputChannelBlock - 1) / InputChannelBlock * InputChannelBlock;
        Packed packed = _depthwise ? PackDepthwise(d, channels, _blocks) : Pack(d, channels, input.ZeroPoint, _blocks, _icg4);
        _kernel = context.GetProgram("conv_int8").CreateKernel(_depthwise ? DepthwiseKernel : _pointwise ? PointwiseKernel : DirectKernel);
        _weights = context.CreateBuffer(packed.Weights.Length, BufferAccess.ReadOnly);
        _bias = context.CreateBuffer((long)packed.Bias.Length * sizeof(int), BufferAccess.ReadOnly);
        _multipliers = context.CreateBuffer((long)packed.Multipliers.Length * sizeof(int), BufferAccess.ReadOnly);
        _shifts = context.CreateBuffer((long)packed.Shifts.Length * sizeof(int), BufferAccess.ReadOnly);
        _weights.Write<sbyte>(packed.Weights);
        _bias.Write<int>(packed.Bias);
        _multipliers.Write<int>(packed.Multipliers);
        _shifts.Write<int>(packed.Shifts);
    }

    public Conv2DDescriptor Descriptor { get; }

    /// <summary>Quantization of the input tensor.</summary>
    public QuantizationParameters Input { get; }

    /// <summary>Quantization of the output tensor.</summary>
    public QuantizationParameters Output { get; }

    /// <summary>The output zero point and the clamp the fused activation became (as on the CPU).</summary>
    public QuantizedOutput Clamp { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>
    /// The NDRange: 1x1, output channel blocks × pixel quads over the batch; depthwise, channel blocks × pixel quads of a
    /// row × images·rows; otherwise channel blocks of all groups × pixel quads of a row × images·rows.
    /// </summary>
    public WorkSize GlobalSize => _pointwise
        ? new WorkSize(_blocks, (int)((PixelCount + PixelBlock - 1) / PixelBlock), 1)
        : new WorkSize(
            (_depthwise ? 1 : Descriptor.Groups) * _blocks, (Descriptor.OutputWidth + PixelBlock - 1) / PixelBlock, Descriptor.Batch * Descriptor.OutputHeight);

    private long PixelCount => (long)Descriptor.Batch * Descriptor.OutputHeight * Descriptor.OutputWidth;

    /// <summary>
    /// Enqueues the layer on <paramref name="input"/> (<see cref="Conv2DDescriptor.InputLength"/> bytes) into
    /// <paramref name="output"/>: output pixel p's channels start at byte <paramref name="outputOffset"/> + p·
    /// <see cref="Conv2DDescriptor.EffectiveOutputPixelStride"/> (a channel slice of a concat); bytes between pixels are not
    /// touched. With <paramref name="profile"/>, waits and returns the kernel's device time in ms.
    /// </summary>
    /// <exception cref="ArgumentException">A buffer is too small, or input and output are the same buffer.</exception>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        Conv2DDescriptor d = Descriptor;
        if (input.Bytes < d.InputLength)
        {
            throw new ArgumentException($"The input buffer has {input.Bytes} bytes; {d} reads {d.InputLength} ({KernelName} on {_context.Device.Name}).", nameof(input));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(outputOffset);
        if (output.Bytes < outputOffset + d.OutputLength)
        {
            throw new ArgumentException(
                $"The output buffer has {output.Bytes} bytes; {d} writes {d.OutputLength} from byte {outputOffset} on ({KernelName} on {_context.Device.Name}).", nameof(output));
        }

        OperatorChecks.NotInPlace(input, output, KernelName, _context);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, _weights);
        _kernel.SetArgument(i++, _bias);
        _kernel.SetArgument(i++, _multipliers);
        _kernel.SetArgument(i++, _shifts);
        _kernel.SetArgument(i++, output);
        if (_depthwise)
        {
            _kernel.SetArguments(
                i,
                d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride, outputOffset,
                d.KernelHeight, d.KernelWidth, d.StrideHeight, d.StrideWidth, d.PadTop, d.PadLeft, d.DilationHeight, d.DilationWidth,
                _blocks, d.Batch,
                Input.ZeroPoint, Clamp.ZeroPoint, Clamp.Min, Clamp.Max);
        }
        else if (_pointwise)
        {
            _kernel.SetArguments(
                i,
                d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride, outputOffset,
                d.StrideHeight, d.StrideWidth, _icg4, d.OutputChannels, _blocks, checked((int)PixelCount),
                Clamp.ZeroPoint, Clamp.Min, Clamp.Max);
        }
        else
        {
            _kernel.SetArguments(
                i,
                d.InputHeight, d.InputWidth, d.InputChannels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride, outputOffset,
                d.KernelHeight, d.KernelWidth, d.StrideHeight, d.StrideWidth, d.PadTop, d.PadLeft, d.DilationHeight, d.DilationWidth,
                d.GroupInputChannels, _icg4, d.GroupOutputChannels, _blocks, d.Groups, d.Batch,
                Input.ZeroPoint, Clamp.ZeroPoint, Clamp.Min, Clamp.Max);
        }

        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(
            _context, _kernel, $"{d} int8", global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, _pointwise ? 16 : 4), Math.Min(global.Z, 4)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    /// <summary>Runs the layer on host arrays: uploads <paramref name="input"/>, runs, reads the whole <paramref name="output"/> back (a convenience for checks and benchmarks).</summary>
    public void Run(ReadOnlySpan<byte> input, Span<byte> output)
    {
        Conv2DDescriptor d = Descriptor;
        if (input.Length < d.InputLength)
        {
            throw new ArgumentException($"input has {input.Length} bytes; the layer {d} reads {d.InputLength}.", nameof(input));
        }

        if (output.Length < d.OutputLength)
        {
            throw new ArgumentException($"output has {output.Length} bytes; the layer {d} writes {d.OutputLength}.", nameof(output));
        }

        using DeviceBuffer deviceInput = _context.CreateBuffer(d.InputLength, BufferAccess.ReadOnly);
        using DeviceBuffer deviceOutput = _context.CreateBuffer(output.Length);
        deviceInput.Write(input[..(int)d.InputLength]);
        deviceOutput.Write<byte>(output);
        Run(deviceInput, deviceOutput);
        deviceOutput.Read(output);
    }

    public void Dispose()
    {
        _kernel.Dispose();
        _weights.Dispose();
        _bias.Dispose();
        _multipliers.Dispose();
        _shifts.Dispose();
    }

    /// <summary>
    /// The packed layer: weights [group][block][ky][kx][ic quad][4 oc][4 ic] (depthwise: [ky][kx][channels rounded up to 4]),
    /// per-channel arrays [group][block][4].
    /// </summary>
    internal readonly record struct Packed(sbyte[] Weights, int[] Bias, int[] Multipliers, int[] Shifts);

    /// <summary>
    /// Packs the quantized layer for the kernels, zero-padded past a group's last output channel and past its last input
    /// channel; folds (128 − input zero point)·Σw into each bias (the kernels take x − 128, see conv_int8.cl), wrapping
    /// as the int32 accumulation does.
    /// </summary>
    internal static Packed Pack(Conv2DDescriptor d, QuantizedChannels channels, int inputZeroPoint, int blocks, int icg4)
    {
        int icg = d.GroupInputChannels, ocg = d.GroupOutputChannels, taps = d.KernelHeight * d.KernelWidth;
        int perOc = taps * icg;
        long perBlock = (long)taps * icg4 * ChannelBlock;
        int slots = d.Groups * blocks * ChannelBlock;
        var weights = new sbyte[d.Groups * blocks * perBlock];
        var bias = new int[slots];
        var multipliers = new int[slots];
        var shifts = new int[slots];
        for (int g = 0; g < d.Groups; g++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int block = (g * blocks) + b;
                for (int lane = 0; lane < ChannelBlock; lane++)
                {
                    int ocInGroup = (b * ChannelBlock) + lane;
                    if (ocInGroup >= ocg)
                    {
                        continue;
                    }

                    int oc = (g * ocg) + ocInGroup;
                    int slot = (block * ChannelBlock) + lane;
                    ReadOnlySpan<sbyte> source = channels.Weights.AsSpan(oc * perOc, perOc);
                    int sum = 0;
                    for (int t = 0; t < taps; t++)
                    {
                        for (int c = 0; c < icg; c++)
                        {
                            sbyte w = source[(t * icg) + c];
                            sum += w;
                            int quad = c / InputChannelBlock;
                            long at = (block * perBlock) + (((long)t * icg4) + (quad * InputChannelBlock)) * ChannelBlock
                                + (lane * InputChannelBlock) + (c % InputChannelBlock);
                            weights[at] = w;
                        }
                    }

                    bias[slot] = unchecked(channels.Bias[oc] + ((128 - inputZeroPoint) * sum));
                    multipliers[slot] = channels.Multipliers[oc];
                    shifts[slot] = channels.Shifts[oc];
                }
            }
        }

        return new Packed(weights, bias, multipliers, shifts);
    }

    /// <summary>Depthwise: OHWI ([C][KH][KW][1]) → [ky][kx][channels rounded up to 4], zeros in the padding lanes; the bias as it is (no fold: the kernel subtracts the zero point).</summary>
    internal static Packed PackDepthwise(Conv2DDescriptor d, QuantizedChannels channels, int blocks)
    {
        int taps = d.KernelHeight * d.KernelWidth, c4 = blocks * ChannelBlock;
        var weights = new sbyte[taps * c4];
        var bias = new int[c4];
        var multipliers = new int[c4];
        var shifts = new int[c4];
        for (int c = 0; c < d.OutputChannels; c++)
        {
            for (int t = 0; t < taps; t++)
            {
                weights[(t * c4) + c] = channels.Weights[(c * taps) + t];
            }

            bias[c] = channels.Bias[c];
            multipliers[c] = channels.Multipliers[c];
            shifts[c] = channels.Shifts[c];
        }

        return new Packed(weights, bias, multipliers, shifts);
    }
}
