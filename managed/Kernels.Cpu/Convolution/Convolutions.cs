using Kernels.Core;

namespace Kernels.Cpu.Convolution;

/// <summary>
/// The convolution entry point: validate a layer, list the algorithms that apply, plan a layer with
/// a chosen (or selected) algorithm and ISA variant.
/// </summary>
public static class Convolutions
{
    /// <summary>Every registered algorithm implementation.</summary>
    public static IReadOnlyList<IConvolutionImplementation> Implementations { get; } =
    [
        new Gemm.Im2ColConvolution(),
        new Gemm.PointwiseConvolution(),
        new Winograd.WinogradF4x3(),
        new Winograd.WinogradF2x3(),
    ];

    /// <summary>Validates the layer, its weights and bias (the validate step: nothing is allocated or run).</summary>
    /// <exception cref="ArgumentException">The descriptor is invalid, or weights/bias have the wrong length; the parameter is named.</exception>
    public static void Validate(Conv2DDescriptor descriptor, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (weights.Length != descriptor.WeightsLength)
        {
            throw new ArgumentException(
                $"weights has {weights.Length} floats; the OHWI weights of {descriptor} have {descriptor.WeightsLength} " +
                $"({descriptor.OutputChannels}x{descriptor.KernelHeight}x{descriptor.KernelWidth}x{descriptor.GroupInputChannels}).",
                nameof(weights));
        }

        if (!bias.IsEmpty && bias.Length != descriptor.OutputChannels)
        {
            throw new ArgumentException(
                $"bias has {bias.Length} floats; it must be empty or have OutputChannels = {descriptor.OutputChannels}.", nameof(bias));
        }
    }

    /// <summary>The implementation of an algorithm.</summary>
    /// <exception cref="ArgumentException">None is registered (or <paramref name="algorithm"/> is Auto).</exception>
    public static IConvolutionImplementation Get(ConvolutionAlgorithm algorithm)
    {
        foreach (var implementation in Implementations)
        {
            if (implementation.Algorithm == algorithm)
            {
                return implementation;
            }
        }

        throw new ArgumentException($"No implementation of the {algorithm.ToName()} convolution is registered.", nameof(algorithm));
    }

    /// <summary>Null when <paramref name="algorithm"/> is registered and applies to the layer, else why not.</summary>
    public static string? WhyNotApplicable(ConvolutionAlgorithm algorithm, Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        foreach (var implementation in Implementations)
        {
            if (implementation.Algorithm == algorithm)
            {
                return implementation.WhyNotApplicable(descriptor);
            }
        }

        return $"no implementation of the {algorithm.ToName()} convolution is registered";
    }

    /// <summary>The registered algorithms that apply to the (valid) layer.</summary>
    public static IReadOnlyList<ConvolutionAlgorithm> ApplicableAlgorithms(Conv2DDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        return Implementations.Where(i => i.WhyNotApplicable(descriptor) is null).Select(static i => i.Algorithm).ToArray();
    }

    /// <summary>
    /// Plans a layer: validates everything first, then transforms and packs the weights for the algorithm
    /// (<see cref="ConvolutionAlgorithm.Auto"/>: the selector's choice by its cost heuristic) and ISA variant.
    /// </summary>
    /// <param name="descriptor">The layer.</param>
    /// <param name="weights">OHWI weights.</param>
    /// <param name="bias">Empty, or one value per output channel.</param>
    /// <param name="algorithm">The algorithm, or Auto.</param>
    /// <param name="isa">The variant; null for <see cref="KernelIsas.Best"/>.</param>
    /// <exception cref="ArgumentException">Invalid layer, weights or bias; an algorithm that does not apply (with the reason); an ISA that cannot run here.</exception>
    public static ConvolutionKernel Create(
        Conv2DDescriptor descriptor,
        ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias = default,
        ConvolutionAlgorithm algorithm = ConvolutionAlgorithm.Auto,
        KernelIsa? isa = null)
    {
        Validate(descriptor, weights, bias);
        var variant = isa ?? KernelIsas.Best;
        variant.EnsureExecutable(nameof(isa));
        if (!Enum.IsDefined(algorithm))
        {
            throw new ArgumentException($"Unknown convolution algorithm {(int)algorithm}.", nameof(algorithm));
        }

        if (algorithm == ConvolutionAlgorithm.Auto)
        {
            algorithm = ConvolutionSelector.Heuristic(descriptor, variant, threads: 1).Algorithm;
        }

        string? why = WhyNotApplicable(algorithm, descriptor);
        if (why is not null)
        {
            throw new ArgumentException($"The {algorithm.ToName()} convolution does not apply to {descriptor}: {why}.", nameof(algorithm));
        }

        return Get(algorithm).Create(descriptor, weights, bias, variant);
    }
}
