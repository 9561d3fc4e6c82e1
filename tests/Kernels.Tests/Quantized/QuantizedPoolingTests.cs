using Kernels.Core;
using Kernels.Core.Threading;
using Kernels.Cpu.Layers;
using Kernels.Cpu.Quantized;
using Xunit;
using static Kernels.Tests.Quantized.QuantizedLayerReference;

namespace Kernels.Tests.Quantized;

/// <summary>
/// int8 max, average and global average pooling against the integer definitions (bit-exact, poison between
/// channel slices untouched) and against the fp32 pooling on the dequantized input within one output step (the
/// integer result is the real pooled value rescaled by a Q31 multiplier and rounded once: ½ step plus a negligible
/// term; the fp32 result quantized adds ½ step). Max with equal input and output parameters must be exact.
/// </summary>
public sealed class QuantizedPoolingTests
{
    private static readonly QuantizationParameters In = new(0.04f, 100);

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Cases.Length; i++)
        {
            data.Add(i);
        }

        return data;
    }

    private static readonly Pool2DDescriptor[] Cases =
    [
        Pool2DDescriptor.Create(PoolingKind.Max, 9, 7, 13, 3, stride: 2, padding: 1) with { Batch = 2 },
        Pool2DDescriptor.Create(PoolingKind.Max, 13, 13, 37, 3, stride: 2, ceilMode: true) with { OutputPixelStride = 40 },
        Pool2DDescriptor.Create(PoolingKind.Max, 1, 1, 5, 1),
        Pool2DDescriptor.Create(PoolingKind.Average, 9, 7, 13, 3, stride: 2, padding: 1, countIncludePad: false) with { Batch = 2 },
        Pool2DDescriptor.Create(PoolingKind.Average, 9, 7, 16, 3, stride: 2, padding: 1, countIncludePad: true),
        Pool2DDescriptor.Create(PoolingKind.Average, 14, 14, 33, 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: true) with { OutputPixelStride = 35 },
        Pool2DDescriptor.Create(PoolingKind.Average, 8, 8, 20, 2, stride: 2),
        Pool2DDescriptor.Create(PoolingKind.Average, 1, 1, 3, 1),
    ];

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public unsafe void PoolMatchesIntegerReferenceAndFp32(int index)
    {
        var d = Cases[index];
        var rng = new Random(300 + index);
        byte[] x = RandomBytes(rng, d.InputLength);
        var fp32 = new float[d.OutputLength];
        Pooling2D.Run(d, Dequantize(x, In), fp32);
        long pixels = (long)d.Batch * d.OutputHeight * d.OutputWidth;
        using var two = new WorkerGroup(2);
        foreach (var qo in new[] { In, new QuantizationParameters(0.03f, 90), RangeOf(fp32.Where((_, i) => i % d.EffectiveOutputPixelStride < d.Channels)) })
        {
            byte[] reference = Pool(d, x, In, qo);
            foreach (var workers in new[] { null, two })
            {
                byte[] y = Poisoned(d.OutputLength);
                fixed (byte* px = x)
                fixed (byte* py = y)
                {
                    QuantizedPooling.Run(d, px, py, In, qo, workers);
                }

                // Equal parameters: the result is the fp32 one exactly for max (a byte max), within a step for average.
                AssertLayer($"{d.Kind} pool {index} to {qo} on {workers?.ThreadCount ?? 1} threads", y, reference, fp32, qo, pixels, d.Channels, d.EffectiveOutputPixelStride);
                if (d.Kind == PoolingKind.Max && qo == In)
                {
                    for (long i = 0; i < y.Length; i++)
                    {
                        if (i % d.EffectiveOutputPixelStride < d.Channels)
                        {
                            Assert.Equal(In.Quantize(fp32[i]), y[i]);
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(1, 7, 7, 64, 0)]
    [InlineData(2, 3, 5, 13, 16)]
    [InlineData(1, 1, 1, 9, 0)]
    public unsafe void GlobalAverageMatchesIntegerReferenceAndFp32(int batch, int h, int w, int c, int stride)
    {
        var d = new GlobalAveragePoolDescriptor(batch, h, w, c, stride);
        var rng = new Random(h * 100 + c);
        byte[] x = RandomBytes(rng, d.InputLength);
        var fp32 = new float[d.OutputLength];
        GlobalAveragePooling.Run(d, Dequantize(x, In), fp32);
        foreach (var qo in new[] { In, new QuantizationParameters(0.03f, 90) })
        {
            byte[] reference = Poisoned(d.OutputLength);
            var (m, t) = Fixed(In.Scale / (qo.Scale * (double)(h * w)));
            for (int n = 0; n < batch; n++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    long sum = 0;
                    for (int p = 0; p < h * w; p++)
                    {
                        sum += x[(((long)n * h * w) + p) * c + ch] - In.ZeroPoint;
                    }

                    reference[(n * d.EffectiveOutputPixelStride) + ch] = (byte)Math.Clamp(qo.ZeroPoint + Rescale(sum, m, t), 0, 255);
                }
            }

            byte[] y = Poisoned(d.OutputLength);
            fixed (byte* px = x)
            fixed (byte* py = y)
            {
                QuantizedPooling.GlobalAverage(d, px, py, In, qo);
            }

            AssertLayer($"global average {d} to {qo}", y, reference, fp32, qo, batch, c, d.EffectiveOutputPixelStride);
        }
    }

    [Fact]
    public unsafe void RejectsBadInputAndAllocatesNothing()
    {
        var d = Pool2DDescriptor.Create(PoolingKind.Average, 8, 8, 16, 3, stride: 2, padding: 1);
        var x = new byte[d.InputLength];
        var y = new byte[d.OutputLength];
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            byte* a = px, b = py;
            Assert.Equal("KernelHeight", Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedPooling.Run(d with { KernelHeight = 0 }, a, b, In, In)).ParamName);
            Assert.Throws<ArgumentNullException>(() => QuantizedPooling.Run(d, null, b, In, In));
            Assert.Throws<ArgumentException>(() => QuantizedPooling.Run(d, a, b, In, In with { ZeroPoint = 300 }));
            Assert.Throws<ArgumentException>(() => QuantizedPooling.Run(d, a, b, In, new QuantizationParameters(1e-9f, 0)));
            var g = new GlobalAveragePoolDescriptor(1, 8, 8, 16, 3);
            Assert.Equal("OutputPixelStride", Assert.ThrowsAny<ArgumentException>(() => QuantizedPooling.GlobalAverage(g, a, b, In, In)).ParamName);
        }

        var qo = new QuantizationParameters(0.05f, 3);
        using var workers = new WorkerGroup(2);
        SteadyState.AssertAllocatesNothing(() => Run(d, x, y, qo, null), "int8 average pool");
        var max = d with { Kind = PoolingKind.Max };
        var global = new GlobalAveragePoolDescriptor(1, 8, 8, 16);
        SteadyState.AssertAllocatesNothing(() => Run(max, x, y, qo, workers), "int8 max pool on 2 threads");
        SteadyState.AssertAllocatesNothing(() => Global(global, x, y, qo), "int8 global average pool");
    }

    private static unsafe void Run(Pool2DDescriptor d, byte[] x, byte[] y, QuantizationParameters qo, WorkerGroup? workers)
    {
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            QuantizedPooling.Run(d, px, py, In, qo, workers);
        }
    }

    private static unsafe void Global(GlobalAveragePoolDescriptor d, byte[] x, byte[] y, QuantizationParameters qo)
    {
        fixed (byte* px = x)
        fixed (byte* py = y)
        {
            QuantizedPooling.GlobalAverage(d, px, py, In, qo);
        }
    }

    /// <summary>r = m·2^−t with m in [2^30, 2^31), m rounded half away from zero.</summary>
    internal static (long M, int T) Fixed(double r)
    {
        int t = 31;
        while (r < 0.5)
        {
            r *= 2;
            t++;
        }

        while (r >= 1)
        {
            r /= 2;
            t--;
        }

        long m = (long)Math.Round(r * 2147483648.0, MidpointRounding.AwayFromZero);
        if (m == 1L << 31)
        {
            m = 1L << 30;
            t--;
        }

        return (m, t);
    }

    private static byte[] Pool(Pool2DDescriptor d, byte[] x, QuantizationParameters qi, QuantizationParameters qo)
    {
        var y = Poisoned(d.OutputLength);
        int c = d.Channels;
        for (int n = 0; n < d.Batch; n++)
        {
            for (int oy = 0; oy < d.OutputHeight; oy++)
            {
                for (int ox = 0; ox < d.OutputWidth; ox++)
                {
                    int y0 = (oy * d.StrideHeight) - d.PadTop, x0 = (ox * d.StrideWidth) - d.PadLeft;
                    int ya = Math.Max(y0, 0), yb = Math.Min(y0 + d.KernelHeight, d.InputHeight);
                    int xa = Math.Max(x0, 0), xb = Math.Min(x0 + d.KernelWidth, d.InputWidth);
                    int real = (yb - ya) * (xb - xa);
                    int padded = (Math.Min(y0 + d.KernelHeight, d.InputHeight + d.PadBottom) - y0) * (Math.Min(x0 + d.KernelWidth, d.InputWidth + d.PadRight) - x0);
                    long pixel = (((long)n * d.OutputHeight) + oy) * d.OutputWidth + ox;
                    for (int ch = 0; ch < c; ch++)
                    {
                        int max = 0;
                        long sum = 0;
                        for (int iy = ya; iy < yb; iy++)
                        {
                            for (int ix = xa; ix < xb; ix++)
                            {
                                int v = x[((((long)n * d.InputHeight) + iy) * d.InputWidth + ix) * c + ch];
                                max = Math.Max(max, v);
                                sum += v - qi.ZeroPoint;
                            }
                        }

                        int result;
                        if (d.Kind == PoolingKind.Max)
                        {
                            result = qi == qo ? max : (int)Math.Clamp(Math.Round((max - qi.ZeroPoint) * (qi.Scale / (double)qo.Scale), MidpointRounding.ToEven) + qo.ZeroPoint, 0, 255);
                        }
                        else
                        {
                            var (m, t) = Fixed(qi.Scale / (qo.Scale * (double)(d.CountIncludePad ? padded : real)));
                            result = (int)Math.Clamp(qo.ZeroPoint + Rescale(sum, m, t), 0, 255);
                        }

                        y[(pixel * d.EffectiveOutputPixelStride) + ch] = (byte)result;
                    }
                }
            }
        }

        return y;
    }
}
