/* kn_sgemm_ukernel_8x12_neon against a float64 reference.
 * Every m in 1..8, n in 1..12, kc in {1,2,3,4,5,8,17,64}, with/without bias, accumulate, clamp;
 * ldc = n + 5. C is poisoned with a NaN pattern first; everything outside the m x n corner
 * (the gap columns of each row, the rows below, guards before and after) must stay poisoned.
 * Error bound: |got - ref| <= 1e-5 * (sum_p |a*b| + |c_old| + |bias|) + 1e-7, where ref is the
 * float64 sum (of the float inputs) with the same accumulate/bias/clamp steps. FMA accumulation
 * in float has a worst-case error of about kc * 2^-24 * sum|a*b|, < 4e-6 * sum for kc = 64. */
#include "kernels_native.h"
#include "kn_test.h"

#include <math.h>

#if !KN_TEST_EXPECT_NEON
int main(void)
{
    if (kn_has_neon_kernels()) {
        fprintf(stderr, "library reports NEON kernels but the build expected none\n");
        return 1;
    }
    printf("test_sgemm_ukernel: NEON source not built (x86 without SIMDe): skipped\n");
    return 77;
}
#else

#define MR 8
#define NR 12
#define GUARD 8

int main(void)
{
    static const size_t kcs[] = {1, 2, 3, 4, 5, 8, 17, 64};
    const float lo = -0.75f, hi = 0.5f;
    long calls = 0;
    double worst_ratio = 0.0; /* max |diff| / tolerance seen */

    KN_CHECK(kn_has_neon_kernels() == 1, "kn_has_neon_kernels() = %d", kn_has_neon_kernels());

    for (size_t kci = 0; kci < sizeof kcs / sizeof kcs[0]; ++kci) {
        const size_t kc = kcs[kci];
        /* packed panels, filled directly in the packed layout */
        float* a = kn_xmalloc(kc * MR * sizeof(float));
        float* b = kn_xmalloc(kc * NR * sizeof(float));
        for (size_t m = 1; m <= MR; ++m)
        for (size_t n = 1; n <= NR; ++n)
        for (int flags = 0; flags < 6; ++flags) /* 4, 5: leaky ReLU (never with clamp) */
        for (int with_bias = 0; with_bias < 2; ++with_bias) {
            /* Rows >= m / columns >= n of the panels hold what packing would put there (0) for
             * half the cases and junk for the other half: the kernel must not let them leak. */
            const int junk = (int)((m + n + (size_t)flags) & 1);
            for (size_t p = 0; p < kc; ++p) {
                for (size_t i = 0; i < MR; ++i) a[p * MR + i] = i < m ? kn_rand_f32() : (junk ? 1e30f : 0.0f);
                for (size_t j = 0; j < NR; ++j) b[p * NR + j] = j < n ? kn_rand_f32() : (junk ? -1e30f : 0.0f);
            }
            float bias[NR];
            for (size_t j = 0; j < NR; ++j) bias[j] = j < n ? kn_rand_f32() : kn_poison();

            const size_t ldc = n + 5;
            const size_t total = GUARD + MR * ldc + GUARD;
            float* cbuf = kn_xmalloc(total * sizeof(float));
            kn_fill_poison(cbuf, total);
            float* c = cbuf + GUARD;
            float c_old[MR][NR];
            if (flags & KN_GEMM_ACCUMULATE)
                for (size_t i = 0; i < m; ++i)
                    for (size_t j = 0; j < n; ++j) c[i * ldc + j] = c_old[i][j] = kn_rand_f32();

            const float slope = 0.125f;
            kn_sgemm_ukernel_8x12_neon(kc, a, b, c, ldc, m, n, with_bias ? bias : NULL,
                                       (flags & KN_GEMM_LEAKY_RELU) ? slope : lo, hi, flags);
            ++calls;

            for (size_t idx = 0; idx < total; ++idx) {
                const long off = (long)idx - GUARD;
                const int inside = off >= 0 && (size_t)off < MR * ldc && (size_t)off / ldc < m &&
                                   (size_t)off % ldc < n;
                if (!inside) {
                    KN_CHECK(kn_is_poison(cbuf[idx]),
                             "m %zu n %zu kc %zu flags %d bias %d: wrote outside the corner at offset %ld (%g)",
                             m, n, kc, flags, with_bias, off, cbuf[idx]);
                    continue;
                }
                const size_t i = (size_t)off / ldc, j = (size_t)off % ldc;
                double ref = 0.0, mag = 0.0;
                for (size_t p = 0; p < kc; ++p) {
                    const double prod = (double)a[p * MR + i] * (double)b[p * NR + j];
                    ref += prod;
                    mag += fabs(prod);
                }
                if (flags & KN_GEMM_ACCUMULATE) { ref += c_old[i][j]; mag += fabs(c_old[i][j]); }
                if (with_bias) { ref += bias[j]; mag += fabs(bias[j]); }
                if (flags & KN_GEMM_CLAMP) ref = fmin(fmax(ref, lo), hi);
                if ((flags & KN_GEMM_LEAKY_RELU) && ref < 0) ref *= 0.125;
                const double got = c[i * ldc + j];
                const double tol = 1e-5 * mag + 1e-7;
                const double diff = fabs(got - ref);
                if (diff / tol > worst_ratio) worst_ratio = diff / tol;
                KN_CHECK(diff <= tol, "m %zu n %zu kc %zu flags %d bias %d: c[%zu][%zu] = %.9g, want %.9g (tol %.3g)",
                         m, n, kc, flags, with_bias, i, j, got, ref, tol);
            }
            free(cbuf);
        }
        free(a);
        free(b);
    }

    /* Clamp must follow fminf(fmaxf(acc, min), max) exactly: an inverted range gives max. */
    {
        float a[MR], b[NR], c[MR * NR];
        for (size_t i = 0; i < MR; ++i) a[i] = 1.0f;
        for (size_t j = 0; j < NR; ++j) b[j] = (float)j - 6.0f;
        kn_sgemm_ukernel_8x12_neon(1, a, b, c, NR, MR, NR, NULL, 1.0f, -1.0f, KN_GEMM_CLAMP);
        for (size_t i = 0; i < MR * NR; ++i) KN_CHECK(c[i] == -1.0f, "inverted clamp: c[%zu] = %g", i, c[i]);
        ++calls;
    }

    printf("sgemm_ukernel: %ld calls, worst |diff|/tolerance %.3g\n", calls, worst_ratio);
    return kn_test_finish("test_sgemm_ukernel");
}
#endif
