#!/usr/bin/env bash
# Builds libkernels_native and runs its C tests:
#   (a) host (x86) build with the NEON source through SIMDe, in artifacts/native-test/host
#   (b) aarch64 cross build, tests under qemu-aarch64 with three CPU models
#       (max and neoverse-n1 have the dot-product extension, cortex-a53 has not),
#       in artifacts/native-test/aarch64
# A missing tool skips its part with a one-line reason, unless KERNELS_REQUIRE_ALL=1 (CI): then it
# is a failure. Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/artifacts/native-test"
REQUIRE_ALL="${KERNELS_REQUIRE_ALL:-0}"
JOBS="${KERNELS_NATIVE_JOBS:-2}"
mkdir -p "$OUT"

summary=()
failed=0

missing() { # $1 = what is skipped, $2 = reason
    if [[ "$REQUIRE_ALL" == "1" ]]; then
        echo "FAIL: $1: $2 (KERNELS_REQUIRE_ALL=1)" >&2
        summary+=("FAIL  $1: $2")
        failed=1
    else
        echo "SKIP: $1: $2"
        summary+=("SKIP  $1: $2")
    fi
}

run_ctest() { # $1 = label, $2 = build dir, rest = env assignments
    local label="$1" dir="$2"; shift 2
    local start end log rc=0
    start=$(date +%s.%N)
    log="$(mktemp)"
    env "$@" ctest --test-dir "$dir" --output-on-failure -j "$JOBS" >"$log" 2>&1 || rc=$?
    end=$(date +%s.%N)
    local secs
    secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')
    local counts
    counts=$(grep -E 'tests passed' "$log" || echo "no ctest summary")
    if [[ $rc -ne 0 ]]; then
        cat "$log"
        summary+=("FAIL  $label: $counts (${secs}s)")
        failed=1
    else
        grep -E 'Not Run|Skipped' "$log" || true
        summary+=("ok    $label: $counts (${secs}s)")
    fi
    rm -f "$log"
    echo "$label: $counts (${secs}s)"
}

# ---------------------------------------------------------------- (a) host
if ! command -v cmake >/dev/null || ! command -v ctest >/dev/null; then
    echo "FAIL: cmake/ctest not found (apt-get install cmake)" >&2
    exit 1
fi
echo "== host build ($OUT/host)"
host_ok=1
if cmake -S "$ROOT" -B "$OUT/host" -DCMAKE_BUILD_TYPE=Release -DKERNELS_NATIVE_TESTS=ON >"$OUT/host-configure.log" 2>&1 \
   && cmake --build "$OUT/host" -j "$JOBS" >"$OUT/host-build.log" 2>&1; then
    :
else
    cat "$OUT/host-configure.log" "$OUT/host-build.log" 2>/dev/null || true
    summary+=("FAIL  host: build failed")
    failed=1
    host_ok=0
fi
rm -f "$OUT/host-configure.log" "$OUT/host-build.log"
if [[ $host_ok -eq 1 ]]; then
    if grep -q '^SIMDE_INCLUDE_DIR:PATH=.*NOTFOUND' "$OUT/host/CMakeCache.txt"; then
        missing "host NEON kernels (SIMDe)" "simde/arm/neon.h not found (apt-get install libsimde-dev)"
    fi
    run_ctest "host x86_64" "$OUT/host"
fi

# ---------------------------------------------------------------- (b) aarch64 under qemu
cross_missing=""
command -v aarch64-linux-gnu-gcc >/dev/null || cross_missing="aarch64-linux-gnu-gcc not found (apt-get install gcc-aarch64-linux-gnu)"
if [[ -z "$cross_missing" ]] && ! command -v qemu-aarch64 >/dev/null; then
    cross_missing="qemu-aarch64 not found (apt-get install qemu-user)"
fi
if [[ -z "$cross_missing" ]] && [[ ! -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]; then
    cross_missing="aarch64 sysroot /usr/aarch64-linux-gnu missing (apt-get install libc6-dev-arm64-cross)"
fi
if [[ -z "$cross_missing" ]]; then
    cpus="$(qemu-aarch64 -cpu help 2>/dev/null || true)"
    for cpu in max neoverse-n1 cortex-a53; do
        if ! grep -qw -- "$cpu" <<<"$cpus"; then
            cross_missing="qemu-aarch64 does not know CPU model $cpu (need qemu-user >= 7.1)"
            break
        fi
    done
fi

if [[ -n "$cross_missing" ]]; then
    missing "aarch64 (qemu)" "$cross_missing"
else
    echo "== aarch64 cross build ($OUT/aarch64)"
    if cmake -S "$ROOT" -B "$OUT/aarch64" -DCMAKE_BUILD_TYPE=Release -DKERNELS_NATIVE_TESTS=ON \
             -DCMAKE_TOOLCHAIN_FILE="$ROOT/native/cmake/aarch64-linux-gnu.cmake" >"$OUT/a64-configure.log" 2>&1 \
       && cmake --build "$OUT/aarch64" -j "$JOBS" >"$OUT/a64-build.log" 2>&1; then
        rm -f "$OUT/a64-configure.log" "$OUT/a64-build.log"
        run_ctest "aarch64 qemu max" "$OUT/aarch64" QEMU_CPU=max KN_EXPECT_DOTPROD=1
        run_ctest "aarch64 qemu neoverse-n1" "$OUT/aarch64" QEMU_CPU=neoverse-n1 KN_EXPECT_DOTPROD=1
        run_ctest "aarch64 qemu cortex-a53" "$OUT/aarch64" QEMU_CPU=cortex-a53 KN_EXPECT_DOTPROD=0
    else
        cat "$OUT/a64-configure.log" "$OUT/a64-build.log" 2>/dev/null || true
        rm -f "$OUT/a64-configure.log" "$OUT/a64-build.log"
        summary+=("FAIL  aarch64: cross build failed")
        failed=1
    fi
fi

echo
echo "== native test summary"
printf '  %s\n' "${summary[@]}"
if [[ $failed -ne 0 ]]; then
    echo "native tests: FAILED"
    exit 1
fi
echo "native tests: OK"
