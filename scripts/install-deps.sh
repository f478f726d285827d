#!/usr/bin/env bash
# Installs the Debian 12 packages veer needs to build, test and run its demo.
#
# usage: scripts/install-deps.sh [--check]
#
#   Only packages that are missing are installed; `apt-get update` runs once,
#   and only when something is missing. When everything is present the script
#   is a no-op that finishes in well under a second.
#
#   --check   only report missing packages (exit 1 if any), install nothing.
#
# Environment: VEER_SKIP_DEPS=1 skips the whole thing (for machines where the
# dependencies are managed some other way).
set -euo pipefail

PACKAGES=(
  build-essential
  cmake
  ninja-build
  pkg-config
  g++
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  liburing-dev
  libpcap-dev
  libnl-3-dev
  libnl-route-3-dev
  libxdp-dev
  libbpf-dev
  clang
  llvm
  iproute2
  tcpdump
  nftables
  netcat-openbsd
  socat
  curl
  telnet
  nginx-light
  redis-server
  redis-tools
  iperf3
  wrk
  clang-format
  procps
  python3
  libcairo2-dev
  libboost-dev
)

log() { printf 'install-deps: %s\n' "$*"; }
die() {
  printf 'install-deps: error: %s\n' "$*" >&2
  exit 1
}

check_only=0
for arg in "$@"; do
  case "$arg" in
    --check) check_only=1 ;;
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

if [[ "${VEER_SKIP_DEPS:-0}" == 1 ]]; then
  log "VEER_SKIP_DEPS=1: not checking packages"
  exit 0
fi

command -v dpkg-query >/dev/null 2>&1 ||
  die "dpkg-query not found: this script supports Debian 12 (and derivatives) only"

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} packages present"
  exit 0
fi

if ((check_only)); then
  log "missing: ${missing[*]}"
  exit 1
fi

if [[ "$(id -u)" != 0 ]]; then
  die "missing packages: ${missing[*]}
  Installing them needs root. Run:  sudo $0
  (or: sudo apt-get install ${missing[*]})"
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
apt_log="$(mktemp -t veer-apt.XXXXXX)"
trap 'rm -f "$apt_log"' EXIT

# Wait for a concurrently running apt/dpkg (e.g. unattended-upgrades on a
# fresh machine) instead of failing at once.
apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)

run_apt() {
  if ! apt-get "${apt_opts[@]}" "$@" >"$apt_log" 2>&1 </dev/null; then
    tail -n 40 "$apt_log" >&2
    die "'apt-get $*' failed (last lines above)"
  fi
}

log "missing: ${missing[*]}"
log "running apt-get update"
run_apt update -qq
log "installing: ${missing[*]}"
run_apt install -y -qq --no-install-recommends "${missing[@]}"

# Make sure it really worked (a package can be held or half-configured).
still_missing=()
for pkg in "${missing[@]}"; do
  is_installed "$pkg" || still_missing+=("$pkg")
done
((${#still_missing[@]} == 0)) || die "still not installed after apt-get: ${still_missing[*]}"
log "installed ${#missing[@]} package(s)"
