/* kn_im2col_nhwc_f32 against a direct scalar reference. im2col only copies, so results must be
 * bit-exact; columns past K in each row and memory past the last row must stay untouched. */
#include "kernels_native.h"
#include "kn_test.h"

static void ref_im2col(const float* in, size_t ih, size_t iw, size_t ch, size_t ps, size_t kh,
                       size_t kw, size_t sh, size_t sw, size_t pt, size_t pl, size_t dh, size_t dw,
                       size_t oh, size_t ow, float* out, size_t ld)
{
    for (size_t oy = 0; oy < oh; ++oy)
        for (size_t ox = 0; ox < ow; ++ox)
            for (size_t ky = 0; ky < kh; ++ky)
                for (size_t kx = 0; kx < kw; ++kx)
                    for (size_t c = 0; c < ch; ++c) {
                        long iy = (long)(oy * sh + ky * dh) - (long)pt;
                        long ix = (long)(ox * sw + kx * dw) - (long)pl;
                        float v = 0.0f;
                        if (iy >= 0 && iy < (long)ih && ix >= 0 && ix < (long)iw)
                            v = in[((size_t)iy * iw + (size_t)ix) * ps + c];
                        out[(oy * ow + ox) * ld + (ky * kw + kx) * ch + c] = v;
                    }
}

int main(void)
{
    static const size_t maps[][2] = {{9, 7}, {5, 5}};
    static const size_t chans[] = {1, 3, 13};
    static const size_t kernels[][2] = {{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {1, 3}, {3, 1}, {2, 5}};
    static const size_t strides[][2] = {{1, 1}, {2, 2}, {3, 3}, {1, 2}, {3, 1}};
    static const size_t dils[][2] = {{1, 1}, {2, 2}, {1, 2}, {2, 1}};
    long cases = 0;

    for (size_t mi = 0; mi < 2; ++mi)
    for (size_t ci = 0; ci < 3; ++ci)
    for (size_t ki = 0; ki < 8; ++ki)
    for (size_t si = 0; si < 5; ++si)
    for (size_t di = 0; di < 4; ++di)
    for (int padmode = 0; padmode < 3; ++padmode)
    for (int slice = 0; slice < 2; ++slice) {
        const size_t ih = maps[mi][0], iw = maps[mi][1], ch = chans[ci];
        const size_t kh = kernels[ki][0], kw = kernels[ki][1];
        const size_t sh = strides[si][0], sw = strides[si][1];
        const size_t dh = dils[di][0], dw = dils[di][1];
        const size_t ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1; /* effective extent */
        size_t pt, pb, pl, pr;
        if (padmode == 0) { pt = pb = pl = pr = 0; }                               /* valid */
        else if (padmode == 1) { pt = (ekh - 1) / 2; pb = ekh - 1 - pt; pl = (ekw - 1) / 2; pr = ekw - 1 - pl; } /* same */
        else { pt = ekh - 1; pb = 1; pl = 0; pr = ekw; }                           /* lopsided, wide */
        if (ih + pt + pb < ekh || iw + pl + pr < ekw) continue;
        const size_t oh = (ih + pt + pb - ekh) / sh + 1, ow = (iw + pl + pr - ekw) / sw + 1;

        /* slice: pick channels [1, 1+ch) out of pixels of ch+3 floats (grouped convolution) */
        const size_t ps = slice ? ch + 3 : ch;
        const size_t in_total = ih * iw * ps + 1;
        float* in_all = kn_xmalloc(in_total * sizeof(float));
        for (size_t i = 0; i < in_total; ++i) in_all[i] = kn_rand_f32();
        const float* in = in_all + (slice ? 1 : 0);

        const size_t K = kh * kw * ch, ld = K + (slice ? 3 : 0);
        const size_t out_total = oh * ow * ld + 16; /* 16 guard floats after the last row */
        float* out = kn_xmalloc(out_total * sizeof(float));
        float* ref = kn_xmalloc(out_total * sizeof(float));
        kn_fill_poison(out, out_total);
        kn_fill_poison(ref, out_total);

        kn_im2col_nhwc_f32(in, ih, iw, ch, ps, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, out, ld);
        ref_im2col(in, ih, iw, ch, ps, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow, ref, ld);

        size_t bad = 0, first = 0;
        for (size_t i = 0; i < out_total; ++i)
            if (memcmp(&out[i], &ref[i], sizeof(float)) != 0) { if (!bad) first = i; ++bad; }
        KN_CHECK(bad == 0,
                 "map %zux%zu ch %zu ps %zu kernel %zux%zu stride %zux%zu dil %zux%zu pad t%zu l%zu "
                 "-> out %zux%zu ld %zu: %zu floats differ, first at row %zu col %zu (got %g want %g)",
                 ih, iw, ch, ps, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, ld, bad, first / ld,
                 first % ld, out[first], ref[first]);
        ++cases;
        free(in_all);
        free(out);
        free(ref);
    }
    printf("im2col: %ld configurations\n", cases);
    return kn_test_finish("test_im2col");
}
