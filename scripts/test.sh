#!/usr/bin/env bash
# The test command: builds the sanitized build and runs every test.
#
# usage: sudo scripts/test.sh [EXTRA_CTEST_ARGS...]
#
#   1. clang-format check of every tracked *.c, *.cpp, *.h file
#   2. scripts/build.sh --sanitize            (ASan+UBSan build in build-san/)
#   3. ctest --test-dir build-san --output-on-failure --timeout 600
#      (all labels: `unit` and `integration`; extra arguments go to ctest,
#      e.g. `-L unit` or `-R Tcp`)
#   4. scripts/build.sh --tsan and the same ctest run in build-tsan/: the
#      engine's I/O thread and the program's threads under ThreadSanitizer
#      (VEER_TEST_TSAN=0 skips this pass)
#   5. scripts/build.sh (the plain build/ a user runs) and its integration
#      tests: what users get, and the programs that cannot start under a
#      preloaded sanitizer runtime at all (curl, wget), which the sanitizer
#      passes leave to this one (VEER_TEST_PLAIN=0 skips it)
#
# Needs root: the integration tests create TAP/veth devices in network
# namespaces of their own. Exits non-zero if formatting, the build or any
# test fails. VEER_TEST_TOTAL_TIMEOUT (seconds, default 3600) bounds ctest.
set -euo pipefail

log() { printf 'test: %s\n' "$*"; }
die() {
  printf 'test: error: %s\n' "$*" >&2
  exit 1
}

case "${1:-}" in
  -h | --help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    exit 0
    ;;
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

if [[ "$(id -u)" != 0 ]]; then
  die "the test suite must run as root: the integration tests create network
  namespaces, TAP and veth devices (they never touch the host's own interfaces).
  Run:  sudo $0"
fi

# ---------------------------------------------------------------- formatting
format_check() {
  command -v clang-format >/dev/null 2>&1 || bash scripts/install-deps.sh
  command -v git >/dev/null 2>&1 || die "git is needed to list the tracked files"

  local files=()
  # safe.directory: a root user checking a clone owned by someone else.
  mapfile -d '' files < <(git -c safe.directory="$repo_root" ls-files -z -- '*.c' '*.cpp' '*.h')
  if ((${#files[@]} == 0)); then
    log "format: no tracked C/C++ files (is this a git clone?)"
    return 1
  fi

  local bad=() f
  for f in "${files[@]}"; do
    [[ -f "$f" ]] || continue # deleted in the working tree, not yet committed
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
      bad+=("$f")
    fi
  done

  if ((${#bad[@]} == 0)); then
    log "format: ${#files[@]} files checked, all formatted ($(clang-format --version | head -n1))"
    return 0
  fi

  log "format: ${#bad[@]} of ${#files[@]} files are not clang-formatted:"
  for f in "${bad[@]}"; do
    printf '  %s\n' "$f"
  done
  for f in "${bad[@]}"; do
    printf -- '--- diff for %s (first 40 lines)\n' "$f"
    diff -u "$f" <(clang-format "$f") | sed -n '3,42p' || true
  done
  log "format: fix with:  clang-format -i ${bad[*]}"
  return 1
}

format_status=0
format_check || format_status=1

# ------------------------------------------------------------- build + tests
# UBSan reports with stack traces (the caller's own setting wins; a test's
# ENVIRONMENT property wins over both). UBSan errors are fatal anyway
# (-fno-sanitize-recover), ASan keeps its defaults (leak checking on).
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
total_timeout="${VEER_TEST_TOTAL_TIMEOUT:-3600}"
logs=()
trap 'rm -f "${logs[@]}"' EXIT

# flag, build dir, name, and the labels the pass runs (all: every label).
passes=("--sanitize build-san ASan+UBSan all")
if [[ "${VEER_TEST_TSAN:-1}" != 0 ]]; then
  passes+=("--tsan build-tsan ThreadSanitizer all")
fi
if [[ "${VEER_TEST_PLAIN:-1}" != 0 ]]; then
  passes+=("--plain build plain integration")
fi

total_passed=0
total_failed=0
ctest_status=0
summaries=()
for pass in "${passes[@]}"; do
  read -r flag dir name labels <<<"$pass"
  build_args=("$flag")
  [[ "$flag" == --plain ]] && build_args=()
  if ! bash scripts/build.sh "${build_args[@]}"; then
    die "the $name build failed (see above)"
  fi
  label_args=()
  [[ "$labels" != all ]] && label_args=(-L "$labels")
  log_file="$(mktemp -t veer-ctest.XXXXXX)"
  logs+=("$log_file")
  log "running ctest in $dir/ ($name; ${*:-all labels})"
  set +e
  # stdin from /dev/null: a test must never wait for a keyboard (CI has none).
  timeout --kill-after=30 "$total_timeout" \
    ctest --test-dir "$dir" --output-on-failure --timeout 600 --no-tests=error "${label_args[@]}" "$@" \
    </dev/null 2>&1 | tee "$log_file"
  status=${PIPESTATUS[0]}
  set -e
  line="$(grep -E '^[0-9]+% tests passed' "$log_file" | tail -n1 || true)"
  if ((status == 124 || status == 137)); then
    summaries+=("$name: KILLED after ${total_timeout}s (VEER_TEST_TOTAL_TIMEOUT)")
  elif [[ -n "$line" ]]; then
    summaries+=("$name: $line")
    failed="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")"
    total="$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")"
    total_failed=$((total_failed + failed))
    total_passed=$((total_passed + total - failed))
  else
    summaries+=("$name: exit status $status (no summary line; see output above)")
  fi
  ((status == 0)) || ctest_status=1
done

# ------------------------------------------------------------------- summary
echo
log "================ summary ================"
for line in "${summaries[@]}"; do
  log "ctest $line"
done
if ((format_status == 0)); then
  log "format: ok"
else
  log "format: FAILED (files listed above)"
fi
if ((ctest_status != 0 || format_status != 0)); then
  log "FAILED"
  echo "tests: $total_passed passed, $total_failed failed"
  exit 1
fi
log "PASSED"
echo "tests: $total_passed passed, $total_failed failed"
