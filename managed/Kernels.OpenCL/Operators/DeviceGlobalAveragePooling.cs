using Kernels.Cpu.Layers;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// Global average pooling on the device (opencl/pooling.cl), the layer <see cref="GlobalAveragePooling"/> runs on
/// the CPU: each image's pixels averaged per channel into one output pixel, which may sit in a wider tensor.
/// </summary>
public sealed class DeviceGlobalAveragePooling : IDisposable
{
    private const int ChannelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly int _blocks;

    /// <exception cref="ArgumentException">The descriptor is invalid.</exception>
    public DeviceGlobalAveragePooling(OpenCLContext context, GlobalAveragePoolDescriptor descriptor, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        _context = context;
        Precision = precision;
        Descriptor = descriptor;
        _blocks = (descriptor.Channels + ChannelBlock - 1) / ChannelBlock;
        _kernel = context.GetProgram("pooling", precision).CreateKernel("global_avg_pool_nhwc_c4");
    }

    public GlobalAveragePoolDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: channel blocks × images.</summary>
    public WorkSize GlobalSize => new(_blocks, Descriptor.Batch);

    /// <summary>
    /// Enqueues the pooling of <paramref name="input"/> into <paramref name="output"/> from float
    /// <paramref name="outputOffset"/> on. Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        GlobalAveragePoolDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, _kernel.Name, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, _kernel.Name, _context, nameof(output), Precision);
        OperatorChecks.NotInPlace(input, output, _kernel.Name, _context);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, output);
        i = _kernel.SetArguments(i, d.Height * d.Width, d.Channels, d.EffectiveOutputPixelStride, outputOffset, _blocks, d.Batch);

        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 16), 1));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();
}
