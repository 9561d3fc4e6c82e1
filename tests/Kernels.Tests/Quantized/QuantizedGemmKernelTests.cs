using Kernels.Core.Threading;
using Kernels.Cpu.Quantized;
using Xunit;

namespace Kernels.Tests.Quantized;

/// <summary>
/// The one tester of the int8 GEMM family: every registered kernel this machine can execute (AdvSimd ones
/// through the Neon shim, the C VNNI one when the library and the CPU have it) runs the whole driver over
/// awkward shapes and over requantization edge values, bit-exact against <see cref="QuantizedGemmReference"/>,
/// with C poisoned around the written block.
/// </summary>
public sealed class QuantizedGemmKernelTests
{
    private static readonly int[] Sizes = [1, 3, 7, 17, 33, 65, 127];
    private const byte Poison = 0xA5;

    public static TheoryData<string> ExecutableKernels()
    {
        var data = new TheoryData<string>();
        foreach (var kernel in QuantizedGemmKernels.All.Where(static k => k.CanExecute))
        {
            data.Add(kernel.Name);
        }

        return data;
    }

    [Fact]
    public void RegistryHasEveryIsaAndABestKernel()
    {
        var names = QuantizedGemmKernels.All.Select(static k => k.Name).ToArray();
        Assert.Contains("qu8s8-gemm-8x12-advsimd-dot", names);
        Assert.Contains("qu8s8-gemm-4x8-advsimd", names);
        Assert.Contains("qu8s8-gemm-4x8-avx2", names);
        Assert.Contains("qu8s8-gemm-6x16-avxvnni", names);
        Assert.Contains("qu8s8-gemm-4x4-scalar", names);
        Assert.Contains("qu8s8-gemm-12x32-avx512vnni-c", names);
        if (OptionalDependencies.RequireAll && Kernels.Cpu.Native.NativeQuantizedKernels.CpuHasAvx512Vnni)
        {
            // CI builds the native library: on a VNNI machine its kernel must be in the tester.
            Assert.True(QuantizedGemmKernels.Get("qu8s8-gemm-12x32-avx512vnni-c").CanExecute, "the AVX-512 VNNI C kernel cannot run on this AVX512_VNNI CPU: native library missing or stale");
        }

        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.True(QuantizedGemmKernels.Best.CanExecute);
        Assert.True(QuantizedGemmKernels.Get("qu8s8-gemm-4x8-advsimd").CanExecute, "AdvSimd kernels run everywhere through the Neon shim");
        Assert.Throws<ArgumentException>(() => QuantizedGemmKernels.Get("qu8s8-gemm-1x1-nothing"));
    }

    [Theory]
    [MemberData(nameof(ExecutableKernels))]
    public void EveryShapeMatchesReference(string kernelName)
    {
        var gemm = QuantizedGemm.Create(QuantizedGemmKernels.Get(kernelName));
        var rng = new Random(4321);
        int variant = 0;
        long inside = 0, total = 0;
        foreach (int m in Sizes)
        {
            foreach (int n in Sizes)
            {
                foreach (int k in Sizes)
                {
                    inside += CheckOne(gemm, rng, m, n, k, variant++, workers: null);
                    total += m * n;
                }
            }
        }

        // The table must test rounding, not only saturation: most outputs fall strictly inside the clamp.
        Assert.True(inside > total / 2, $"only {inside} of {total} outputs were inside the clamp range");
    }

    [Theory]
    [MemberData(nameof(ExecutableKernels))]
    public void MultithreadedSplitsMatchReference(string kernelName)
    {
        var gemm = QuantizedGemm.Create(QuantizedGemmKernels.Get(kernelName), mc: 16);
        var rng = new Random(77);
        foreach (int threads in new[] { 2, 3 })
        {
            using var workers = new WorkerGroup(threads);
            int variant = 0;
            foreach (var (m, n, k) in new[] { (1, 129, 33), (129, 1, 100), (100, 64, 257), (33, 100, 17), (2, 3, 5), (64, 129, 64) })
            {
                CheckOne(gemm, rng, m, n, k, variant++, workers);
            }
        }
    }

    /// <summary>
    /// K = 0 makes each column's pre-activation exactly its bias, so every kernel's store meets chosen
    /// (x, multiplier, shift) triples: int32 extremes, ties at every shift, multipliers 0, 1, 2³⁰, 2³¹ − 1,
    /// under output zero points from −2²⁴ to 2²⁴ and several clamps (saturation at both ends).
    /// </summary>
    [Theory]
    [MemberData(nameof(ExecutableKernels))]
    public void RequantizationEdgeValuesMatchReference(string kernelName)
    {
        var gemm = QuantizedGemm.Create(QuantizedGemmKernels.Get(kernelName));
        var (x, multipliers, shifts) = EdgeTriples();
        int n = x.Length;
        QuantizedOutput[] outputs =
        [
            new(0), new(128), new(255), new(-100), new(-3, 0, 255), new(17, 17, 200),
            new(Requantization.MaxZeroPointMagnitude), new(-Requantization.MaxZeroPointMagnitude), new(64, 64, 64), new(10, 5, 250),
        ];
        using var packed = gemm.PackB(0, n, ReadOnlySpan<sbyte>.Empty, n, x, multipliers, shifts, inputZeroPoint: 77);
        int m = gemm.Kernel.MR + 1;
        var a = new byte[m];
        var c = new byte[m * n];
        foreach (var output in outputs)
        {
            gemm.Multiply(m, a, 1, packed, c, n, output);
            for (int j = 0; j < n; j++)
            {
                byte want = QuantizedGemmReference.Output(x[j], multipliers[j], shifts[j], output);
                for (int i = 0; i < m; i++)
                {
                    if (c[(i * n) + j] != want)
                    {
                        Assert.Fail($"{kernelName}: x={x[j]} M={multipliers[j]} s={shifts[j]} {output}: row {i} got {c[(i * n) + j]}, reference {want}.");
                    }
                }
            }
        }
    }

    [Fact]
    public void ScalarRequantizationMatchesReferenceOnEdgeValues()
    {
        var (x, multipliers, shifts) = EdgeTriples();
        foreach (var output in new QuantizedOutput[] { new(0), new(-7, 3, 250), new(255) })
        {
            for (int j = 0; j < x.Length; j++)
            {
                byte got = Requantization.Apply(x[j], multipliers[j], shifts[j], output.Min - output.ZeroPoint, output.Max - output.ZeroPoint, output.ZeroPoint);
                Assert.Equal(QuantizedGemmReference.Output(x[j], multipliers[j], shifts[j], output), got);
            }
        }
    }

    [Fact]
    public void ReferenceRoundsTiesUpward()
    {
        // Scale 2⁻¹: 5/2 = 2.5 → 3, −5/2 = −2.5 → −2, 3/2 → 2, −3/2 → −1; at shift 3 the scale is 2⁻⁴: 24/16 = 1.5 → 2, −24/16 → −1.
        Assert.Equal(3, QuantizedGemmReference.Requantize(5, 1 << 30, 0));
        Assert.Equal(-2, QuantizedGemmReference.Requantize(-5, 1 << 30, 0));
        Assert.Equal(2, QuantizedGemmReference.Requantize(3, 1 << 30, 0));
        Assert.Equal(-1, QuantizedGemmReference.Requantize(-3, 1 << 30, 0));
        Assert.Equal(2, QuantizedGemmReference.Requantize(24, 1 << 30, 3));
        Assert.Equal(-1, QuantizedGemmReference.Requantize(-24, 1 << 30, 3));
        Assert.Equal(3, Requantization.Apply(5, 1 << 30, 0, -1000, 1000, 0));
        Assert.Equal(0, Requantization.Apply(-5, 1 << 30, 0, -1000, 1000, 2));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999999999999)]
    [InlineData(0.75)]
    [InlineData(1e-3)]
    [InlineData(3.0e-7)]
    [InlineData(2.3283064365386963e-10)]
    [InlineData(1e-12)]
    public void QuantizeMultiplierApproximatesTheScale(double scale)
    {
        var (multiplier, shift) = Requantization.QuantizeMultiplier(scale);
        Assert.InRange(shift, 0, Requantization.MaxShift);
        Assert.InRange(multiplier, 0, int.MaxValue);
        double got = Requantization.Scale(multiplier, shift);
        // Normalized multipliers carry 31 bits; below 2⁻³² the absolute step is 2⁻⁶².
        Assert.True(Math.Abs(got - scale) <= Math.Max(scale * Math.Pow(2, -30), Math.Pow(2, -62)), $"scale {scale}: M={multiplier} s={shift} gives {got}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(2.0)]
    public void QuantizeMultiplierRejectsScalesOutsideTheUnitInterval(double scale)
        => Assert.Equal("scale", Assert.Throws<ArgumentOutOfRangeException>(() => Requantization.QuantizeMultiplier(scale)).ParamName);

    internal static (int[] X, int[] Multipliers, int[] Shifts) EdgeTriples()
    {
        var rng = new Random(555);
        var x = new List<int>();
        var multipliers = new List<int>();
        var shifts = new List<int>();
        int[] xs = [int.MinValue, int.MinValue + 1, -1_000_000_007, -65536, -3, -1, 0, 1, 2, 3, 65535, 1_000_000_007, int.MaxValue - 1, int.MaxValue];
        int[] ms = [0, 1, 2, 1 << 30, (1 << 30) + 1, 1_518_500_250, int.MaxValue - 1, int.MaxValue];
        for (int s = 0; s <= Requantization.MaxShift; s++)
        {
            foreach (int mult in ms)
            {
                foreach (int value in xs)
                {
                    x.Add(value);
                    multipliers.Add(mult);
                    shifts.Add(s);
                }

                // Ties: with M = 2^30 the scale is 2^-(1+s), so odd multiples of 2^s land exactly on .5.
                if (mult == 1 << 30 && s < 30)
                {
                    foreach (int odd in new[] { 1, -1, 3, -3, 255, -255 })
                    {
                        x.Add(odd << s);
                        multipliers.Add(mult);
                        shifts.Add(s);
                    }
                }
            }

            for (int r = 0; r < 8; r++)
            {
                x.Add(rng.Next(int.MinValue, int.MaxValue));
                multipliers.Add(rng.Next(0, int.MaxValue));
                shifts.Add(s);
            }
        }

        return (x.ToArray(), multipliers.ToArray(), shifts.ToArray());
    }

    /// <returns>How many outputs lie strictly inside (min, max).</returns>
    internal static int CheckOne(QuantizedGemm gemm, Random rng, int m, int n, int k, int variant, WorkerGroup? workers)
    {
        int lda = k + 3, ldb = n + 5, ldc = n + 7;
        var a = new byte[(m * lda) + 1];
        rng.NextBytes(a);
        var b = new sbyte[(k * ldb) + 1];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = (sbyte)rng.Next(-127, 128);
        }

        byte zeroPoint = (byte)rng.Next(256);
        // σ: the spread of Σ (a − z)·w for uniform bytes and weights.
        double sigma = 128.0 * 73.0 * Math.Sqrt(Math.Max(k, 1));
        int[]? bias = variant % 3 == 2 ? null : Enumerable.Range(0, n).Select(_ => rng.Next(-(int)sigma, (int)sigma)).ToArray();
        var multipliers = new int[n];
        var shifts = new int[n];
        // Scales around 20/σ keep most outputs inside [0, 255] around the zero point; every 11th column gets
        // an extreme pair so both saturation ends appear too.
        for (int j = 0; j < n; j++)
        {
            double scale = 20.0 / sigma * Math.Pow(2, rng.NextDouble() * 4 - 2);
            (multipliers[j], shifts[j]) = Requantization.QuantizeMultiplier(Math.Min(scale, 0.999));
            if (j % 11 == 5)
            {
                (multipliers[j], shifts[j]) = (rng.Next(1 << 30, int.MaxValue), rng.Next(0, 3));
            }
        }

        var output = (variant % 4) switch
        {
            0 => new QuantizedOutput(128),
            1 => new QuantizedOutput(-20, 0, 255),
            2 => new QuantizedOutput(100, 100, 220),
            _ => new QuantizedOutput(230, 0, 255),
        };

        var c = new byte[m * ldc];
        Array.Fill(c, Poison);
        var expected = QuantizedGemmReference.Compute(m, n, k, a, lda, zeroPoint, b, ldb, bias, multipliers, shifts, output);
        using var packed = gemm.PackB(k, n, b, ldb, bias, multipliers, shifts, zeroPoint);
        gemm.Multiply(m, a, lda, packed, c, ldc, output, workers);
        int inside = expected.Count(v => v > output.Min && v < output.Max);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                byte got = c[(i * ldc) + j];
                if (j >= n)
                {
                    Assert.True(got == Poison, $"{gemm.Kernel.Name} m={m} n={n} k={k}: wrote outside the m×n block at ({i},{j}).");
                    continue;
                }

                if (got != expected[(i * n) + j])
                {
                    Assert.Fail($"{gemm.Kernel.Name} m={m} n={n} k={k} za={zeroPoint} {output} threads={workers?.ThreadCount ?? 1}: " +
                        $"C[{i},{j}] = {got}, reference {expected[(i * n) + j]} (M={multipliers[j]}, s={shifts[j]}).");
                }
            }
        }

        return inside;
    }
}
