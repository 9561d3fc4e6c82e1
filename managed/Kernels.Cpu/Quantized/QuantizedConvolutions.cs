using System.Runtime.Intrinsics.X86;
using Kernels.Core;

namespace Kernels.Cpu.Quantized;

/// <summary>
/// The int8 convolution entry point: validates a layer and its quantization, quantizes its fp32 weights per
/// output channel and bias to int32 (<see cref="QuantizedChannels"/>), and plans one algorithm:
/// depthwise (groups = channels, multiplier 1) on the depthwise kernels; 1×1 stride 1 without padding or groups
/// as one GEMM on the activation rows themselves (no copy); every other layer (first layers with 3 input
/// channels, k×k, strided 1×1, grouped) as im2col into bounded row blocks + <see cref="QuantizedGemm"/>, with
/// padding taking the input zero point (real 0).
/// </summary>
public static class QuantizedConvolutions
{
    /// <summary>
    /// Checks everything <see cref="Create"/> needs, allocating nothing: the descriptor, the weights and bias
    /// lengths and values, uint8 quantization, a clamp activation, a requantization scale below 1 on every
    /// output channel, an executable ISA.
    /// </summary>
    /// <exception cref="ArgumentException">What is wrong, naming the field or parameter.</exception>
    /// <exception cref="NotSupportedException">A LeakyRelu activation (not a clamp).</exception>
    public static void Validate(Conv2DDescriptor d, ReadOnlySpan<float> weightsOhwi, ReadOnlySpan<float> bias, QuantizationParameters input, QuantizationParameters output, KernelIsa? isa = null)
    {
        Convolution.Convolutions.Validate(d, weightsOhwi, bias);
        QuantizedLayerChecks.Activations(input, nameof(input));
        QuantizedLayerChecks.Activations(output, nameof(output));
        QuantizedLayerChecks.Clamp(d.Activation, output, $"Convolution {d}");
        isa?.EnsureExecutable(nameof(isa));
        if (!d.IsDepthwise && d.ReductionLength > QuantizedGemm.MaxK)
        {
            throw new ArgumentException($"The reduction length {d.ReductionLength} of {d} exceeds the int8 GEMM's {QuantizedGemm.MaxK}.", nameof(d.KernelHeight));
        }

        if (d.IsDepthwise && (long)d.KernelHeight * d.KernelWidth > QuantizedGemm.MaxK)
        {
            throw new ArgumentException($"The depthwise window {d.KernelHeight}x{d.KernelWidth} exceeds {QuantizedGemm.MaxK} taps.", nameof(d.KernelHeight));
        }

        QuantizedChannels.Validate(weightsOhwi, d.OutputChannels, d.ReductionLength, bias, input, output);
    }

    /// <summary>
    /// Plans an int8 convolution (see the class remarks for the algorithm choice).
    /// </summary>
    /// <param name="d">The layer.</param>
    /// <param name="weightsOhwi">fp32 OHWI weights.</param>
    /// <param name="bias">fp32 bias per output channel, or null.</param>
    /// <param name="input">uint8 quantization of the input.</param>
    /// <param name="output">uint8 quantization of the output.</param>
    /// <param name="isa">The variant; null for the best this machine runs (the GEMM's <see cref="QuantizedGemmKernels.Best"/>).</param>
    /// <exception cref="ArgumentException">See <see cref="Validate"/>.</exception>
    /// <exception cref="NotSupportedException">A LeakyRelu activation.</exception>
    public static QuantizedConvolution Create(Conv2DDescriptor d, float[] weightsOhwi, float[]? bias, QuantizationParameters input, QuantizationParameters output, KernelIsa? isa = null) =>
        Create(d, weightsOhwi, bias, input, output, isa, indirect: true);

    /// <summary><see cref="Create(Conv2DDescriptor, float[], float[], QuantizationParameters, QuantizationParameters, KernelIsa?)"/>; <paramref name="indirect"/> false keeps im2col and the 1×1 GEMM (tests compare the two).</summary>
    internal static QuantizedConvolution Create(Conv2DDescriptor d, float[] weightsOhwi, float[]? bias, QuantizationParameters input, QuantizationParameters output, KernelIsa? isa, bool indirect)
    {
        ArgumentNullException.ThrowIfNull(weightsOhwi);
        Validate(d, weightsOhwi, bias, input, output, isa);
        var clamp = QuantizedLayerChecks.Clamp(d.Activation, output, $"Convolution {d}");
        var channels = QuantizedChannels.Create(weightsOhwi, d.OutputChannels, d.ReductionLength, bias, input, output);
        if (d.IsDepthwise)
        {
            return new QuantizedDepthwiseConvolution(d, channels, input, output, clamp, DepthwiseVariantFor(isa));
        }

        var gemm = QuantizedGemm.Create(GemmKernelFor(isa));
        if (indirect && QuantizedIndirectConvolution.Applies(d, gemm.Kernel))
        {
            return new QuantizedIndirectConvolution(d, channels, input, output, clamp, gemm);
        }

        return new QuantizedGemmConvolution(d, channels, input, output, clamp, gemm);
    }

    /// <summary>The int8 GEMM micro-kernel a variant uses: on x86 the widest dot product the CPU has, on AdvSimd the sdot kernel.</summary>
    internal static QuantizedGemmMicroKernel GemmKernelFor(KernelIsa? isa) => isa switch
    {
        null => QuantizedGemmKernels.Best,
        KernelIsa.Avx512 => FirstSupported("qu8s8-gemm-12x32-avx512vnni-c", "qu8s8-gemm-6x16-avxvnni", "qu8s8-gemm-4x8-avx2"),
        KernelIsa.Avx2 => FirstSupported("qu8s8-gemm-6x16-avxvnni", "qu8s8-gemm-4x8-avx2"),
        _ => QuantizedGemmKernels.Get("qu8s8-gemm-8x12-advsimd-dot"),
    };

    /// <summary>The depthwise kernel a variant uses: AVX-512BW or AVX2 where the CPU has them, AdvSimd (native on arm64, through the shim when asked for), else the portable one.</summary>
    internal static DepthwiseVariant DepthwiseVariantFor(KernelIsa? isa) => isa switch
    {
        null or KernelIsa.Avx512 when Avx512BW.IsSupported => DepthwiseVariant.Avx512,
        null or KernelIsa.Avx512 or KernelIsa.Avx2 when Avx2.IsSupported => DepthwiseVariant.Avx2,
        null when System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported => DepthwiseVariant.AdvSimd,
        KernelIsa.AdvSimd => DepthwiseVariant.AdvSimd,
        _ => DepthwiseVariant.Scalar,
    };

    private static QuantizedGemmMicroKernel FirstSupported(params string[] names)
    {
        foreach (string name in names)
        {
            var kernel = QuantizedGemmKernels.Get(name);
            if (kernel.IsSupported)
            {
                return kernel;
            }
        }

        return QuantizedGemmKernels.Get(names[^1]);
    }
}
