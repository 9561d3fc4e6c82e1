/* Internal: NEON intrinsics, native on aarch64, emulated through SIMDe elsewhere. */
#ifndef KN_NEON_H
#define KN_NEON_H

#if defined(__aarch64__) || defined(_M_ARM64)
#  include <arm_neon.h>
#  define KN_NEON_NATIVE 1
#else
#  define SIMDE_ENABLE_NATIVE_ALIASES
#  include <simde/arm/neon.h>
#  define KN_NEON_NATIVE 0
#endif

#endif
