using Kernels.Cpu.Layers;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// Max or average pooling on the device (opencl/pooling.cl), the layer <see cref="Pooling2D"/> runs on the CPU:
/// NHWC, any window, stride and asymmetric padding, ceil mode, count_include_pad either way, and an output that may
/// be a channel slice of a wider tensor (<see cref="Pool2DDescriptor.OutputPixelStride"/> and an output offset).
/// </summary>
public sealed class DevicePooling2D : IDisposable
{
    private const int ChannelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;
    private readonly int _blocks;

    /// <exception cref="ArgumentException">The descriptor is invalid.</exception>
    public DevicePooling2D(OpenCLContext context, Pool2DDescriptor descriptor, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        _context = context;
        Precision = precision;
        Descriptor = descriptor;
        _blocks = (descriptor.Channels + ChannelBlock - 1) / ChannelBlock;
        _kernel = context.GetProgram("pooling", precision).CreateKernel(descriptor.Kind == PoolingKind.Max ? "max_pool2d_nhwc_c4" : "avg_pool2d_nhwc_c4");
    }

    public Pool2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: channel blocks × output columns × images·output rows.</summary>
    public WorkSize GlobalSize => new(_blocks, Descriptor.OutputWidth, Descriptor.Batch * Descriptor.OutputHeight);

    /// <summary>
    /// Enqueues the pooling of <paramref name="input"/> (<see cref="Pool2DDescriptor.InputLength"/> floats) into
    /// <paramref name="output"/> from float <paramref name="outputOffset"/> on (only the layer's channels of each
    /// pixel are written). Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        Pool2DDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, _kernel.Name, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, _kernel.Name, _context, nameof(output), Precision);
        OperatorChecks.NotInPlace(input, output, _kernel.Name, _context);
        int i = 0;
        _kernel.SetArgument(i++, input);
        _kernel.SetArgument(i++, output);
        i = _kernel.SetArguments(
            i,
            d.InputHeight, d.InputWidth, d.Channels, d.OutputHeight, d.OutputWidth, d.EffectiveOutputPixelStride,
            outputOffset, d.KernelHeight, d.KernelWidth, d.StrideHeight, d.StrideWidth, d.PadTop, d.PadLeft, d.PadBottom,
            d.PadRight, _blocks, d.Batch);

        if (d.Kind == PoolingKind.Average)
        {
            _kernel.SetArgument(i, d.CountIncludePad ? 1 : 0);
        }

        WorkSize global = GlobalSize;
        WorkSize local = _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, 4), Math.Min(global.Z, 4)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();
}
