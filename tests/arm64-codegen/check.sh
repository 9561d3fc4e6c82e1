#!/usr/bin/env bash
# arm64 codegen check: compiles every method marked [Arm64Codegen] in Kernels.Cpu with the
# x64-hosted arm64 JIT (libclrjit_universal_arm64_x64.so from Microsoft.NETCore.App.Crossgen2.linux-x64)
# and fails unless each arm64 listing contains the expected instructions and no bl/blr call.
# Runs twice: with the dot-product extension and with DOTNET_EnableArm64Dp=0.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/artifacts/arm64-codegen"
listings="$out/listings"

echo "arm64 codegen: publishing the probe (self-contained linux-x64)..."
dotnet publish "$here/Arm64Codegen.csproj" -c Release -o "$out" -p:KernelsSkipNative=true -nologo -v quiet >"$out.publish.log" 2>&1 \
  || { cat "$out.publish.log"; echo "arm64 codegen: publish failed"; exit 1; }

runtime_version="$(sed -n 's/.*"Microsoft.NETCore.App\/\([0-9.]*\)".*/\1/p' "$out/Arm64Codegen.deps.json" | head -n 1)"
[ -n "$runtime_version" ] || runtime_version="$(ls "$out" | sed -n 's/^libcoreclr.so$//p')"
jit="$(ls -d "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/microsoft.netcore.app.crossgen2.linux-x64/*/tools/libclrjit_universal_arm64_x64.so 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$jit" ]; then
  echo "arm64 codegen: libclrjit_universal_arm64_x64.so not found (the PackageDownload of Microsoft.NETCore.App.Crossgen2.linux-x64 failed)"
  exit 1
fi
cp "$jit" "$out/"

mapfile -t entries < <("$out/Arm64Codegen" list)
if [ "${#entries[@]}" -eq 0 ]; then
  echo "arm64 codegen: no [Arm64Codegen] methods found"; exit 1
fi

mkdir -p "$listings"
failures=0
for dp in 1 0; do
  filter=""
  for e in "${entries[@]}"; do filter+="*${e%%$'\t'*} "; done
  raw="$listings/all-dp$dp.txt"
  DOTNET_TieredCompilation=0 DOTNET_AltJitName=libclrjit_universal_arm64_x64.so DOTNET_AltJit='*' \
    DOTNET_MaxVectorTBitWidth=128 DOTNET_EnableArm64Dp=$dp DOTNET_JitDisasm="${filter% }" \
    "$out/Arm64Codegen" compile >"$raw" 2>&1 || { echo "arm64 codegen: probe failed (dp=$dp)"; cat "$raw" | tail -20; exit 1; }

  for e in "${entries[@]}"; do
    IFS=$'\t' read -r method patterns needs_dp <<<"$e"
    name="${method//:/.}"
    listing="$listings/$name.dp$dp.s"
    # Keep only the arm64 listing of this method (the host JIT prints its x64 listing too).
    awk -v m=":${method#*:}(" -v t="${method%%:*}:" '
      /^; Assembly listing for method / { keep = (index($0, t) > 0 && index($0, m) > 0); arm = 0 }
      keep && /^; Emitting .*ARM64/ { arm = 1 }
      keep && /^; Emitting / && !/ARM64/ { keep = 0 }
      keep { buf = buf $0 "\n" }
      /^; Total bytes of code/ && keep && arm { printf "%s", buf; buf = ""; keep = 0 }
      /^; Assembly listing for method / && !keep { buf = "" }
    ' "$raw" >"$listing"
    if ! grep -q "ARM64" "$listing"; then
      echo "FAIL $method (dp=$dp): no arm64 listing produced"; failures=$((failures + 1)); continue
    fi
    ok=1
    IFS=';' read -ra pats <<<"$patterns"
    for p in "${pats[@]}"; do
      if ! grep -Eq "^[[:space:]]+($p)" "$listing"; then
        echo "FAIL $method (dp=$dp): expected instruction /$p/ not in listing ($listing)"; ok=0
      fi
    done
    calls="$(grep -Ec '^[[:space:]]+(bl|blr)[[:space:]]' "$listing" || true)"
    if [ "$calls" != "0" ]; then
      echo "FAIL $method (dp=$dp): $calls bl/blr call(s):"; grep -En '^[[:space:]]+(bl|blr)[[:space:]]' "$listing" | head -5; ok=0
    fi
    if [ "$needs_dp" = "1" ] && [ "$dp" = "1" ] && ! grep -Eq '^[[:space:]]+(sdot|udot)[[:space:]]' "$listing"; then
      echo "FAIL $method (dp=1): no sdot/udot with the dot-product extension on"; ok=0
    fi
    if [ "$ok" = 1 ]; then
      fmla="$(grep -Ec '^[[:space:]]+fmla[[:space:]]' "$listing" || true)"
      echo "ok   $method (dp=$dp): $(grep -Ec '^[[:space:]]+[a-z]' "$listing") instructions, $fmla fmla, no calls"
    else
      failures=$((failures + 1))
    fi
  done
done

if [ "$failures" -ne 0 ]; then
  echo "arm64 codegen: $failures failure(s); listings in $listings"
  exit 1
fi
echo "arm64 codegen: all ${#entries[@]} method(s) passed with and without the dot-product extension"
