using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu;
using Kernels.Cpu.Layers;
using Xunit;

namespace Kernels.Tests.Layers;

/// <summary>Fully connected, LRN and softmax against float64 references.</summary>
public sealed class DenseLayerTests
{
    public static IEnumerable<object[]> Isas => LayerReference.Isas;

    private static readonly FusedActivation[] Activations =
        [FusedActivation.None, Activation.Relu, Activation.Relu6, new FusedActivation(Activation.LeakyRelu, 0.2f)];

    [Theory]
    [MemberData(nameof(Isas))]
    public void FullyConnectedMatchesReference(KernelIsa isa)
    {
        var rng = new Random(4);
        using var workers = new WorkerGroup(2);
        int cases = 0;
        foreach (int batch in new[] { 1, 3 })
        foreach (int k in new[] { 1, 3, 13, 37, 100 })
        foreach (int n in new[] { 1, 3, 16, 37, 70, 130 })
        {
            var activation = Activations[cases % Activations.Length];
            bool strided = cases % 3 == 1;
            bool hasBias = cases % 5 != 2;
            var d = new FullyConnectedDescriptor(batch, k, n, activation, strided ? n + 3 : 0);
            var x = TestData.RandomFloats(rng, batch * k);
            var weights = TestData.RandomFloats(rng, n * k);
            var bias = hasBias ? TestData.RandomFloats(rng, n) : [];
            using var packed = FullyConnected.Pack(d, weights, bias, isa);
            int offset = strided ? 1 : 0;
            var y = LayerReference.Poisoned(d.OutputLength + offset + 1);
            FullyConnected.Run(packed, x, y.AsSpan(offset), cases % 2 == 0 ? workers : null);

            var expected = new double[batch * n];
            for (int b = 0; b < batch; b++)
            for (int j = 0; j < n; j++)
            {
                double acc = hasBias ? bias[j] : 0;
                for (int i = 0; i < k; i++)
                {
                    acc += (double)x[(b * k) + i] * weights[(j * k) + i];
                }

                expected[(b * n) + j] = Activate(activation, acc);
            }

            LayerReference.AssertStrided(expected, y, n, d.EffectiveOutputStride, offset, 1e-4, $"fc {d} {isa}");
            cases++;
        }
    }

    [Theory]
    [MemberData(nameof(Isas))]
    public void LargeFullyConnectedMultithreaded(KernelIsa isa)
    {
        // AlexNet's fc8 shape at a smaller K: many GEMV blocks over 3 workers.
        var rng = new Random(5);
        using var workers = new WorkerGroup(3);
        var d = new FullyConnectedDescriptor(1, 300, 1000, Activation.Relu);
        var x = TestData.RandomFloats(rng, 300);
        var w = TestData.RandomFloats(rng, 300_000);
        var bias = TestData.RandomFloats(rng, 1000);
        using var packed = FullyConnected.Pack(d, w, bias, isa);
        var y = LayerReference.Poisoned(1000);
        FullyConnected.Run(packed, x, y, workers);
        var expected = new double[1000];
        for (int j = 0; j < 1000; j++)
        {
            double acc = bias[j];
            for (int i = 0; i < 300; i++)
            {
                acc += (double)x[i] * w[(j * 300) + i];
            }

            expected[j] = Math.Max(acc, 0);
        }

        LayerReference.AssertStrided(expected, y, 1000, 1000, 0, 1e-4, "fc 300x1000");
    }

    [Fact]
    public void LrnMatchesReference()
    {
        var rng = new Random(6);
        using var workers = new WorkerGroup(2);
        int cases = 0;
        foreach (var (h, w) in LayerReference.Maps)
        foreach (int c in LayerReference.Channels)
        foreach (int size in new[] { 1, 3, 4, 5 })
        {
            bool strided = cases % 2 == 1;
            var d = new LrnDescriptor(1, h, w, c, size, Alpha: 0.5f, Beta: 0.75f, Bias: 2f, OutputPixelStride: strided ? c + 2 : 0);
            var x = TestData.RandomFloats(rng, (int)d.InputLength);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= 3f;
            }

            var y = LayerReference.Poisoned(d.OutputLength);
            LocalResponseNormalization.Run(d, x, y, cases % 3 == 0 ? workers : null);
            var expected = new double[x.Length];
            for (int p = 0; p < h * w; p++)
            for (int ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (int i = ch - ((size - 1) / 2); i <= ch + (size / 2); i++)
                {
                    if (i >= 0 && i < c)
                    {
                        double v = x[(p * c) + i];
                        sum += v * v;
                    }
                }

                expected[(p * c) + ch] = x[(p * c) + ch] / Math.Pow(2.0 + (0.5 / size * sum), 0.75);
            }

            LayerReference.AssertStrided(expected, y, c, d.EffectiveOutputPixelStride, 0, 2e-5, $"lrn {d}");
            cases++;
        }
    }

    [Fact]
    public void LrnInPlace()
    {
        var d = new LrnDescriptor(2, 3, 3, 13);
        var x = TestData.RandomFloats(new Random(7), (int)d.InputLength);
        var separate = new float[x.Length];
        LocalResponseNormalization.Run(d, x, separate);
        LocalResponseNormalization.Run(d, x, x);
        Assert.Equal(separate, x);
    }

    [Fact]
    public void SoftmaxMatchesReferenceAndIsStable()
    {
        var rng = new Random(8);
        using var workers = new WorkerGroup(2);
        int cases = 0;
        foreach (int c in LayerReference.Channels.Append(1000))
        foreach (float magnitude in new[] { 1f, 200f })
        {
            bool strided = cases % 2 == 1;
            var d = new SoftmaxDescriptor(2, 3, 2, c, strided ? c + 1 : 0);
            var x = TestData.RandomFloats(rng, (int)d.InputLength);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] *= magnitude; // exp(200) overflows float: only max subtraction keeps this finite.
            }

            var y = LayerReference.Poisoned(d.OutputLength);
            Softmax.Run(d, x, y, cases % 3 == 0 ? workers : null);
            var expected = new double[x.Length];
            for (int p = 0; p < 12; p++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int ch = 0; ch < c; ch++)
                {
                    max = Math.Max(max, x[(p * c) + ch]);
                }

                for (int ch = 0; ch < c; ch++)
                {
                    sum += Math.Exp(x[(p * c) + ch] - max);
                }

                for (int ch = 0; ch < c; ch++)
                {
                    expected[(p * c) + ch] = Math.Exp(x[(p * c) + ch] - max) / sum;
                }
            }

            LayerReference.AssertStrided(expected, y, c, d.EffectiveOutputPixelStride, 0, 1e-5, $"softmax {d}");
            cases++;
        }
    }

    internal static double Activate(FusedActivation a, double v) => a.Kind switch
    {
        Activation.Relu => Math.Max(v, 0),
        Activation.Relu6 => Math.Min(Math.Max(v, 0), 6),
        Activation.LeakyRelu => v >= 0 ? v : a.LeakySlope * v,
        _ => v,
    };
}
