using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>Runs a device convolution on random data (every other seed at an output offset) and checks every output against the float64 reference and its error bound, and that nothing outside the layer's channels was written.</summary>
internal static class DeviceConvolutionChecker
{
    /// <param name="errorBound">The bound of each dense output (an algorithm with its own error analysis, as Winograd); by default the direct sum's.</param>
    public static void Check(
        OpenCLContext context, Conv2DDescriptor d, int seed, Func<Conv2DDescriptor, float[], float[], IDeviceConvolution> create,
        Func<Conv2DDescriptor, float[], float[], float[]?, double[]>? errorBound = null)
    {
        var rng = new Random(seed);
        float[] input = TestData.RandomFloats(rng, checked((int)d.InputLength));
        float[] weights = TestData.RandomFloats(rng, checked((int)d.WeightsLength));
        float[]? bias = seed % 3 == 2 ? null : TestData.RandomFloats(rng, d.OutputChannels);

        // Every other shape writes from float 2 on, as into a channel slice at channel offset 2 of a concat.
        int offset = seed % 2 == 1 ? 2 : 0;
        int outputLength = checked((int)d.OutputLength + offset + 3);

        using IDeviceConvolution conv = create(d, weights, bias ?? []);
        using DeviceBuffer dIn = context.CreateBuffer(input.Length * sizeof(float));
        using DeviceBuffer dOut = context.CreateBuffer(outputLength * sizeof(float));
        dIn.Write<float>(input);
        dOut.Write<float>(Enumerable.Repeat(float.NaN, outputLength).ToArray());
        conv.Run(dIn, dOut, offset);
        var output = new float[outputLength];
        dOut.Read<float>(output);

        var (expected, bound, _) = ConvReference.Compute(d, input, weights, bias);
        if (errorBound is not null)
        {
            bound = errorBound(d, input, weights, bias);
        }
        int stride = d.EffectiveOutputPixelStride;
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string where = $"{conv.GetType().Name} {d} act {d.Activation} bias {bias is not null} offset {offset}";
        for (int at = 0; at < offset; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote before the output offset at {at}");
        }

        for (long p = 0; p < pixels; p++)
        {
            for (int o = 0; o < stride && offset + (p * stride) + o < outputLength; o++)
            {
                float got = output[offset + (p * stride) + o];
                if (o >= d.OutputChannels)
                {
                    Assert.True(float.IsNaN(got), $"{where}: wrote {got} between pixels at pixel {p} slot {o}");
                    continue;
                }

                long e = (p * d.OutputChannels) + o;
                double err = Math.Abs(got - expected[e]);
                Assert.True(err <= bound[e], $"{where}: pixel {p} channel {o} = {got}, reference {expected[e]}, error {err:E3} > {bound[e]:E3}");
            }
        }

        for (long at = offset + d.OutputLength; at < outputLength; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}");
        }
    }
}
