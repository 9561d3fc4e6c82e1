using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>
/// Copies the channels of every pixel between NHWC tensors of different pixel strides (opencl/copy.cl): a concat by
/// offsets for a producer that cannot write with an output pixel stride (it writes a dense tensor, and this puts it
/// into its channel slice of the concat output: destination stride = the concat's channels, destination offset =
/// the input's first channel), or a slice back out to a dense tensor.
/// </summary>
public sealed class ChannelSliceCopy : IDisposable
{
    private const int ChannelBlock = 4;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;

    public ChannelSliceCopy(OpenCLContext context, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        Precision = precision;
        _kernel = context.GetProgram("copy", precision).CreateKernel("copy_channels_nhwc_c4");
    }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>
    /// Enqueues the copy of <paramref name="channels"/> floats of each of <paramref name="pixels"/> pixels: pixel p
    /// goes from source float <paramref name="sourceOffset"/> + p·<paramref name="sourceStride"/> to destination float
    /// <paramref name="destinationOffset"/> + p·<paramref name="destinationStride"/>; a stride of 0 means
    /// <paramref name="channels"/> (dense). Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A count, stride or offset is out of range, a buffer is too small, or the buffers are the same.</exception>
    public double Run(
        DeviceBuffer source, DeviceBuffer destination, int pixels, int channels,
        int sourceStride = 0, int sourceOffset = 0, int destinationStride = 0, int destinationOffset = 0, bool profile = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pixels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        int srcStride = Stride(sourceStride, channels, nameof(sourceStride));
        int dstStride = Stride(destinationStride, channels, nameof(destinationStride));
        OperatorChecks.Holds(source, ((long)(pixels - 1) * srcStride) + channels, sourceOffset, _kernel.Name, _context, nameof(source), Precision);
        OperatorChecks.Holds(destination, ((long)(pixels - 1) * dstStride) + channels, destinationOffset, _kernel.Name, _context, nameof(destination), Precision);
        OperatorChecks.NotInPlace(source, destination, _kernel.Name, _context);
        int blocks = (channels + ChannelBlock - 1) / ChannelBlock;
        int i = 0;
        _kernel.SetArgument(i++, source);
        _kernel.SetArgument(i++, destination);
        i = _kernel.SetArguments(i, channels, pixels, srcStride, sourceOffset, dstStride, destinationOffset, blocks);

        var global = new WorkSize(blocks, pixels);
        WorkSize local = _context.Tuner.Choose(
            _context, _kernel, Precision.TunerConfiguration($"copy {channels} channels, strides {srcStride}→{dstStride}"), global, new WorkSize(Math.Min(global.X, 4), Math.Min(global.Y, 16)));
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();

    private int Stride(int stride, int channels, string name)
    {
        if (stride == 0)
        {
            return channels;
        }

        if (stride < channels)
        {
            throw new ArgumentOutOfRangeException(name, stride, $"A pixel stride smaller than the {channels} channels would overlap pixels ({_kernel.Name} on {_context.Device.Name}).");
        }

        return stride;
    }
}
