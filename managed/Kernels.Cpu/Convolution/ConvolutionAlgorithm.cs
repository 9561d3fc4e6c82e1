namespace Kernels.Cpu.Convolution;

/// <summary>The convolution algorithms (each applies to some layer shapes; see <see cref="Convolutions.WhyNotApplicable"/>).</summary>
public enum ConvolutionAlgorithm
{
    /// <summary>Let the selector choose (<see cref="ConvolutionSelector"/>).</summary>
    Auto,

    /// <summary>im2col + GEMM: any kernel, stride, padding, dilation and groups.</summary>
    Im2Col,

    /// <summary>1x1 convolution as a GEMM straight over the NHWC activation (no im2col), stride 1 or 2.</summary>
    Pointwise,

    /// <summary>Winograd F(2x2, 3x3): 3x3 stride 1; 2.25x fewer multiplies in the GEMMs.</summary>
    WinogradF2,

    /// <summary>Winograd F(4x4, 3x3): 3x3 stride 1; 4x fewer multiplies, larger transform error.</summary>
    WinogradF4,

    /// <summary>Depthwise (groups = channels, multiplier 1): vectorized over channels, 3x3 stride 1/2 hand-written.</summary>
    Depthwise,

    /// <summary>Direct convolution for layers with few input channels (the first layer), where im2col+GEMM wastes work.</summary>
    Direct,
}

/// <summary>Command-line names of the algorithms.</summary>
public static class ConvolutionAlgorithmNames
{
    /// <summary>auto, im2col, 1x1, winograd-f2, winograd-f4, depthwise, direct.</summary>
    public static string ToName(this ConvolutionAlgorithm algorithm) => algorithm switch
    {
        ConvolutionAlgorithm.Auto => "auto",
        ConvolutionAlgorithm.Im2Col => "im2col",
        ConvolutionAlgorithm.Pointwise => "1x1",
        ConvolutionAlgorithm.WinogradF2 => "winograd-f2",
        ConvolutionAlgorithm.WinogradF4 => "winograd-f4",
        ConvolutionAlgorithm.Depthwise => "depthwise",
        ConvolutionAlgorithm.Direct => "direct",
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, "Unknown algorithm."),
    };

    /// <summary>
    /// The algorithms a command-line name stands for: one, except "winograd" (both tile sizes;
    /// the selector picks) and "auto" (all).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the names.</exception>
    public static IReadOnlyList<ConvolutionAlgorithm> Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, "winograd", StringComparison.OrdinalIgnoreCase))
        {
            return [ConvolutionAlgorithm.WinogradF4, ConvolutionAlgorithm.WinogradF2];
        }

        foreach (var a in Enum.GetValues<ConvolutionAlgorithm>())
        {
            if (string.Equals(a.ToName(), name, StringComparison.OrdinalIgnoreCase))
            {
                return a == ConvolutionAlgorithm.Auto ? Enum.GetValues<ConvolutionAlgorithm>().Where(static x => x != ConvolutionAlgorithm.Auto).ToArray() : [a];
            }
        }

        throw new ArgumentException(
            $"Unknown convolution algorithm '{name}'; expected auto, im2col, 1x1, winograd, winograd-f2, winograd-f4, depthwise or direct.", nameof(name));
    }
}
