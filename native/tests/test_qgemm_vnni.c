/* kn_qgemm_ukernel_12x32_avx512vnni and the indirect kn_qigemm_ukernel_12x32_avx512vnni against a scalar int64
 * reference of the same contract; exact.
 * x86-64 only, and only on a CPU with AVX512_VNNI: elsewhere the test has nothing to check (exit 77). */
#include "kernels_native.h"
#include "kn_test.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))

enum { MR = 12, NR = 32 };

static uint8_t ref_output(int32_t x, int32_t mult, int32_t shift, int32_t zero_point, int32_t qmin, int32_t qmax)
{
    const int total = 31 + shift;
    int64_t y = (((int64_t)x * mult) + ((int64_t)1 << (total - 1))) >> total; /* arithmetic shift: floor */
    y += zero_point;
    return (uint8_t)(y < qmin ? qmin : y > qmax ? qmax : y);
}

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw")) {
        printf("no AVX512_VNNI on this CPU: nothing to test\n");
        return 77;
    }

    static const int ks[] = {0, 1, 3, 4, 5, 17, 64, 255};
    static const int32_t zps[] = {0, 128, 255, -40};
    enum { LDC = NR + 5, MAXK = 256 };
    uint8_t* a = kn_xmalloc((size_t)MAXK * MR);
    int8_t* b = kn_xmalloc((size_t)MAXK * NR);
    uint8_t* ap = kn_xmalloc((size_t)MAXK * MR);
    int8_t* bp = kn_xmalloc((size_t)MAXK * NR);
    uint8_t c[MR * LDC];
    int32_t bias[NR], mult[NR], shift[NR];
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki)
    for (int trial = 0; trial < 6; ++trial) {
        const int k = ks[ki], groups = (k + 3) / 4;
        for (int i = 0; i < MR * k; ++i) a[i] = (uint8_t)kn_rand_u32();
        for (int i = 0; i < NR * k; ++i) b[i] = (int8_t)((int)(kn_rand_u32() % 255) - 127);
        /* Pack: group g, row i (column j) holds k = 4g..4g+3, zero past k. */
        memset(ap, 0, (size_t)groups * MR * 4);
        memset(bp, 0, (size_t)groups * NR * 4);
        for (int p = 0; p < k; ++p) {
            for (int i = 0; i < MR; ++i) ap[(p / 4) * MR * 4 + i * 4 + p % 4] = a[i * k + p];
            for (int j = 0; j < NR; ++j) bp[(p / 4) * NR * 4 + j * 4 + p % 4] = b[p * NR + j];
        }
        for (int j = 0; j < NR; ++j) {
            bias[j] = (int32_t)(kn_rand_u32() % 200001) - 100000;
            shift[j] = (int32_t)(kn_rand_u32() % 32);
            mult[j] = (int32_t)(kn_rand_u32() & 0x7FFFFFFF);
            if (j % 5 == 0) mult[j] = 1 << 30; /* ties */
            if (j == 7) { bias[j] = INT32_MIN; shift[j] = 0; mult[j] = INT32_MAX; }
        }
        const int32_t zp = zps[trial % 4];
        const int32_t qmin = trial == 5 ? 10 : 0, qmax = trial == 5 ? 200 : 255;
        const kn_requant_tile q = {bias, mult, shift, qmin - zp, qmax - zp, zp};
        for (int m = 1; m <= MR; m += (m < 3 ? 1 : 4))
        for (int n = 1; n <= NR; n += (n < 3 ? 1 : 5)) {
            memset(c, 0xA5, sizeof c);
            kn_qgemm_ukernel_12x32_avx512vnni((size_t)groups, ap, bp, c, LDC, (size_t)m, (size_t)n, &q);
            for (int i = 0; i < MR; ++i)
            for (int j = 0; j < LDC; ++j) {
                if (i >= m || j >= n) {
                    KN_CHECK(c[i * LDC + j] == 0xA5, "k=%d m=%d n=%d: wrote outside at (%d,%d)", k, m, n, i, j);
                    continue;
                }
                int64_t sum = 0;
                for (int p = 0; p < k; ++p) sum += (int64_t)a[i * k + p] * b[p * NR + j];
                const int32_t x = (int32_t)(uint32_t)(sum + bias[j]); /* int32 wrapping, as the kernel */
                const uint8_t want = ref_output(x, mult[j], shift[j], zp, qmin, qmax);
                KN_CHECK(c[i * LDC + j] == want, "k=%d m=%d n=%d C[%d,%d] = %d, reference %d", k, m, n, i, j, c[i * LDC + j], want);
            }
        }
    }

    /* The indirect kernel: each (tap, row) reads 4 * gpt bytes from its own place in a pool (some rows share
     * one place, as padding rows share the zero-point buffer); B packed tap by tap. */
    static const int tapss[] = {1, 3, 9};
    static const int gpts[] = {1, 2, 5};
    enum { POOL = 4096 };
    uint8_t* pool = kn_xmalloc(POOL);
    for (int i = 0; i < POOL; ++i) pool[i] = (uint8_t)kn_rand_u32();
    for (size_t ti = 0; ti < 3; ++ti)
    for (size_t gi = 0; gi < 3; ++gi) {
        const int taps = tapss[ti], gpt = gpts[gi], k = taps * gpt * 4;
        const uint8_t* rows[9 * MR];
        for (int t = 0; t < taps; ++t)
        for (int i = 0; i < MR; ++i)
            rows[t * MR + i] = (i % 7 == 3) ? pool : pool + kn_rand_u32() % (POOL - 4 * gpt);
        for (int i = 0; i < NR * k; ++i) b[i] = (int8_t)((int)(kn_rand_u32() % 255) - 127);
        for (int p = 0; p < k; ++p)
            for (int j = 0; j < NR; ++j) bp[(p / 4) * NR * 4 + j * 4 + p % 4] = b[p * NR + j];
        for (int j = 0; j < NR; ++j) {
            bias[j] = (int32_t)(kn_rand_u32() % 200001) - 100000;
            shift[j] = (int32_t)(kn_rand_u32() % 20);
            mult[j] = (int32_t)(kn_rand_u32() & 0x7FFFFFFF) | (1 << 30);
        }
        const int32_t zp = zps[(ti + gi) % 4];
        const kn_requant_tile q = {bias, mult, shift, -zp, 255 - zp, zp};
        for (int m = 1; m <= MR; m += 5)
        for (int n = 1; n <= NR; n += 7) {
            memset(c, 0xA5, sizeof c);
            kn_qigemm_ukernel_12x32_avx512vnni((size_t)taps, (size_t)gpt, rows, bp, c, LDC, (size_t)m, (size_t)n, &q);
            for (int i = 0; i < MR; ++i)
            for (int j = 0; j < LDC; ++j) {
                if (i >= m || j >= n) {
                    KN_CHECK(c[i * LDC + j] == 0xA5, "indirect taps=%d gpt=%d m=%d n=%d: wrote outside at (%d,%d)", taps, gpt, m, n, i, j);
                    continue;
                }
                int64_t sum = 0;
                for (int t = 0; t < taps; ++t)
                    for (int p = 0; p < 4 * gpt; ++p) sum += (int64_t)rows[t * MR + i][p] * b[(t * 4 * gpt + p) * NR + j];
                const uint8_t want = ref_output((int32_t)(uint32_t)(sum + bias[j]), mult[j], shift[j], zp, 0, 255);
                KN_CHECK(c[i * LDC + j] == want, "indirect taps=%d gpt=%d m=%d n=%d C[%d,%d] = %d, reference %d", taps, gpt, m, n, i, j, c[i * LDC + j], want);
            }
        }
    }
    free(pool);

    KN_CHECK(kn_vnni_peak_chains(1000) != 0x7FFFFFFF, "peak loop returned"); /* runs without faulting */
    free(a); free(b); free(ap); free(bp);
    return kn_test_finish("qgemm_vnni");
}

#else

int main(void)
{
    printf("kn_qgemm_ukernel_12x32_avx512vnni is built for x86-64 only: nothing to test\n");
    return 77;
}

#endif
