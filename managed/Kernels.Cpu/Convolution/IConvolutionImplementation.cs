using Kernels.Core;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// One algorithm's entry in the registry (<see cref="Convolutions.Implementations"/>): which layers it
/// applies to, and how to plan a layer (transform and pack the weights). Arguments are validated by
/// <see cref="Convolutions.Create"/> before <see cref="Create"/> is called.
/// </summary>
public interface IConvolutionImplementation
{
    /// <summary>The algorithm implemented.</summary>
    ConvolutionAlgorithm Algorithm { get; }

    /// <summary>Null when the algorithm applies to the (valid) layer, else the reason it does not.</summary>
    string? WhyNotApplicable(Conv2DDescriptor descriptor);

    /// <summary>Plans the layer. Weights are OHWI with <see cref="Conv2DDescriptor.WeightsLength"/> floats; bias is empty or has OutputChannels floats.</summary>
    ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa);
}
