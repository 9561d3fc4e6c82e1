using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Convolution;
using Xunit;

namespace Kernels.Tests.Convolution;

/// <summary>
/// One tester for every convolution algorithm (XNNPACK style): random input, weights and bias, the
/// output poisoned with NaN first (including the floats between pixels of a strided output, which
/// must stay untouched), every output checked against <see cref="ConvReference"/> within the algorithm's bound.
/// </summary>
internal static class ConvolutionTester
{
    /// <summary>Every registered algorithm × every ISA variant this machine can execute.</summary>
    public static TheoryData<ConvolutionAlgorithm, KernelIsa> AlgorithmsAndIsas()
    {
        var data = new TheoryData<ConvolutionAlgorithm, KernelIsa>();
        foreach (var implementation in Convolutions.Implementations)
        {
            foreach (var isa in KernelIsas.Executable)
            {
                data.Add(implementation.Algorithm, isa);
            }
        }

        return data;
    }

    /// <summary>
    /// The error an algorithm may make on one output. Direct and GEMM-based algorithms sum the same K products
    /// in float32: the reference's (K + 2)·2⁻²⁴·Σ|w·x| bound. Winograd sums other terms: transformed filters times
    /// transformed inputs, whose sizes are not bounded by Σ|w·x| (a zero input under a large weight still feeds the
    /// transforms). Its bound is component-wise over those terms, (IC + 16)·2⁻²⁴·(|Aᵀ|·Σ_c(|G||g_c||Gᵀ| ⊙ |Bᵀ||d_c||B|)·|A| + |bias|),
    /// derived in <see cref="WinogradErrorBound"/> and passed here as <paramref name="winogradBound"/>.
    /// </summary>
    public static double AllowedError(ConvolutionAlgorithm algorithm, double bound, double winogradBound) => algorithm switch
    {
        ConvolutionAlgorithm.WinogradF2 or ConvolutionAlgorithm.WinogradF4 => winogradBound,
        _ => bound,
    };

    /// <summary>True for the algorithms whose bound is <see cref="WinogradErrorBound"/>'s.</summary>
    public static bool IsWinograd(ConvolutionAlgorithm algorithm) => algorithm is ConvolutionAlgorithm.WinogradF2 or ConvolutionAlgorithm.WinogradF4;

    /// <summary>
    /// Runs one layer through one algorithm and checks every output; returns the largest error relative to the
    /// direct magnitude Σ|w·x| + |bias| and the largest fraction of the allowed error used.
    /// </summary>
    public static (double MaxRelative, double MaxOfAllowed) Check(ConvolutionAlgorithm algorithm, KernelIsa isa, Conv2DDescriptor d, int seed, WorkerGroup? workers = null)
    {
        var rng = new Random(seed);
        var input = TestData.RandomFloats(rng, checked((int)d.InputLength));
        var weights = TestData.RandomFloats(rng, checked((int)d.WeightsLength));
        float[]? bias = seed % 3 == 2 ? null : TestData.RandomFloats(rng, d.OutputChannels);
        var output = new float[d.OutputLength + 3];
        Array.Fill(output, float.NaN);

        using (var kernel = Convolutions.Create(d, weights, bias, algorithm, isa))
        {
            Assert.Equal(algorithm, kernel.Algorithm);
            kernel.Run(input, output, workers);
        }

        var (expected, bound, magnitude) = ConvReference.Compute(d, input, weights, bias);
        double maxRelative = 0, maxOfAllowed = 0;
        double[]? winograd = IsWinograd(algorithm) ? WinogradErrorBound.Compute(algorithm, d, input, weights, bias) : null;
        int stride = d.EffectiveOutputPixelStride;
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string where = $"{algorithm.ToName()}/{isa.ToName()} {d} act {d.Activation} bias {bias is not null} threads {workers?.ThreadCount ?? 1}";
        for (long p = 0; p < pixels; p++)
        {
            for (int o = 0; o < stride; o++)
            {
                long at = (p * stride) + o;
                if (at >= output.Length)
                {
                    break;
                }

                float got = output[at];
                if (o >= d.OutputChannels)
                {
                    if (!float.IsNaN(got))
                    {
                        Assert.Fail($"{where}: wrote {got} between pixels, at pixel {p} channel slot {o}.");
                    }

                    continue;
                }

                long e = (p * d.OutputChannels) + o;
                double err = Math.Abs(got - expected[e]);
                double allowed = AllowedError(algorithm, bound[e], winograd is null ? 0 : winograd[e]);
                if (!(err <= allowed))
                {
                    Assert.Fail($"{where}: pixel {p} channel {o} = {got}, reference {expected[e]}, error {err:E3} > allowed {allowed:E3}.");
                }

                maxRelative = Math.Max(maxRelative, magnitude[e] > 0 ? err / magnitude[e] : 0);
                maxOfAllowed = Math.Max(maxOfAllowed, allowed > 0 ? err / allowed : 0);
            }
        }

        for (long at = d.OutputLength; at < output.Length; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}.");
        }

        return (maxRelative, maxOfAllowed);
    }

    /// <summary>Checks every table shape the algorithm applies to; returns how many ran (a test asserts it is not zero).</summary>
    public static int CheckTable(ConvolutionAlgorithm algorithm, KernelIsa isa, IEnumerable<Conv2DDescriptor> shapes, WorkerGroup? workers = null)
    {
        int ran = 0;
        int seed = 0;
        foreach (var d in shapes)
        {
            seed++;
            if (Convolutions.WhyNotApplicable(algorithm, d) is not null)
            {
                continue;
            }

            Check(algorithm, isa, d, seed, workers);
            ran++;
        }

        return ran;
    }
}
