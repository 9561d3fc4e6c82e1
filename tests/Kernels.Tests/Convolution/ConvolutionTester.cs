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
    /// in float32: the reference's (K + 2)·2⁻²⁴·Σ|w·x| bound. Winograd's transforms add rounding on
    /// transformed values whose size is a small multiple of the terms' magnitudes.
    /// </summary>
    public static double AllowedError(ConvolutionAlgorithm algorithm, Conv2DDescriptor d, double bound, double magnitude) => algorithm switch
    {
        ConvolutionAlgorithm.WinogradF2 => bound + (64 * Math.Pow(2, -24) * magnitude),
        ConvolutionAlgorithm.WinogradF4 => bound + (1024 * Math.Pow(2, -24) * magnitude),
        _ => bound,
    };

    /// <summary>Runs one layer through one algorithm and checks every output.</summary>
    public static void Check(ConvolutionAlgorithm algorithm, KernelIsa isa, Conv2DDescriptor d, int seed, WorkerGroup? workers = null)
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
                double allowed = AllowedError(algorithm, d, bound[e], magnitude[e]);
                if (!(err <= allowed))
                {
                    Assert.Fail($"{where}: pixel {p} channel {o} = {got}, reference {expected[e]}, error {err:E3} > allowed {allowed:E3}.");
                }
            }
        }

        for (long at = d.OutputLength; at < output.Length; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}.");
        }
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
