using Kernels.Core;

namespace Kernels.Cpu.Convolution.Winograd;

/// <summary>
/// Winograd F(4x4, 3x3): 6x6 tiles, 36 GEMMs of [tiles×IC]·[IC×OC], 4x fewer multiplies than direct; the transforms' coefficients up to 8 (Aᵀ) and 5 (Bᵀ) make its error grow about 10x over direct (see WinogradTests).
/// </summary>
public sealed class WinogradF4x3 : IConvolutionImplementation
{
    /// <inheritdoc />
    public ConvolutionAlgorithm Algorithm => ConvolutionAlgorithm.WinogradF4;

    /// <inheritdoc />
    public string? WhyNotApplicable(Conv2DDescriptor descriptor) => WinogradApplicability.WhyNot(descriptor);

    /// <inheritdoc />
    public ConvolutionKernel Create(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, KernelIsa isa) =>
        new WinogradConvolution(descriptor, weights, bias, isa, Algorithm);
}
