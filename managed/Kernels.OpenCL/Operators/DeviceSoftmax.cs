using Kernels.Cpu.Layers;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// Softmax over the channels of each pixel on the device (opencl/normalization.cl), the layer <see cref="Softmax"/>
/// runs on the CPU, with the pixel's maximum subtracted so exp never overflows. One work-item owns a pixel, so it may
/// run in place (same buffer, dense output, offset 0).
/// </summary>
public sealed class DeviceSoftmax : IDisposable
{
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;

    /// <exception cref="ArgumentException">The descriptor is invalid.</exception>
    public DeviceSoftmax(OpenCLContext context, SoftmaxDescriptor descriptor, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        _context = context;
        Precision = precision;
        Descriptor = descriptor;
        _kernel = context.GetProgram("normalization", precision).CreateKernel("softmax_channels_c4");
    }

    public SoftmaxDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>The NDRange: pixels (over the batch).</summary>
    public WorkSize GlobalSize => new(Descriptor.Batch * Descriptor.Height * Descriptor.Width);

    /// <summary>
    /// Enqueues the softmax of <paramref name="input"/> into <paramref name="output"/> from float
    /// <paramref name="outputOffset"/> on. Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false)
    {
        SoftmaxDescriptor d = Descriptor;
        OperatorChecks.Holds(input, d.InputLength, 0, _kernel.Name, _context, nameof(input), Precision);
        OperatorChecks.Holds(output, d.OutputLength, outputOffset, _kernel.Name, _context, nameof(output), Precision);
        bool inPlace = ReferenceEquals(input, output);
        if (inPlace && (outputOffset != 0 || d.EffectiveOutputPixelStride != d.Channels))
        {
            throw new ArgumentException(
                $"{_kernel.Name} runs in place only with a dense output at offset 0 (on {_context.Device.Name}); {d} at offset {outputOffset} is not.",
                nameof(output));
        }

        _kernel.SetArgument(0, input);
        _kernel.SetArgument(1, output);
        _kernel.SetArgument(2, d.Channels);
        _kernel.SetArgument(3, d.Batch * d.Height * d.Width);
        _kernel.SetArgument(4, d.EffectiveOutputPixelStride);
        _kernel.SetArgument(5, outputOffset);
        WorkSize global = GlobalSize;

        // Tuning runs the kernel several times, which an in-place softmax must not do.
        var fallback = new WorkSize(Math.Min(global.X, 16));
        WorkSize local = inPlace
            ? _context.Tuner.Lookup(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, fallback)
            : _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration(d.ToString()), global, fallback);
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();
}
