using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>out = act(a + b) on float32 or half-storage buffers (opencl/elementwise.cl, 8 values per work-item).</summary>
public sealed class ElementwiseAdd : IDisposable
{
    private const int PerItem = 8;
    private readonly OpenCLContext _context;
    private readonly ClKernel _kernel;

    public ElementwiseAdd(OpenCLContext context, DevicePrecision precision = DevicePrecision.Float32)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        Precision = precision;
        _kernel = context.GetProgram("elementwise", precision).CreateKernel("add_f32_x8");
    }

    /// <summary>How the layer stores its tensors on the device; its buffers hold values of this precision.</summary>
    public DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs.</summary>
    public string KernelName => _kernel.Name;

    /// <summary>
    /// Enqueues out[i] = act(a[i] + b[i]) for <paramref name="count"/> floats; <paramref name="output"/> may be
    /// <paramref name="a"/> or <paramref name="b"/>. Returns the kernel's device time in ms when <paramref name="profile"/>.
    /// </summary>
    public double Run(DeviceBuffer a, DeviceBuffer b, DeviceBuffer output, int count, FusedActivation activation = default, bool profile = false)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        activation.Validate(nameof(activation));
        OperatorChecks.Holds(a, count, 0, "add_f32_x8", _context, nameof(a), Precision);
        OperatorChecks.Holds(b, count, 0, "add_f32_x8", _context, nameof(b), Precision);
        OperatorChecks.Holds(output, count, 0, "add_f32_x8", _context, nameof(output), Precision);

        (int act, float slope) = ActivationCode.Of(activation);
        _kernel.SetArgument(0, a);
        _kernel.SetArgument(1, b);
        _kernel.SetArgument(2, output);
        _kernel.SetArgument(3, count);
        _kernel.SetArgument(4, act);
        _kernel.SetArgument(5, slope);
        var global = new WorkSize((count + PerItem - 1) / PerItem);

        // Tuning runs the kernel several times, which an in-place add must not do.
        bool inPlace = ReferenceEquals(output, a) || ReferenceEquals(output, b);
        var fallback = new WorkSize(Math.Min(64, global.X));
        WorkSize local = inPlace
            ? _context.Tuner.Lookup(_context, _kernel, Precision.TunerConfiguration("add"), global, fallback)
            : _context.Tuner.Choose(_context, _kernel, Precision.TunerConfiguration("add"), global, fallback);
        return _context.Enqueue(_kernel, global, local, profile);
    }

    public void Dispose() => _kernel.Dispose();
}
