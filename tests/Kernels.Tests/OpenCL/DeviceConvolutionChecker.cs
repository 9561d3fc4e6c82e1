using Kernels.Core;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Convolution;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>Runs a device convolution on random data and checks every output against the float64 reference and its error bound, and that nothing outside the layer's channels was written.</summary>
internal static class DeviceConvolutionChecker
{
    public static void Check(OpenCLContext context, Conv2DDescriptor d, int seed, Func<Conv2DDescriptor, float[], float[], IDeviceConvolution> create)
    {
        var rng = new Random(seed);
        float[] input = TestData.RandomFloats(rng, checked((int)d.InputLength));
        float[] weights = TestData.RandomFloats(rng, checked((int)d.WeightsLength));
        float[]? bias = seed % 3 == 2 ? null : TestData.RandomFloats(rng, d.OutputChannels);
        int outputLength = checked((int)d.OutputLength + 3);

        using IDeviceConvolution conv = create(d, weights, bias ?? []);
        using DeviceBuffer dIn = context.CreateBuffer(input.Length * sizeof(float));
        using DeviceBuffer dOut = context.CreateBuffer(outputLength * sizeof(float));
        dIn.Write<float>(input);
        dOut.Write<float>(Enumerable.Repeat(float.NaN, outputLength).ToArray());
        conv.Run(dIn, dOut);
        var output = new float[outputLength];
        dOut.Read<float>(output);

        var (expected, bound, _) = ConvReference.Compute(d, input, weights, bias);
        int stride = d.EffectiveOutputPixelStride;
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        string where = $"{conv.GetType().Name} {d} act {d.Activation} bias {bias is not null}";
        for (long p = 0; p < pixels; p++)
        {
            for (int o = 0; o < stride && (p * stride) + o < outputLength; o++)
            {
                float got = output[(p * stride) + o];
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

        for (long at = d.OutputLength; at < outputLength; at++)
        {
            Assert.True(float.IsNaN(output[at]), $"{where}: wrote past the output at {at}");
        }
    }
}
