using Kernels.Core;
using Kernels.OpenCL.Runtime;

namespace Kernels.OpenCL.Operators;

/// <summary>A convolution layer planned on an OpenCL device: weights packed and uploaded, ready to enqueue.</summary>
public interface IDeviceConvolution : IDisposable
{
    Conv2DDescriptor Descriptor { get; }

    /// <summary>How the layer stores its tensors on the device (its input and output buffers hold values of this precision).</summary>
    DevicePrecision Precision { get; }

    /// <summary>The OpenCL kernel function it runs, e.g. conv2d_direct_nhwc_4x4.</summary>
    string KernelName { get; }

    /// <summary>
    /// Enqueues the layer; output pixel p's channels start at float <paramref name="outputOffset"/> + p·
    /// <see cref="Conv2DDescriptor.EffectiveOutputPixelStride"/> of <paramref name="output"/> (an offset and a stride
    /// put them into a channel slice of a concat). With <paramref name="profile"/>, waits and returns the device time in ms.
    /// </summary>
    double Run(DeviceBuffer input, DeviceBuffer output, int outputOffset = 0, bool profile = false);
}
