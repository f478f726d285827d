#!/usr/bin/env bash
# `veer compare` on every scenario in tests/compare/: each must end in MATCH
# (documented differences, README "Differences from Linux", allowed), except
# those listed in tests/compare/expectations.txt, which must still show their
# differences (a listed scenario that matches fails until it is unlisted).
# The harness makes and removes its own namespaces; this test only runs it.
set -euo pipefail
: "${IT_BIN:?IT_BIN must name the bin directory of the build}"
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root"; exit 1; }
HERE="$(cd "$(dirname "$0")" && pwd)"
EXPECTATIONS="$HERE/../compare/expectations.txt"
OUT="$(mktemp -d /tmp/veer-it-compare.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
failed=()
for scn in "$HERE"/../compare/*.scn; do
  name=$(basename "$scn" .scn)
  known=$(grep "^$name: " "$EXPECTATIONS" 2>/dev/null | cut -d' ' -f2- || true)
  start=$SECONDS
  export COMPARE_NS_TAG="it$$-$name"
  # Two runs of the scenario's TIMEOUT (default 30 s) and the set-up.
  limit=$(sed -n 's/^TIMEOUT=//p' "$scn")
  limit=$((2 * ${limit:-30} + 60))
  run_once() {
    rc=0
    timeout "$limit" "$IT_BIN/veer" compare "$scn" >"$OUT/$name.out" 2>&1 || rc=$?
  }
  run_once
  # Timing is compared within tolerances; a loaded machine (a sanitizer
  # build, a busy CI host) may push one run of a matching scenario past
  # them: one retry, and the first run's differences are shown.
  if [ "$rc" -ne 0 ] && [ -z "$known" ]; then
    echo "[$(date +%T)] $name: differs on the first run, once more:"
    grep -A 12 '^DIFFERENCES' "$OUT/$name.out" || tail -n 12 "$OUT/$name.out"
    run_once
  fi
  took=$((SECONDS - start))
  if [ "$rc" -eq 0 ] && [ -z "$known" ]; then
    echo "[$(date +%T)] $name: $(tail -n 1 "$OUT/$name.out") ($took s)"
  elif [ "$rc" -eq 1 ] && [ -n "$known" ]; then
    echo "[$(date +%T)] $name: known differences ($took s): $known"
  else
    echo "[$(date +%T)] $name: FAILED (exit $rc, $took s)"
    [ -z "$known" ] || echo "  listed in expectations.txt but matched: remove its line"
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
echo "PASS: every scenario matches the kernel or shows only its listed differences"
