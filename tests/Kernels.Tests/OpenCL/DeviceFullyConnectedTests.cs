using Kernels.Core;
using Kernels.Cpu.Layers;
using Kernels.OpenCL.Operators;
using Kernels.OpenCL.Runtime;
using Kernels.Tests.Layers;
using Xunit;

namespace Kernels.Tests.OpenCL;

/// <summary>fully_connected_gemv_4 (batch 1) and fully_connected_4x4 against the float64 reference: K and N not multiples of 4, every activation, strided outputs.</summary>
public sealed class DeviceFullyConnectedTests(OpenCLFixture fixture) : IClassFixture<OpenCLFixture>
{
    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, Activation.Relu, Activation.Relu6, new FusedActivation(Activation.LeakyRelu, 0.2f)];

    [OpenCLFact]
    public void MatchesTheReference()
    {
        var rng = new Random(21);
        int cases = 0;
        foreach (int batch in new[] { 1, 2, 3, 5 })
        foreach (int k in new[] { 1, 3, 13, 37, 100 })
        foreach (int n in new[] { 1, 3, 16, 37, 130 })
        {
            FusedActivation activation = Activations[cases % Activations.Length];
            bool strided = cases % 3 == 1;
            bool hasBias = cases % 5 != 2;
            var d = new FullyConnectedDescriptor(batch, k, n, activation, strided ? n + 3 : 0);
            Check(d, rng, strided ? 1 : 0, hasBias);
            cases++;
        }
    }

    [OpenCLFact]
    public void LargeLayerMatchesTheReference()
    {
        // AlexNet fc8's N at a smaller K, batch 1 (GEMV) and 4 (one full row quad).
        Check(new FullyConnectedDescriptor(1, 1030, 1000, Activation.Relu), new Random(22), 0, hasBias: true);
        Check(new FullyConnectedDescriptor(4, 1030, 1000, Activation.Relu6), new Random(23), 0, hasBias: true);
    }

    [OpenCLFact]
    public void ChoosesTheKernelByBatchAndChecksArguments()
    {
        var d = new FullyConnectedDescriptor(1, 5, 3);
        using (var gemv = new DeviceFullyConnected(fixture.Context, d, new float[15], []))
        {
            Assert.Equal("fully_connected_gemv_4", gemv.KernelName);
            using DeviceBuffer input = fixture.Context.CreateBuffer(5 * sizeof(float));
            using DeviceBuffer output = fixture.Context.CreateBuffer(2 * sizeof(float));
            var e = Assert.Throws<ArgumentException>(() => gemv.Run(input, output));
            Assert.Contains("fully_connected_gemv_4", e.Message);
            Assert.Contains(fixture.Context.Device.Name, e.Message);
        }

        using (var gemm = new DeviceFullyConnected(fixture.Context, d with { Batch = 2 }, new float[15], []))
        {
            Assert.Equal("fully_connected_4x4", gemm.KernelName);
        }

        Assert.Throws<ArgumentException>(() => new DeviceFullyConnected(fixture.Context, d, new float[14], []));
        Assert.Throws<ArgumentException>(() => new DeviceFullyConnected(fixture.Context, d, new float[15], new float[2]));
    }

    private void Check(FullyConnectedDescriptor d, Random rng, int offset, bool hasBias)
    {
        int batch = d.Batch, k = d.InputChannels, n = d.OutputChannels;
        float[] x = TestData.RandomFloats(rng, batch * k);
        float[] weights = TestData.RandomFloats(rng, n * k);
        float[] bias = hasBias ? TestData.RandomFloats(rng, n) : [];
        using var fc = new DeviceFullyConnected(fixture.Context, d, weights, bias);
        float[] y = DeviceLayerRunner.Run(fixture.Context, x, d.OutputLength + offset + 1, (i, o) => fc.Run(i, o, offset));
        var expected = new double[batch * n];
        for (int b = 0; b < batch; b++)
        for (int j = 0; j < n; j++)
        {
            double acc = hasBias ? bias[j] : 0;
            for (int i = 0; i < k; i++)
            {
                acc += (double)x[(b * k) + i] * weights[(j * k) + i];
            }

            expected[(b * n) + j] = DenseLayerTests.Activate(d.Activation, acc);
        }

        LayerReference.AssertStrided(expected, y, n, d.EffectiveOutputStride, offset, 1e-4, $"{fc.KernelName} {d} bias {hasBias}");
    }
}
