/* Dot-product dispatch: KN_EXPECT_DOTPROD=1 requires path "sdot", =0 requires "neon",
 * unset just prints the path (and checks it is consistent with the build). */
#include "kernels_native.h"
#include "kn_test.h"

int main(void)
{
    const char* path = kn_dot_s8_path();
    const char* expect = getenv("KN_EXPECT_DOTPROD");
    printf("kn_version %d, kn_has_neon_kernels %d, kn_dot_s8_path \"%s\", KN_EXPECT_DOTPROD=%s\n",
           kn_version(), kn_has_neon_kernels(), path, expect ? expect : "(unset)");

    KN_CHECK(kn_version() == KN_VERSION, "library version %d, header %d", kn_version(), KN_VERSION);
    KN_CHECK(kn_has_neon_kernels() == KN_TEST_EXPECT_NEON, "kn_has_neon_kernels() = %d, build expected %d",
             kn_has_neon_kernels(), KN_TEST_EXPECT_NEON);
    if (kn_has_neon_kernels())
        KN_CHECK(strcmp(path, "sdot") == 0 || strcmp(path, "neon") == 0, "path \"%s\"", path);
    else
        KN_CHECK(strcmp(path, "scalar") == 0, "path \"%s\" without NEON source", path);
#if !defined(__aarch64__)
    KN_CHECK(strcmp(path, "sdot") != 0, "x86 must not dispatch to the emulated sdot (got \"%s\")", path);
#endif
    KN_CHECK(strcmp(path, kn_dot_s8_path()) == 0, "path changed between calls");

    if (expect && *expect) {
        if (strcmp(expect, "1") == 0)
            KN_CHECK(strcmp(path, "sdot") == 0, "KN_EXPECT_DOTPROD=1 but path is \"%s\"", path);
        else if (strcmp(expect, "0") == 0)
            KN_CHECK(strcmp(path, "neon") == 0, "KN_EXPECT_DOTPROD=0 but path is \"%s\"", path);
        else
            KN_CHECK(0, "KN_EXPECT_DOTPROD must be 0 or 1, not \"%s\"", expect);
    }
    return kn_test_finish("test_dispatch");
}
