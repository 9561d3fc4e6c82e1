using Kernels.Cpu.Native;
using Xunit;

namespace Kernels.Tests.Native;

public class NativeIm2ColTests
{
    private static void Reference(float[] input, int inOffset, int ih, int iw, int ch, int ps, int kh, int kw,
                                  int sh, int sw, int pt, int pl, int dh, int dw, int oh, int ow, float[] output, int ld)
    {
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
        for (int c = 0; c < ch; c++)
        {
            int iy = oy * sh + ky * dh - pt, ix = ox * sw + kx * dw - pl;
            float v = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? input[inOffset + (iy * iw + ix) * ps + c] : 0f;
            output[(oy * ow + ox) * ld + (ky * kw + kx) * ch + c] = v;
        }
    }

    public static TheoryData<int, int, int, int, int, int, int, int> Cases()
    {
        // ih, iw, channels, kernel, stride, dilation, padMode (0 valid, 1 same, 2 lopsided), slice
        var data = new TheoryData<int, int, int, int, int, int, int, int>();
        int i = 0;
        foreach (var (ih, iw) in new[] { (9, 7), (5, 5) })
        foreach (int ch in new[] { 1, 3, 13 })
        foreach (int k in new[] { 1, 2, 3, 5 })
        foreach (int s in new[] { 1, 2, 3 })
        foreach (int d in new[] { 1, 2 })
        {
            data.Add(ih, iw, ch, k, s, d, i % 3, (i / 3) % 2);
            i++;
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_reference(int ih, int iw, int ch, int k, int s, int d, int padMode, int slice)
    {
        if (!NativeTestSupport.ShouldRun())
            return;
        int kh = k, kw = k == 1 ? 3 : k; // one non-square kernel
        int ekh = (kh - 1) * d + 1, ekw = (kw - 1) * d + 1;
        int pt, pb, pl, pr;
        switch (padMode)
        {
            case 0: pt = pb = pl = pr = 0; break;
            case 1: pt = (ekh - 1) / 2; pb = ekh - 1 - pt; pl = (ekw - 1) / 2; pr = ekw - 1 - pl; break;
            default: pt = ekh - 1; pb = 1; pl = 0; pr = ekw; break;
        }
        int oh = NativeKernels.ConvOutputSize(ih, kh, s, pt, pb, d);
        int ow = NativeKernels.ConvOutputSize(iw, kw, s, pl, pr, d);
        if (oh == 0 || ow == 0)
            return;
        int ps = slice == 1 ? ch + 3 : ch, inOffset = slice;
        var rng = new Random(ih * 1000 + ch * 100 + k * 10 + s);
        float[] input = TestData.RandomFloats(rng, ih * iw * ps + 1);
        int K = kh * kw * ch, ld = K + 2 * slice;
        int total = oh * ow * ld + 8;
        var got = new float[total];
        var want = new float[total];
        Array.Fill(got, NativeTestSupport.Poison);
        Array.Fill(want, NativeTestSupport.Poison);

        NativeKernels.Im2ColNhwc(input.AsSpan(inOffset), ih, iw, ch, ps, kh, kw, s, s, pt, pl, d, d, oh, ow, got, ld);
        Reference(input, inOffset, ih, iw, ch, ps, kh, kw, s, s, pt, pl, d, d, oh, ow, want, ld);

        for (int i = 0; i < total; i++)
        {
            if (BitConverter.SingleToInt32Bits(got[i]) != BitConverter.SingleToInt32Bits(want[i]))
                Assert.Fail($"out {oh}x{ow} ld {ld}: row {i / ld} col {i % ld}: got {got[i]}, want {want[i]}");
        }
    }
}
