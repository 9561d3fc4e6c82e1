using Kernels.Cpu.Layers;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// Local response normalization across channels on the device (opencl/normalization.cl), the layer
/// <see cref="LocalResponseNormalization"/> runs on the CPU. Unlike the CPU layer it never runs in place: a
/// work-item reads the neighbouring channels other work-items write.
/// </summary>
public sealed class DeviceLocalResponseNormalization : IDisposable
{
    private const int ChannelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly int _blocks;

    /// <exception cref="ArgumentException">The descriptor is invalid.</exception>
    public DeviceLocalResponseNormalization(OpenCLContext context, LrnDescriptor descriptor, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        _context = context;
        Precision = precision;
        Descriptor = descriptor;
        _blocks = (descriptor.Channels + ChannelBlock - 1) / ChannelBlock;
        _kernel = context.GetProgram("normalization", precision).CreateKernel("lrn_across_channels_c4");
    }

    public LrnDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: channel blocks × pixels (over the batch).</summary>
    public WorkSize GlobalSize => new(_blocks, Pixels);

    private int Pixels => Descriptor.Batch * Descriptor.Height * Descriptor.Width;

    /// <summary>
    /// Enqueues the normalization of <paramref name="input"/> into <paramref name="output"/> (a different buffer)
    /// from float <paramref name="outputOffset"/> on. Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        LrnDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, _kernel.Name, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, _kernel.Name, _context, nameof(output), Precision);
        OperatorChecks.NotInPlace(input, output, _kernel.Name, _context);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, output);
        i = _kernel.SetArguments(i, d.Channels, Pixels, d.EffectiveOutputPixelStride, outputOffset, _blocks, (d.Size - 1) / 2, d.Size / 2);

        _kernel.SetArgument(i++, d.Alpha / d.Size);
        _kernel.SetArgument(i++, d.Beta);
        _kernel.SetArgument(i, d.Bias);
        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, 16)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();
}
