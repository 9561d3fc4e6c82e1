using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Gemm;

namespace Kernels.Cpu.Convolution.Gemm;

/// <summary>
/// A convolution computed as one GEMM per group: C[pixels × OC/G] = A[pixels × KH·KW·IC/G] · B, where
/// the rows of A are gathered from the NHWC input panel by panel (<see cref="IGemmAPacker"/>) and B is
/// the group's OHWI weights, transposed and packed once at plan time. The output is C with leading
/// dimension <see cref="Conv2DDescriptor.EffectiveOutputPixelStride"/>, so a concat slice is written in place.
/// </summary>
internal abstract unsafe class GemmConvolutionKernel : ConvolutionKernel
{
    private readonly PackedWeights[] _weights;
    private readonly NativeBuffer<float>? _bias;

    protected GemmConvolutionKernel(
        Conv2DDescriptor d, ConvolutionAlgorithm algorithm, KernelIsa isa, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
        : base(d, algorithm, isa)
    {
        Gemm = Sgemm.Create(isa.GemmKernel());
        int k = d.ReductionLength, ocg = d.GroupOutputChannels;
        _weights = new PackedWeights[d.Groups];
        var transposed = new float[(long)k * ocg];
        for (int g = 0; g < d.Groups; g++)
        {
            // OHWI rows are the columns of B: B[k][o] = W[g·ocg + o][k].
            var group = weights.Slice(g * ocg * k, ocg * k);
            for (int o = 0; o < ocg; o++)
            {
                for (int i = 0; i < k; i++)
                {
                    transposed[((long)i * ocg) + o] = group[(o * k) + i];
                }
            }

            _weights[g] = Gemm.PackB(k, ocg, transposed, ocg);
        }

        if (!bias.IsEmpty)
        {
            _bias = new NativeBuffer<float>(bias.Length, zero: false);
            bias.CopyTo(_bias.AsSpan());
        }
    }

    /// <summary>The SGEMM configuration (micro-kernel of the ISA variant).</summary>
    protected Sgemm Gemm { get; }

    /// <summary>The packed weights of group g.</summary>
    protected float* PackedWeightsOf(int group) => _weights[group].Pointer;

    /// <summary>Bias of group g's first output channel, or null.</summary>
    protected float* BiasOf(int group) => _bias is null ? null : _bias.Pointer + ((long)group * Descriptor.GroupOutputChannels);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var w in _weights)
            {
                w.Dispose();
            }

            _bias?.Dispose();
        }
    }
}
