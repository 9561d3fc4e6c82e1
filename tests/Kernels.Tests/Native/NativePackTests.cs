using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

public class NativePackTests
{
    private static readonly int[] Dims = [1, 2, 3, 5, 7, 8, 9, 12, 13, 17, 31];

    public static TheoryData<int> Tiles() => new() { 1, 4, 8, 12 };

    [Theory]
    [MemberData(nameof(Tiles))]
    public void PackA_matches_layout(int mr)
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        var rng = new Random(mr);
        foreach (int m in Dims)
        foreach (int k in Dims)
        {
            int lda = k + 2;
            float[] a = TestData.RandomFloats(rng, (m - 1) * lda + k);
            int size = checked((int)NativeKernels.PackedASize(mr, m, k));
            var packed = new float[size + 4];
            Array.Fill(packed, NativeTestSupport.Poison);
            NativeKernels.PackA(mr, m, k, a, lda, packed);
            int panels = (m + mr - 1) / mr;
            for (int q = 0; q < panels; q++)
            for (int p = 0; p < k; p++)
            for (int i = 0; i < mr; i++)
            {
                int row = q * mr + i;
                float want = row < m ? a[row * lda + p] : 0f;
                float got = packed[q * k * mr + p * mr + i];
                if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(got))
                    Assert.Fail($"mr {mr} m {m} k {k}: panel {q} p {p} i {i}: got {got}, want {want}");
            }
            for (int g = size; g < packed.Length; g++)
                Assert.True(NativeTestSupport.IsPoison(packed[g]), $"mr {mr} m {m} k {k}: wrote past the packed size at {g}");
        }
    }

    [Theory]
    [MemberData(nameof(Tiles))]
    public void PackB_matches_layout(int nr)
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        var rng = new Random(100 + nr);
        foreach (int n in Dims)
        foreach (int k in Dims)
        {
            int ldb = n + 3;
            float[] b = TestData.RandomFloats(rng, (k - 1) * ldb + n);
            int size = checked((int)NativeKernels.PackedBSize(nr, k, n));
            var packed = new float[size + 4];
            Array.Fill(packed, NativeTestSupport.Poison);
            NativeKernels.PackB(nr, k, n, b, ldb, packed);
            int panels = (n + nr - 1) / nr;
            for (int q = 0; q < panels; q++)
            for (int p = 0; p < k; p++)
            for (int j = 0; j < nr; j++)
            {
                int col = q * nr + j;
                float want = col < n ? b[p * ldb + col] : 0f;
                float got = packed[q * k * nr + p * nr + j];
                if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(got))
                    Assert.Fail($"nr {nr} n {n} k {k}: panel {q} p {p} j {j}: got {got}, want {want}");
            }
            for (int g = size; g < packed.Length; g++)
                Assert.True(NativeTestSupport.IsPoison(packed[g]), $"nr {nr} n {n} k {k}: wrote past the packed size at {g}");
        }
    }
}
