using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.Graph;
using Kernels.Graph.Execution;
using Kernels.Graph.Execution.OpenCL;
using Kernels.Graph.Zoo;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Convolution;
using Kernels.Tests.Layers;
using Xunit;
using Xunit.Abstractions;

namespace Kernels.Tests.OpenCL;

/// <summary>
/// <see cref="DevicePrecision.Float16"/>: every kernel with half storage (opencl/precision.h) against the float64 or CPU
/// float reference within an fp16 tolerance, stores past the layer's slice checked untouched; SqueezeNet in half storage
/// against the CPU executor; and the build options that compile the half-arithmetic branch only for devices with cl_khr_fp16.
/// PoCL has no cl_khr_fp16, so here half storage runs with float arithmetic; the half-arithmetic branch is compiled
/// (and run) only on such a device.
/// </summary>
public sealed class HalfPrecisionTests(OpenCLFixture fixture, ITestOutputHelper output) : IClassFixture<OpenCLFixture>
{
    // fp16 has an 11-bit significand (unit roundoff 2^-11 ≈ 4.9e-4): inputs, weights and outputs rounded once each.
    private const double Tolerance = 2e-3;
    private const DevicePrecision Half16 = DevicePrecision.Float16;

    public static TheoryData<string> Convolutions() => ["direct", "1x1", "depthwise", "winograd-f2"];

    [OpenCLTheory]
    [MemberData(nameof(Convolutions))]
    public void ConvolutionsInHalfStorageMatchTheReference(string algorithm)
    {
        Conv2DDescriptor[] shapes = algorithm switch
        {
            "direct" =>
            [
                Conv2DDescriptor.Create(9, 7, 5, 6, 3, padding: 1, activation: Activation.Relu) with { OutputPixelStride = 11, Batch = 2 },
                Conv2DDescriptor.Create(11, 10, 3, 13, 3, stride: 2, padding: 1, activation: Activation.Relu6),
                Conv2DDescriptor.Create(8, 8, 8, 10, 5, padding: 2, groups: 2),
            ],
            "1x1" =>
            [
                Conv2DDescriptor.Create(7, 5, 13, 11, 1) with { Batch = 2, OutputPixelStride = 14 },
                Conv2DDescriptor.Create(9, 9, 32, 7, 1, stride: 2, activation: Activation.Relu),
            ],
            "depthwise" =>
            [
                Conv2DDescriptor.Create(9, 11, 13, 13, 3, padding: 1, groups: 13, activation: Activation.Relu6),
                Conv2DDescriptor.Create(10, 9, 8, 8, 3, stride: 2, padding: 1, groups: 8) with { OutputPixelStride = 10 },
            ],
            _ =>
            [
                Conv2DDescriptor.Create(9, 7, 16, 13, 3, padding: 1, activation: Activation.Relu),
                Conv2DDescriptor.Create(6, 10, 21, 8, 3, padding: 0) with { Batch = 2, OutputPixelStride = 9 },
            ],
        };

        int seed = 0;
        foreach (Conv2DDescriptor d in shapes)
        {
            var rng = new Random(700 + seed++);
            float[] input = TestData.RandomFloats(rng, (int)d.InputLength);
            float[] weights = TestData.RandomFloats(rng, (int)d.WeightsLength);
            float[] bias = TestData.RandomFloats(rng, d.OutputChannels);
            using IDeviceConvolution conv = algorithm switch
            {
                "direct" => new DirectConvolution(fixture.Context, d, weights, bias, Half16),
                "1x1" => new PointwiseConvolution(fixture.Context, d, weights, bias, Half16),
                "depthwise" => new DepthwiseConvolution(fixture.Context, d, weights, bias, Half16),
                _ => new WinogradF2x3Convolution(fixture.Context, d, weights, bias, Half16),
            };
            Assert.Equal(Half16, conv.Precision);
            const int offset = 3;
            float[] y = RunHalf(input, d.OutputLength + offset + 2, (i, o) => conv.Run(i, o, offset));
            double[] expected = ConvReference.Compute(d, input, weights, bias).Expected;
            AssertClose(expected, y, d.OutputChannels, d.EffectiveOutputPixelStride, offset, $"{conv.KernelName} fp16 {d}");
        }
    }

    [OpenCLFact]
    public void FullyConnectedInHalfStorageMatchesTheReference()
    {
        foreach (int batch in new[] { 1, 3 })
        {
            var d = new FullyConnectedDescriptor(batch, 37, 10, Activation.Relu) with { OutputStride = batch == 1 ? 0 : 12 };
            var rng = new Random(40 + batch);
            float[] x = TestData.RandomFloats(rng, batch * 37);
            float[] w = TestData.RandomFloats(rng, 10 * 37);
            float[] bias = TestData.RandomFloats(rng, 10);
            using var fc = new DeviceFullyConnected(fixture.Context, d, w, bias, Half16);
            float[] y = RunHalf(x, d.OutputLength + 1, (i, o) => fc.Run(i, o, 1));
            var expected = new double[batch * 10];
            for (int b = 0; b < batch; b++)
            for (int n = 0; n < 10; n++)
            {
                double acc = bias[n];
                for (int k = 0; k < 37; k++)
                {
                    acc += (double)x[(b * 37) + k] * w[(n * 37) + k];
                }

                expected[(b * 10) + n] = Math.Max(acc, 0);
            }

            AssertClose(expected, y, 10, d.EffectiveOutputStride, 1, $"{fc.KernelName} fp16 {d}");
        }
    }

    [OpenCLFact]
    public void PoolingInHalfStorageMatchesTheReference()
    {
        var rng = new Random(50);
        foreach (PoolingKind kind in new[] { PoolingKind.Max, PoolingKind.Average })
        {
            Pool2DDescriptor d = Pool2DDescriptor.Create(kind, 9, 7, 13, 3, stride: 2, padding: 1, ceilMode: true, batch: 2) with { OutputPixelStride = 15 };
            float[] x = TestData.RandomFloats(rng, (int)d.InputLength);
            using var pool = new DevicePooling2D(fixture.Context, d, Half16);
            float[] y = RunHalf(x, d.OutputLength + 2, (i, o) => pool.Run(i, o, 2));
            AssertClose(LayerReference.Pool(d, x), y, d.Channels, d.EffectiveOutputPixelStride, 2, $"{pool.KernelName} fp16 {d}");
        }

        var g = new GlobalAveragePoolDescriptor(2, 7, 7, 13, OutputPixelStride: 16);
        float[] gx = TestData.RandomFloats(rng, (int)g.InputLength);
        using var gap = new DeviceGlobalAveragePooling(fixture.Context, g, Half16);
        float[] gy = RunHalf(gx, g.OutputLength + 1, (i, o) => gap.Run(i, o, 1));
        // The CPU layers write dense here, to compare with the device's strided output.
        var cpu = new float[2 * 13];
        GlobalAveragePooling.Run(g with { OutputPixelStride = 0 }, gx, cpu);
        AssertClose(cpu.Select(v => (double)v).ToArray(), gy, 13, 16, 1, $"{gap.KernelName} fp16 {g}");
    }

    [OpenCLFact]
    public void NormalizationsInHalfStorageMatchTheCpuLayers()
    {
        var rng = new Random(60);
        var lrnD = new LrnDescriptor(2, 5, 4, 21, 5, Alpha: 0.5f, Beta: 0.75f, Bias: 2f, OutputPixelStride: 23);
        float[] x = TestData.RandomFloats(rng, (int)lrnD.InputLength).Select(v => v * 4f).ToArray();
        var cpu = new float[lrnD.InputLength];
        LocalResponseNormalization.Run(lrnD with { OutputPixelStride = 0 }, x, cpu);
        using var lrn = new DeviceLocalResponseNormalization(fixture.Context, lrnD, Half16);
        float[] y = RunHalf(x, lrnD.OutputLength, (i, o) => lrn.Run(i, o));
        AssertClose(cpu.Select(v => (double)v).ToArray(), y, 21, 23, 0, $"{lrn.KernelName} fp16 {lrnD}");

        var softD = new SoftmaxDescriptor(2, 3, 2, 37, 40);
        float[] s = TestData.RandomFloats(rng, (int)softD.InputLength).Select(v => v * 8f).ToArray();
        var cpuSoft = new float[softD.InputLength];
        Softmax.Run(softD with { OutputPixelStride = 0 }, s, cpuSoft);
        using var softmax = new DeviceSoftmax(fixture.Context, softD, Half16);
        float[] ys = RunHalf(s, softD.OutputLength, (i, o) => softmax.Run(i, o));
        AssertClose(cpuSoft.Select(v => (double)v).ToArray(), ys, 37, 40, 0, $"{softmax.KernelName} fp16 {softD}");
    }

    [OpenCLFact]
    public void AddAndSliceCopyInHalfStorage()
    {
        var rng = new Random(70);
        const int count = 1003;
        float[] a = TestData.RandomFloats(rng, count);
        float[] b = TestData.RandomFloats(rng, count);
        using var add = new ElementwiseAdd(fixture.Context, Half16);
        using DeviceBuffer da = fixture.Context.CreateBuffer(count * 2);
        using DeviceBuffer db = fixture.Context.CreateBuffer(count * 2);
        using DeviceBuffer dy = fixture.Context.CreateBuffer(count * 2);
        da.WriteFloats(a, Half16);
        db.WriteFloats(b, Half16);
        add.Run(da, db, dy, count, Activation.Relu6);
        var y = new float[count];
        dy.ReadFloats(y, Half16);
        double[] expected = a.Zip(b, (p, q) => Math.Clamp((double)p + q, 0, 6)).ToArray();
        AssertClose(expected, y, count, count, 0, "add_f32_x8 fp16");
        Assert.Throws<ArgumentException>(() => add.Run(da, db, dy, count + 1));

        // The copy moves halves unchanged: exact against the half-rounded source.
        const int pixels = 9, channels = 7, stride = 10;
        float[] src = TestData.RandomFloats(rng, pixels * channels);
        using var copy = new ChannelSliceCopy(fixture.Context, Half16);
        float[] copied = RunHalf(src, (pixels * stride) + 1, (i, o) => copy.Run(i, o, pixels, channels, destinationStride: stride, destinationOffset: 2));
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                Assert.Equal((float)(Half)src[(p * channels) + c], copied[2 + (p * stride) + c]);
            }
        }
    }

    [OpenCLFact]
    public void SqueezeNetInHalfStorageMatchesTheCpuExecutor()
    {
        NetworkGraph graph = ModelZoo.Create("squeezenet");
        float[] input = DeviceSessionTests.Random(graph.Inputs[0].Shape.ElementCount, 21);
        using var cpu = InferenceSession.Create(graph, new InferenceOptions());
        float[] expected = cpu.Run(input);
        using DeviceSession device = DeviceSession.Create(graph, fixture.Context, new DeviceSessionOptions { Precision = Half16 });
        Assert.Equal(Half16, device.Precision);
        float[] actual = device.Run(input);
        double error = DeviceSessionTests.RelativeL2(actual, expected.Select(v => (double)v).ToArray());

        using DeviceSession single = DeviceSession.Create(graph, fixture.Context);
        output.WriteLine(
            $"squeezenet fp16 storage on {device.Device.Name}: relative L2 against the CPU {error:E2}; intermediate buffers {device.IntermediateBytes} bytes (fp32: {single.IntermediateBytes})");
        Assert.True(error <= 1e-2, $"squeezenet fp16: relative L2 error {error:E3} against the CPU executor");
        Assert.Equal(single.IntermediateBytes, device.IntermediateBytes * 2);
        Assert.Equal(expected.Length, actual.Length);
    }

    [OpenCLFact]
    public void HalfArithmeticIsCompiledOnlyForDevicesWithClKhrFp16()
    {
        OpenCLDevice device = fixture.Context.Device;
        OpenCLDevice withFp16 = device with { Extensions = [.. device.Extensions.Where(e => e != "cl_khr_fp16"), "cl_khr_fp16"] };
        OpenCLDevice withoutFp16 = device with { Extensions = [.. device.Extensions.Where(e => e != "cl_khr_fp16")] };
        Assert.Equal("-DKERNELS_HALF_STORAGE=1 -DKERNELS_HALF_ARITH=1", DevicePrecision.Float16.BuildOptions(withFp16));
        Assert.Equal("-DKERNELS_HALF_STORAGE=1", DevicePrecision.Float16.BuildOptions(withoutFp16));
        Assert.Equal(string.Empty, DevicePrecision.Float32.BuildOptions(withFp16));
        Assert.True(DevicePrecision.Float16.UsesHalfArithmetic(withFp16));
        Assert.False(DevicePrecision.Float16.UsesHalfArithmetic(withoutFp16));

        // This device's programs: the options name the branch exactly when the device reports the extension, and a
        // Float16 program is its own cache entry.
        ClProgram half = fixture.Context.GetProgram("conv_direct", Half16);
        ClProgram single = fixture.Context.GetProgram("conv_direct", DevicePrecision.Float32);
        Assert.NotSame(half, single);
        Assert.Contains("-DKERNELS_HALF_STORAGE=1", half.Options);
        Assert.Equal(device.HasFp16, half.Options.Contains("KERNELS_HALF_ARITH", StringComparison.Ordinal));
        Assert.DoesNotContain("KERNELS_HALF", single.Options);
        string source = ProgramSources.Get("conv_direct");
        Assert.NotEqual(ProgramCache.KeyOf(device, source, half.Options), ProgramCache.KeyOf(device, source, single.Options));
        Assert.DoesNotContain("#include", source);
        Assert.Contains("KERNELS_PRECISION_H", source);
    }

    /// <summary>
    /// Where the compiler has no cl_khr_fp16, asking for half arithmetic anyway still builds and falls back to float
    /// arithmetic (the branch also tests the compiler's own cl_khr_fp16 macro), with the same results as half storage alone.
    /// </summary>
    [OpenCLFact]
    public void HalfArithmeticOptionFallsBackToFloatWithoutTheExtension()
    {
        OpenCLContext cl = fixture.Context;
        if (cl.Device.HasFp16)
        {
            return; // on such a device the branch is the real half arithmetic, checked by the tests above
        }

        string source = ProgramSources.Get("elementwise");
        ClProgram forced = cl.GetProgram("elementwise", source, "-DKERNELS_HALF_STORAGE=1 -DKERNELS_HALF_ARITH=1");
        using ClKernel kernel = forced.CreateKernel("add_f32_x8");
        float[] a = TestData.RandomFloats(new Random(80), 21);
        using DeviceBuffer da = cl.CreateBuffer(a.Length * 2);
        using DeviceBuffer dy = cl.CreateBuffer(a.Length * 2);
        da.WriteFloats(a, Half16);
        kernel.SetArgument(0, da);
        kernel.SetArgument(1, da);
        kernel.SetArgument(2, dy);
        kernel.SetArgument(3, a.Length);
        kernel.SetArgument(4, 0);
        kernel.SetArgument(5, 0f);
        cl.Enqueue(kernel, new WorkSize(3), new WorkSize(1));
        var y = new float[a.Length];
        dy.ReadFloats(y, Half16);
        Assert.Equal(a.Select(v => (float)(Half)((float)(Half)v * 2)).ToArray(), y);
    }

    [OpenCLFact]
    public void HalfBuffersAreCheckedInHalves()
    {
        var d = Conv2DDescriptor.Create(8, 8, 4, 4, 3, padding: 1);
        using var conv = new DirectConvolution(fixture.Context, d, new float[d.WeightsLength], [], Half16);
        using DeviceBuffer input = fixture.Context.CreateBuffer(d.InputLength * 2);
        using DeviceBuffer output = fixture.Context.CreateBuffer(d.OutputLength * 2);
        conv.Run(input, output);
        using DeviceBuffer small = fixture.Context.CreateBuffer((d.OutputLength * 2) - 2);
        var e = Assert.Throws<ArgumentException>(() => conv.Run(input, small));
        Assert.Contains("halves", e.Message);
        Assert.Contains("conv2d_direct_nhwc_4x4", e.Message);
        Assert.Equal(DevicePrecision.Float16, DevicePrecisions.Parse("FP16"));
        Assert.Equal(DevicePrecision.Float32, DevicePrecisions.Parse("fp32"));
        Assert.Contains("fp32 or fp16", Assert.Throws<ArgumentException>(() => DevicePrecisions.Parse("int4")).Message);

        // Half kernels are other programs: their tuned local sizes are kept apart, fp32 keys unchanged.
        Assert.Equal(d.ToString(), DevicePrecision.Float32.TunerConfiguration(d.ToString()));
        Assert.Equal($"{d} fp16", DevicePrecision.Float16.TunerConfiguration(d.ToString()));
    }

    /// <summary>Uploads <paramref name="input"/> as halves, poisons the output with NaN halves, runs, reads the output back as floats.</summary>
    private float[] RunHalf(float[] input, long outputLength, Action<DeviceBuffer, DeviceBuffer> run)
    {
        OpenCLContext cl = fixture.Context;
        using DeviceBuffer dIn = cl.CreateBuffer((long)input.Length * 2);
        using DeviceBuffer dOut = cl.CreateBuffer(outputLength * 2);
        dIn.WriteFloats(input, Half16);
        dOut.WriteFloats(LayerReference.Poisoned(outputLength), Half16);
        run(dIn, dOut);
        var y = new float[outputLength];
        dOut.ReadFloats(y, Half16);
        return y;
    }

    /// <summary>Relative L2 over the written channels within <see cref="Tolerance"/>, and NaN (untouched) everywhere else.</summary>
    private static void AssertClose(double[] expected, float[] actual, int channels, int stride, int offset, string what)
    {
        long pixels = expected.Length / channels;
        double num = 0, den = 0;
        for (long p = 0; p < pixels; p++)
        {
            for (int c = 0; c < channels; c++)
            {
                double e = expected[(p * channels) + c];
                double got = actual[offset + (p * stride) + c];
                Assert.False(double.IsNaN(got), $"{what}: pixel {p} channel {c} was not written");
                num += (got - e) * (got - e);
                den += e * e;
            }
        }

        double error = Math.Sqrt(num / Math.Max(den, 1e-30));
        Assert.True(error <= Tolerance, $"{what}: relative L2 error {error:E3} > {Tolerance:E1}");
        for (long i = 0; i < actual.Length; i++)
        {
            long at = i - offset;
            bool written = at >= 0 && at / stride < pixels && at % stride < channels;
            if (!written)
            {
                Assert.True(float.IsNaN(actual[i]), $"{what}: wrote {actual[i]} outside the layer at {i}");
            }
        }
    }
}
