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
  rc=0
  timeout 120 "$IT_BIN/veer" compare "$scn" >"$OUT/$name.out" 2>&1 || rc=$?
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
  # The harness removes what it made: no namespace is left whose maker
  # (vc-peer-PID, vc-prog-PID) has gone. Another `veer compare` may be
  # running on the machine: its namespaces have a live maker.
  for ns in $(ip netns list | awk '{print $1}' | grep -x 'vc-\(peer\|prog\)-[0-9][0-9]*' || true); do
    if ! kill -0 "${ns##*-}" 2>/dev/null; then
      echo "FAIL: $name left a namespace: $ns"
      exit 1
    fi
  done
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAIL: ${failed[*]}"
  exit 1
fi
echo "PASS: every scenario matches the kernel or shows only its listed differences"
