#!/usr/bin/env bash
# `veer compare SCENARIO`: runs a scenario from tests/compare/ twice with the
# same kernel peer at 10.77.0.1 — once with the program under test on the
# kernel stack (a namespace of its own joined to the peer's by a veth, at
# 10.77.0.2), once under `veer run` (the demo topology: TAP veer0) — captures
# at the peer's veer0, samples the socket states (ss / veer ss), and hands
# everything to compare.py, which prints the runs side by side and MATCH or
# the differences. Exit status: 0 MATCH, 1 differences, 2 usage or setup.
#
# Everything happens in namespaces made here and removed on any exit; every
# wait is bounded. Needs root. Set by `veer compare`: COMPARE_VEER (the veer binary),
# COMPARE_BIN_DIR (where tcp-steps is), COMPARE_SCENARIOS.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${COMPARE_VEER:?run through veer compare}"
: "${COMPARE_BIN_DIR:=$(dirname "$COMPARE_VEER")}"
: "${COMPARE_SCENARIOS:=$HERE/../../tests/compare}"
KEEP=0
ARGS=()
for a in "$@"; do
  case "$a" in
    -k | --keep) KEEP=1 ;;
    -*) echo "veer compare: unknown option $a" >&2; exit 2 ;;
    *) ARGS+=("$a") ;;
  esac
done
[ "${#ARGS[@]}" -eq 1 ] || { echo "usage: veer compare [-k] SCENARIO" >&2; exit 2; }
SCN="${ARGS[0]}"
if [ ! -f "$SCN" ]; then
  found=$(find "$COMPARE_SCENARIOS" -maxdepth 1 -name "$SCN*.scn" -o -maxdepth 1 -name "*-$SCN.scn" | sort | head -n1)
  [ -n "$found" ] || { echo "veer compare: no scenario '$SCN' in $COMPARE_SCENARIOS" >&2; exit 2; }
  SCN=$found
fi
[ "$(id -u)" -eq 0 ] || { echo "veer compare: needs root (network namespaces)" >&2; exit 2; }

# The scenario's settings (see tests/compare/README.md).
DESCRIPTION="" SYSCTLS="" PEER_SYSCTLS="" PEER="" PROG="" PEER_NFT="" PEER_NFT_OUTPUT="" LINK_MTU="" TAIL=0.5 TIMEOUT=30
CAPTURE_UNTIL=end
# shellcheck disable=SC1090
source "$SCN"
[ -n "$PROG" ] || { echo "veer compare: $SCN sets no PROG" >&2; exit 2; }

# veer's environment for SYSCTLS: VEER_SYSCTL, but a value with commas
# ("net.ipv4.ip_local_port_range=40016,40016") stands for one with spaces and
# goes in the knob's own variable (VEER_IP_LOCAL_PORT_RANGE="40016 40016").
VEER_ENV=()
plain=()
for kv in $SYSCTLS; do
  if [[ "$kv" == *,* ]]; then
    key=${kv%%=*}
    key=${key##*.}
    value=${kv#*=}
    VEER_ENV+=("VEER_${key^^}=${value//,/ }")
  else
    plain+=("$kv")
  fi
done
VEER_ENV+=("VEER_SYSCTL=${plain[*]}")
# The link's gso_max_segs, as the kernel run's veth has it (make_topology).
VEER_ENV+=("VEER_GSO_MAX_SEGS=1")
# The capture on veer0 compares segments as they leave: no TSO frames from
# veer (the kernel run sends one segment per skb too), no partial checksums.
VEER_ENV+=("VEER_TAP_OFFLOAD=0")

# MAX_TCP_HEADER of the running kernel, from its build config (include/net/
# tcp.h and netdevice.h): L1_CACHE_ALIGN(128 + MAX_HEADER), MAX_HEADER being
# LL_MAX_HEADER (128 with Hyper-V networking or 802.11s mesh, 96 with Wi-Fi
# or AX.25, else 32) plus 48 with IP tunnels. veer models the same skbs.
kernel_max_tcp_header() {
  local config ll=32 max shift
  config=$( (zcat /proc/config.gz || cat "/boot/config-$(uname -r)") 2>/dev/null) || return 0
  [ -n "$config" ] || return 0
  on() { grep -Eq "^CONFIG_$1=[ym]" <<<"$config"; }
  if on HYPERV_NET; then
    ll=128
  elif on WLAN || on AX25; then
    if on MAC80211_MESH; then ll=128; else ll=96; fi
  fi
  max=$ll
  if on NET_IPIP || on NET_IPGRE || on IPV6_SIT || on IPV6_TUNNEL; then max=$((ll + 48)); fi
  shift=$(sed -n 's/^CONFIG_X86_L1_CACHE_SHIFT=//p' <<<"$config")
  local line=$((1 << ${shift:-6}))
  echo $(((128 + max + line - 1) / line * line))
}
MAX_TCP_HEADER=$(kernel_max_tcp_header)
[ -z "$MAX_TCP_HEADER" ] || VEER_ENV+=("VEER_MAX_TCP_HEADER=$MAX_TCP_HEADER")

STEPS="$COMPARE_BIN_DIR/tcp-steps"
[ -x "$STEPS" ] || { echo "veer compare: $STEPS is missing (build the tcp-steps target)" >&2; exit 2; }
WORK="$(mktemp -d /tmp/veer-compare.XXXXXX)"
# COMPARE_NS_TAG names this run's namespaces (default: the pid), so that a
# caller can tell them from another run's.
PNS="vc-peer-${COMPARE_NS_TAG:-$$}"
KNS="vc-prog-${COMPARE_NS_TAG:-$$}"
BG=()

teardown() {
  for pid in "${BG[@]}"; do kill "$pid" 2>/dev/null || true; done
  BG=()
  for ns in "$PNS" "$KNS"; do
    # `ip netns pids` can fail while the namespace's processes exit: the
    # namespace goes in any case.
    [ -e "/run/netns/$ns" ] || continue
    { ip netns pids "$ns" 2>/dev/null || true; } | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
cleanup() {
  local rc=$?
  teardown
  "$COMPARE_VEER" ss >/dev/null 2>&1 || true  # removes the views of killed processes
  if [ "$KEEP" = 1 ]; then echo "veer compare: kept $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

die() { echo "veer compare: $*" >&2; exit 2; }

# Sets the peer's namespace up; in kernel mode also the program's namespace
# and the veth between them, named veer0 on the peer's side as the TAP is.
make_topology() {
  local mode=$1
  ip netns add "$PNS"
  ip -n "$PNS" link set lo up
  if [ "$mode" = kernel ]; then
    ip netns add "$KNS"
    ip -n "$KNS" link set lo up
    ip link add veer0 netns "$PNS" type veth peer name eth0 netns "$KNS"
    ip -n "$PNS" addr add 10.77.0.1/24 dev veer0
    ip -n "$KNS" addr add 10.77.0.2/24 dev eth0
    ip -n "$PNS" link set veer0 up
    ip -n "$KNS" link set eth0 up
    # One segment per skb (no GSO trains over the veth, which tcpdump would
    # show as one large segment and nftables would drop whole): the
    # program's side here, veer's gso_max_segs knob in the veer run.
    ip -n "$KNS" link set eth0 gso_max_segs 1
    # The kernel starts from veer's values (Linux's built-in defaults and the
    # scenario's SYSCTLS), not from whatever the host was tuned to: the
    # per-namespace net.ipv4 knobs veer has (net.core's are host-wide).
    local key _ value
    env "${VEER_ENV[@]}" "$COMPARE_VEER" sysctl -a | grep '^net\.ipv4\.' |
      while read -r key _ value; do
        [ -e "/proc/sys/${key//.//}" ] || continue
        [ "$(ip netns exec "$KNS" sysctl -n "$key" | tr -s '\t ' ' ')" = "$value" ] && continue
        if ip netns exec "$KNS" sysctl -qw "$key=$value" >/dev/null 2>&1; then
          echo "$key = $value"
        else
          echo "veer compare: the kernel refuses $key=$value; it keeps $(ip netns exec "$KNS" sysctl -n "$key")" >&2
        fi
      done >"$WORK/kernel-sysctls.out"
  else
    ip netns exec "$PNS" "$COMPARE_VEER" net up >"$WORK/net-up.out" 2>&1 || die "veer net up: $(cat "$WORK/net-up.out")"
  fi
  # The peer too sends one segment per skb, in both runs.
  ip -n "$PNS" link set veer0 gso_max_segs 1 || die "gso_max_segs"
  if [ -n "$LINK_MTU" ]; then
    # The link's MTU, at both ends: the veth's two sides in kernel mode; the
    # TAP, which veer's end takes its MTU from, in veer mode.
    ip -n "$PNS" link set veer0 mtu "$LINK_MTU" || die "mtu $LINK_MTU"
    [ "$mode" != kernel ] || ip -n "$KNS" link set eth0 mtu "$LINK_MTU" || die "mtu $LINK_MTU"
  fi
  for kv in $PEER_SYSCTLS; do ip netns exec "$PNS" sysctl -qw "$kv" || die "sysctl $kv"; done
  if [ -n "$PEER_NFT$PEER_NFT_OUTPUT" ]; then
    ip netns exec "$PNS" nft -f - <<NFT || die "nft rules"
table inet compare {
  chain input { type filter hook input priority 0; policy accept; $PEER_NFT }
  chain output { type filter hook output priority 0; policy accept; $PEER_NFT_OUTPUT }
}
NFT
  fi
}

# Samples the socket states every 100 ms into DIR/states.raw until killed or
# until the program's last step has returned (PROG_OUT holds STEPS results):
# states are compared while the program lives. A sample during which the last
# step returned is dropped, in both runs: veer's sockets end with its process
# (TIME-WAIT too) where the kernel's carry on, so such a sample may or may not
# still show the program's sockets.
sampler() {
  local mode=$1 out=$2 prog_out=$3 steps=$4 sample
  finished() { [ "$(grep -c ' = ' "$prog_out" 2>/dev/null)" -ge "$steps" ]; }
  while ! finished; do
    sample=$(
      echo "@ $(date +%s.%N)"
      if [ "$mode" = kernel ]; then
        ip netns exec "$KNS" ss -Htan | sed 's/^/prog /'
      else
        "$COMPARE_VEER" ss -a -p 2>/dev/null | tail -n +2 | sed 's/^/prog /'
      fi
      ip netns exec "$PNS" ss -Htan | sed 's/^/peer /'
    )
    finished && break
    echo "$sample" >>"$out"
    sleep 0.1
  done
}

wait_pid() {  # PID SECONDS: waits for PID, kills it after SECONDS
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -9 "$pid" 2>/dev/null || true
      echo "(killed after $2 s)" >>"$3"
      break
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
}

run_once() {
  local mode=$1 dir="$WORK/$1"
  mkdir -p "$dir"
  make_topology "$mode"
  ip netns exec "$PNS" tcpdump -i veer0 -B 16384 --immediate-mode -U -w "$dir/peer.pcap" tcp 2>"$dir/tcpdump.err" &
  local tcpdump=$!
  BG+=("$tcpdump")
  for _ in $(seq 50); do grep -q listening "$dir/tcpdump.err" 2>/dev/null && break; sleep 0.1; done
  : >"$dir/prog.out"
  sampler "$mode" "$dir/states.raw" "$dir/prog.out" "$(wc -w <<<"$PROG")" &
  local sampler_pid=$!
  BG+=("$sampler_pid")
  local peer_pid=""
  if [ -n "$PEER" ]; then
    # shellcheck disable=SC2086
    ip netns exec "$PNS" "$STEPS" $PEER >"$dir/peer.out" 2>&1 &
    peer_pid=$!
    BG+=("$peer_pid")
    if [[ " $PEER" =~ \ listen:([0-9]+) ]]; then
      local port=${BASH_REMATCH[1]}
      for _ in $(seq 50); do
        [ -n "$(ip netns exec "$PNS" ss -Hltn "sport = :$port")" ] && break
        sleep 0.1
      done
    fi
  fi
  date +%s.%N >"$dir/start"
  local prog
  if [ "$mode" = kernel ]; then
    # shellcheck disable=SC2086
    ip netns exec "$KNS" "$STEPS" $PROG >"$dir/prog.out" 2>&1 &
    prog=$!
  else
    # shellcheck disable=SC2086
    env "${VEER_ENV[@]}" ip netns exec "$PNS" "$COMPARE_VEER" run -- "$STEPS" $PROG >"$dir/prog.out" 2>&1 &
    prog=$!
    echo "$prog" >"$dir/prog.pid"
  fi
  BG+=("$prog")
  if [ "$CAPTURE_UNTIL" = prog ]; then
    # Until the program's last step has returned: under veer the process
    # lingers after main() (exit_linger_ms) where the kernel's orphan would.
    local steps deadline=$((SECONDS + TIMEOUT))
    steps=$(wc -w <<<"$PROG")
    while [ "$(grep -c ' = ' "$dir/prog.out")" -lt "$steps" ] && kill -0 "$prog" 2>/dev/null &&
      [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.02
    done
    kill "$sampler_pid" 2>/dev/null || true
    kill -INT "$tcpdump" 2>/dev/null || true
  fi
  wait_pid "$prog" "$TIMEOUT" "$dir/prog.out"
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  [ -z "$peer_pid" ] || wait_pid "$peer_pid" 10 "$dir/peer.out"
  [ "$CAPTURE_UNTIL" = prog ] || sleep "$TAIL"
  kill -INT "$tcpdump" 2>/dev/null || true
  wait "$tcpdump" 2>/dev/null || true
  if grep -q '^[1-9][0-9]* packets dropped by kernel' "$dir/tcpdump.err"; then
    echo "veer compare: $mode run: the capture is incomplete: $(grep 'dropped by kernel' "$dir/tcpdump.err")" >&2
  fi
  teardown
}

echo "veer compare: $(basename "$SCN" .scn): $DESCRIPTION" >&2
run_once kernel
run_once veer
python3 "$HERE/compare.py" --scenario "$SCN" "$WORK/kernel" "$WORK/veer"
