#!/usr/bin/env bash
# Builds veer (installing missing Debian packages first).
#
# usage: scripts/build.sh [--sanitize | --tsan] [-- EXTRA_CMAKE_ARGS...]
#
#   default      RelWithDebInfo build in build/
#   --sanitize   RelWithDebInfo build with ASan+UBSan (VEER_SANITIZE=ON) in build-san/
#   --tsan       RelWithDebInfo build with ThreadSanitizer (VEER_SANITIZE_THREAD=ON) in build-tsan/
#
# Works from any directory. Artifacts: DIR/lib/libveer.so, DIR/bin/veer,
# DIR/bin/tcp-* (lab programs) and the test binaries in DIR/bin.
set -euo pipefail

log() { printf 'build: %s\n' "$*"; }
die() {
  printf 'build: error: %s\n' "$*" >&2
  exit 1
}

sanitize=0
tsan=0
extra_cmake_args=()
while (($# > 0)); do
  case "$1" in
    --sanitize) sanitize=1 ;;
    --tsan) tsan=1 ;;
    --)
      shift
      extra_cmake_args=("$@")
      break
      ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument '$1' (try --help)" ;;
  esac
  shift
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

bash scripts/install-deps.sh

((sanitize && tsan)) && die "--sanitize and --tsan are separate builds; pick one"
sanitize_flag=OFF
tsan_flag=OFF
if ((sanitize)); then
  build_dir=build-san
  sanitize_flag=ON
elif ((tsan)); then
  build_dir=build-tsan
  tsan_flag=ON
else
  build_dir=build
fi

# A directory configured earlier with another generator cannot be reused with
# -G Ninja; say so instead of letting cmake print a confusing error.
cache="$build_dir/CMakeCache.txt"
if [[ -f "$cache" ]]; then
  generator="$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")"
  if [[ -n "$generator" && "$generator" != Ninja ]]; then
    die "$build_dir/ was configured with the '$generator' generator; remove it (rm -rf $repo_root/$build_dir) and run again"
  fi
fi

jobs="$(nproc 2>/dev/null || echo 2)"

log "configuring $build_dir/ (RelWithDebInfo, VEER_SANITIZE=$sanitize_flag, VEER_SANITIZE_THREAD=$tsan_flag)"
cmake -S . -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVEER_SANITIZE="$sanitize_flag" \
  -DVEER_SANITIZE_THREAD="$tsan_flag" \
  "${extra_cmake_args[@]}"

log "building $build_dir/ with $jobs jobs"
cmake --build "$build_dir" -j"$jobs"

log "done: $repo_root/$build_dir"
