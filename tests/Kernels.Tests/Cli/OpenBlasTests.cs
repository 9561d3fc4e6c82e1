using Kernels.Baselines;
using Xunit;

namespace Kernels.Tests.Cli;

public sealed class OpenBlasTests
{
    /// <summary>
    /// OpenBLAS is optional (libopenblas-dev): tests that need it carry [OpenBlasFact]/[OpenBlasTheory]
    /// and are skipped without it, except under KERNELS_REQUIRE_ALL=1 (CI), where this fails them.
    /// </summary>
    internal static bool OpenBlasOrSkip()
    {
        Assert.True(OpenBlas.IsAvailable, $"OpenBLAS is unavailable ({OpenBlas.UnavailableReason}).");
        return true;
    }

    [OpenBlasTheory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(7, 5, 3, 0)]
    [InlineData(13, 17, 19, 0)]
    [InlineData(13, 17, 19, 5)]
    [InlineData(33, 65, 129, 3)]
    [InlineData(1, 1000, 256, 0)]
    public void Sgemm_MatchesDoubleReference(int m, int n, int k, int padding)
    {
        if (!OpenBlasOrSkip())
        {
            return;
        }

        int lda = k + padding, ldb = n + padding, ldc = n + padding;
        var random = new Random(m * 1_000_003 + n * 1009 + k);
        float[] a = Random(random, m * lda);
        float[] b = Random(random, k * ldb);
        float[] c = Enumerable.Repeat(float.NaN, m * ldc).ToArray();

        OpenBlas.Sgemm(m, n, k, a, lda, b, ldb, c, ldc);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < ldc; j++)
            {
                if (j >= n)
                {
                    Assert.True(float.IsNaN(c[(i * ldc) + j]), $"padding C[{i},{j}] was written");
                    continue;
                }

                double expected = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double product = (double)a[(i * lda) + p] * b[(p * ldb) + j];
                    expected += product;
                    magnitude += Math.Abs(product);
                }

                double error = Math.Abs(c[(i * ldc) + j] - expected);
                Assert.True(error <= 1e-6 * k * Math.Max(magnitude, 1e-30) + 1e-30, $"C[{i},{j}] = {c[(i * ldc) + j]}, expected {expected} ({m}x{n}x{k})");
            }
        }
    }

    [OpenBlasFact]
    public void Sgemm_WithEmptyK_ClearsC()
    {
        if (!OpenBlasOrSkip())
        {
            return;
        }

        float[] c = [1, 2, 3, 4, 5, 6];
        OpenBlas.Sgemm(2, 3, 0, [], 1, [], 3, c, 3);
        Assert.All(c, value => Assert.Equal(0f, value));
    }

    [OpenBlasFact]
    public void SetThreads_ReachesOpenBlas()
    {
        if (!OpenBlasOrSkip())
        {
            return;
        }

        OpenBlas.SetThreads(1);
        Assert.Equal(1, OpenBlas.Threads);
    }

    // Argument checks come before the library is needed: they hold with or without OpenBLAS.
    [Theory]
    [InlineData(-1, 2, 2, 2, 2, 2, 4, 4, 4, "m")]
    [InlineData(2, -1, 2, 2, 2, 2, 4, 4, 4, "n")]
    [InlineData(2, 2, -1, 2, 2, 2, 4, 4, 4, "k")]
    [InlineData(2, 2, 2, 1, 2, 2, 4, 4, 4, "lda")]
    [InlineData(2, 2, 2, 2, 1, 2, 4, 4, 4, "ldb")]
    [InlineData(2, 2, 2, 2, 2, 1, 4, 4, 4, "ldc")]
    [InlineData(2, 2, 2, 2, 2, 2, 3, 4, 4, "a")]
    [InlineData(2, 2, 2, 2, 2, 2, 4, 3, 4, "b")]
    [InlineData(2, 2, 2, 2, 2, 2, 4, 4, 3, "c")]
    [InlineData(2, 2, 2, 3, 2, 2, 4, 4, 4, "a")]
    public void Sgemm_RejectsBadArguments(int m, int n, int k, int lda, int ldb, int ldc, int aLength, int bLength, int cLength, string parameter)
    {
        var exception = Assert.ThrowsAny<ArgumentException>(() =>
            OpenBlas.Sgemm(m, n, k, new float[aLength], lda, new float[bLength], ldb, new float[cLength], ldc));
        Assert.Equal(parameter, exception.ParamName);
    }

    [Fact]
    public void SetThreads_RejectsZero()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => OpenBlas.SetThreads(0));
        Assert.Equal("threads", exception.ParamName);
    }

    [Fact]
    public void Availability_IsExplained()
    {
        Assert.Equal(OpenBlas.IsAvailable, OpenBlas.UnavailableReason is null);
        if (!OpenBlas.IsAvailable)
        {
            Assert.Contains(OpenBlas.LibraryName, OpenBlas.UnavailableReason);
        }
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (random.NextSingle() * 2) - 1;
        }

        return values;
    }
}
