using Kernels.Core;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// Winograd F(2x2, 3x3): 4x4 tiles, 16 GEMMs of [tiles×IC]·[IC×OC], 2.25x fewer multiplies than direct; the transforms only add and subtract, so the error stays close to direct.
/// </summary>
public sealed class WinogradF2x3 : IConvolutionImplementation
{
    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.WinogradF2;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor) => WinogradApplicability.WhyNot(descriptor);

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa) =>
        new WinogradConvolution(descriptor, weights, bias, isa, Algorithm);
}
