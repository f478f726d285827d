#!/usr/bin/env bash
# `veer compare` on every scenario in tests/compare/: each must end in MATCH
# (documented differences, README "Differences from Linux", allowed). The
# harness makes and removes its own namespaces; this test only runs it.
set -euo pipefail
: "${IT_BIN:?IT_BIN must name the bin directory of the build}"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root"; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="$(mktemp -d /tmp/veer-it-compare.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
failed=()
for scn in "$HERE"/../compare/*.scn; do
  name=$(basename "$scn" .scn)
  start=$SECONDS
  export COMPARE_NS_TAG="it$$-$name"
  # Timing is compared within tolerances; a loaded machine (a sanitizer
  # build, a busy CI host) may push one run past them: one retry, and the
  # first run's differences are shown.
  if timeout 120 "$IT_BIN/veer" compare "$scn" >"$OUT/$name.out" 2>&1; then
    echo "[$(date +%T)] $name: $(tail -n 1 "$OUT/$name.out") ($((SECONDS - start)) s)"
  elif echo "[$(date +%T)] $name: differs on the first run, once more:" &&
    { grep -A 12 '^DIFFERENCES' "$OUT/$name.out" || tail -n 12 "$OUT/$name.out"; } &&
    timeout 120 "$IT_BIN/veer" compare "$scn" >"$OUT/$name.out" 2>&1; then
    echo "[$(date +%T)] $name: $(tail -n 1 "$OUT/$name.out") on the second run ($((SECONDS - start)) s)"
  else
    echo "[$(date +%T)] $name: FAILED ($((SECONDS - start)) s)"
    cat "$OUT/$name.out"
    failed+=("$name")
  fi
  # The harness removes what it made: no namespace of its own is left.
  left=$(ip netns list | awk -v tag="$COMPARE_NS_TAG" '$1 ~ ("^vc-(peer|prog)-" tag "$") {print $1}')
  if [ -n "$left" ]; then
    echo "FAIL: $name left a namespace: $left"
    exit 1
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAIL: ${failed[*]}"
  exit 1
fi
echo "PASS: every scenario matches the kernel"
