/* kn_pack_a_f32 / kn_pack_b_f32 against the layout definition; bit-exact, guards untouched. */
#include "kernels_native.h"
#include "kn_test.h"

static const size_t dims[] = {1, 2, 3, 5, 7, 8, 9, 12, 13, 17, 31};
#define NDIMS (sizeof dims / sizeof dims[0])
static const size_t tiles[] = {1, 3, 4, 8, 12};
#define NTILES (sizeof tiles / sizeof tiles[0])
#define GUARD 16

int main(void)
{
    /* A: m x k, lda = k + 2 */
    for (size_t ti = 0; ti < NTILES; ++ti)
    for (size_t mi = 0; mi < NDIMS; ++mi)
    for (size_t ki = 0; ki < NDIMS; ++ki) {
        const size_t mr = tiles[ti], m = dims[mi], k = dims[ki], lda = k + 2;
        float* a = kn_xmalloc(m * lda * sizeof(float));
        for (size_t i = 0; i < m * lda; ++i) a[i] = kn_rand_f32();
        const size_t panels = (m + mr - 1) / mr, size = panels * mr * k;
        float* packed = kn_xmalloc((size + GUARD) * sizeof(float));
        kn_fill_poison(packed, size + GUARD);
        kn_pack_a_f32(mr, m, k, a, lda, packed);
        size_t bad = 0;
        for (size_t q = 0; q < panels; ++q)
            for (size_t p = 0; p < k; ++p)
                for (size_t i = 0; i < mr; ++i) {
                    const size_t row = q * mr + i;
                    const float want = row < m ? a[row * lda + p] : 0.0f;
                    const float got = packed[q * k * mr + p * mr + i];
                    if (memcmp(&want, &got, sizeof got) != 0) {
                        if (!bad) KN_CHECK(0, "pack_a mr %zu m %zu k %zu: panel %zu p %zu i %zu got %g want %g",
                                           mr, m, k, q, p, i, got, want);
                        ++bad;
                    }
                }
        KN_CHECK(bad == 0, "pack_a mr %zu m %zu k %zu: %zu values wrong", mr, m, k, bad);
        for (size_t g = 0; g < GUARD; ++g)
            KN_CHECK(kn_is_poison(packed[size + g]), "pack_a mr %zu m %zu k %zu wrote past the end (+%zu)", mr, m, k, g);
        free(a);
        free(packed);
    }

    /* B: k x n, ldb = n + 3 */
    for (size_t ti = 0; ti < NTILES; ++ti)
    for (size_t ni = 0; ni < NDIMS; ++ni)
    for (size_t ki = 0; ki < NDIMS; ++ki) {
        const size_t nr = tiles[ti], n = dims[ni], k = dims[ki], ldb = n + 3;
        float* b = kn_xmalloc(k * ldb * sizeof(float));
        for (size_t i = 0; i < k * ldb; ++i) b[i] = kn_rand_f32();
        const size_t panels = (n + nr - 1) / nr, size = panels * nr * k;
        float* packed = kn_xmalloc((size + GUARD) * sizeof(float));
        kn_fill_poison(packed, size + GUARD);
        kn_pack_b_f32(nr, k, n, b, ldb, packed);
        size_t bad = 0;
        for (size_t q = 0; q < panels; ++q)
            for (size_t p = 0; p < k; ++p)
                for (size_t j = 0; j < nr; ++j) {
                    const size_t col = q * nr + j;
                    const float want = col < n ? b[p * ldb + col] : 0.0f;
                    const float got = packed[q * k * nr + p * nr + j];
                    if (memcmp(&want, &got, sizeof got) != 0) {
                        if (!bad) KN_CHECK(0, "pack_b nr %zu n %zu k %zu: panel %zu p %zu j %zu got %g want %g",
                                           nr, n, k, q, p, j, got, want);
                        ++bad;
                    }
                }
        KN_CHECK(bad == 0, "pack_b nr %zu n %zu k %zu: %zu values wrong", nr, n, k, bad);
        for (size_t g = 0; g < GUARD; ++g)
            KN_CHECK(kn_is_poison(packed[size + g]), "pack_b nr %zu n %zu k %zu wrote past the end (+%zu)", nr, n, k, g);
        free(b);
        free(packed);
    }
    return kn_test_finish("test_pack");
}
