#!/usr/bin/env bash
# The veer demo: unmodified lab programs talk TCP over veer, and you can watch
# the packets with tcpdump.
#
# usage: sudo scripts/demo.sh [--keep] [--netns] [--no-build]
#
#   Builds veer (build/), runs `veer net up` (TAP veer0: the kernel side is
#   10.77.0.1/24, veer answers as 10.77.0.2), captures veer0 with tcpdump, then
#     1. tcp-single-server runs under veer; a plain kernel client sends 'A'
#     2. tcp-single-server runs in the kernel; tcp-single-client under veer
#        sends 'B'
#   and prints what happened and the capture (handshake, data, FIN, with the
#   checksums tcpdump verified). Finally `veer net down`.
#
#   --keep      leave veer0 up afterwards (look at it: tcpdump -i veer0 -nn)
#   --netns     run everything in a throwaway network namespace `veer-demo`
#               instead of the root namespace (removed at the end unless --keep)
#   --no-build  use the existing build/ as it is
#
# Needs root (creating a TAP device). Every step is bounded in time; the
# script cleans up after itself on any exit, including Ctrl-C.
set -euo pipefail

readonly TAP=veer0
readonly KERNEL_IP=10.77.0.1
readonly VEER_IP=10.77.0.2
readonly PORT=18000
readonly NETNS=veer-demo
# Only what the demo is about: IPv6 router solicitations and the like that the
# kernel sends on a fresh interface would only clutter the capture.
readonly CAPTURE_FILTER="arp or icmp or tcp port $PORT"

log() { printf 'demo: %s\n' "$*"; }
warn() { printf 'demo: warning: %s\n' "$*" >&2; }
die() {
  printf 'demo: error: %s\n' "$*" >&2
  exit 1
}

keep=0
use_netns=0
do_build=1
in_netns=0
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    --netns) use_netns=1 ;;
    --no-build) do_build=0 ;;
    --in-netns) in_netns=1 ;; # internal: the re-executed script inside the namespace
    -h | --help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
self="$repo_root/scripts/demo.sh"
VEER="$repo_root/build/bin/veer"
SERVER="$repo_root/build/bin/tcp-single-server"
CLIENT="$repo_root/build/bin/tcp-single-client"

if [[ "$(id -u)" != 0 ]]; then
  die "the demo needs root: \`veer net up\` creates the TAP device $TAP.
  Run:  sudo $0 $*"
fi

if ((do_build)); then
  bash scripts/build.sh || die "the build failed (see above)"
fi
for bin in "$VEER" "$SERVER" "$CLIENT" "$repo_root/build/lib/libveer.so"; do
  [[ -e "$bin" ]] || die "missing $bin; build first (scripts/build.sh)"
done
command -v ip >/dev/null 2>&1 || die "'ip' not found (package iproute2; scripts/install-deps.sh)"

# ------------------------------------------------------------ --netns: outer
# Create the namespace, run this same script inside it, remove it afterwards.
netns_exists() { [[ -e "/run/netns/$NETNS" ]]; }

inner_pid=""
netns_cleanup() {
  local status=$?
  set +e
  trap - INT TERM
  if [[ -n "$inner_pid" ]] && kill -0 "$inner_pid" 2>/dev/null; then
    # Interrupted: let the demo inside clean up after itself first.
    kill -TERM "$inner_pid" 2>/dev/null
    local tries=150
    while ((tries-- > 0)) && kill -0 "$inner_pid" 2>/dev/null; do
      sleep 0.1
    done
  fi
  if ((keep)); then
    log "namespace $NETNS kept (with $TAP in it). Look:  ip netns exec $NETNS tcpdump -i $TAP -nn"
    log "remove it with:  ip netns del $NETNS"
  elif netns_exists; then
    # Anything still running in our throwaway namespace was started by us.
    local pid
    for pid in $(ip netns pids "$NETNS" 2>/dev/null); do
      kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.3
    for pid in $(ip netns pids "$NETNS" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null
    done
    ip netns del "$NETNS" || warn "could not delete namespace $NETNS (ip netns del $NETNS)"
  fi
  exit "$status"
}

if ((use_netns && !in_netns)); then
  if netns_exists; then
    if [[ -n "$(ip netns pids "$NETNS" 2>/dev/null)" ]]; then
      die "namespace $NETNS exists and processes run in it ($(ip netns pids "$NETNS" | tr '\n' ' ')); stop them or remove it: ip netns del $NETNS"
    fi
    log "removing namespace $NETNS left over from an earlier run"
    ip netns del "$NETNS"
  fi
  ip netns add "$NETNS" || die "could not create namespace $NETNS"
  trap netns_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  log "running the demo inside the network namespace $NETNS"
  inner_args=(--in-netns --no-build)
  ((keep)) && inner_args+=(--keep)
  # In the background and waited for, so that a signal to this script runs
  # netns_cleanup at once.
  timeout -k 10 300 ip netns exec "$NETNS" bash "$self" "${inner_args[@]}" &
  inner_pid=$!
  status=0
  wait "$inner_pid" || status=$?
  ((status != 124)) || warn "the demo inside $NETNS took longer than 300 s and was stopped"
  exit "$status"
fi

# ------------------------------------------------------------------- the demo
tmp="$(mktemp -d -t veer-demo.XXXXXX)"
bg_pids=()
net_up=0
capture="$tmp/tcpdump.txt"
capture_pid=""

# Starts a command in the background, bounded by `timeout`, with stdout and
# stderr in OUT (or stderr in ERR). `timeout` puts it in a process group of
# its own, so stop_bg can stop it together with everything it started.
# Sets bg_pid.
bg_pid=""
start_bg() {
  local out="$1" err="$2"
  shift 2
  if [[ "$err" == - ]]; then
    timeout -k 3 180 "$@" </dev/null >"$out" 2>&1 &
  else
    timeout -k 3 180 "$@" </dev/null >"$out" 2>"$err" &
  fi
  bg_pid=$!
  bg_pids+=("$bg_pid")
}

# Stops a process started by start_bg (and forgets it, so a recycled pid is
# never signalled later).
stop_bg() {
  local pid="$1" p rest=()
  for p in "${bg_pids[@]}"; do
    [[ "$p" == "$pid" ]] || rest+=("$p")
  done
  bg_pids=("${rest[@]}")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  trap - INT TERM
  local pid
  for pid in "${bg_pids[@]}"; do
    stop_bg "$pid"
  done
  if ((net_up)); then
    if ((keep)); then
      if ((!in_netns)); then
        log "$TAP kept up (--keep). Watch it:  tcpdump -i $TAP -nn -vv"
        log "take it down with:  $VEER net down"
      fi
    else
      timeout --foreground -k 5 20 "$VEER" net down >"$tmp/net-down.txt" 2>&1 ||
        warn "\`veer net down\` failed: $(cat "$tmp/net-down.txt")"
    fi
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints the message, the given output files and the capture so far; exits 1.
fail() {
  local msg="$1" f
  shift
  printf '\ndemo: FAILED: %s\n' "$msg" >&2
  for f in "$@" "$capture"; do
    [[ -s "$f" ]] || continue
    printf -- '---- %s (last 40 lines)\n' "$(basename "$f")" >&2
    tail -n 40 "$f" >&2
  done
  exit 1
}

# wait_for SECONDS FILE PATTERN [PID]: polls FILE for the fixed string
# PATTERN; gives up early when PID has exited.
wait_for() {
  local tries=$(($1 * 10)) file="$2" pattern="$3" pid="${4:-}"
  while ((tries-- > 0)); do
    grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      grep -qF -- "$pattern" "$file" 2>/dev/null
      return
    fi
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- preflight
if ((in_netns)); then
  ip link set lo up
fi
if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Hltn "sport = :$PORT" 2>/dev/null)" ]]; then
  die "TCP port $PORT is already in use in the kernel (ss -ltn 'sport = :$PORT'); stop that program or run with --netns"
fi
if [[ -e "/sys/class/net/$TAP" ]]; then
  # A TAP has carrier exactly while some process has it open.
  if [[ "$(cat "/sys/class/net/$TAP/carrier" 2>/dev/null || echo 0)" == 1 ]]; then
    die "$TAP exists and a program has it open (a running veer program?); stop it, or run with --netns"
  fi
  log "$TAP already exists (left by --keep?); recreating it"
  timeout --foreground -k 5 20 "$VEER" net down || die "\`veer net down\` failed"
fi

# ------------------------------------------------------------------- net up
log "veer net up"
net_up=1 # from here on, cleanup takes it down (also if `net up` half-worked)
timeout --foreground -k 5 20 "$VEER" net up || die "\`veer net up\` failed"
addr="$(ip -br addr show dev "$TAP" 2>/dev/null || true)"
[[ -n "$addr" ]] || die "\`veer net up\` succeeded but there is no $TAP"
grep -qF "$KERNEL_IP/24" <<<"$addr" || die "$TAP has no $KERNEL_IP/24 after \`veer net up\`: $addr"
log "$TAP: $(tr -s ' ' <<<"$addr")   (veer answers as $VEER_IP)"

# ------------------------------------------------------------------ tcpdump
if command -v tcpdump >/dev/null 2>&1; then
  start_bg "$capture" "$tmp/tcpdump.err" tcpdump -i "$TAP" -nn -vv -l "$CAPTURE_FILTER"
  capture_pid="$bg_pid"
  if ! wait_for 5 "$tmp/tcpdump.err" "listening on" "$capture_pid"; then
    warn "tcpdump did not start; going on without a capture: $(cat "$tmp/tcpdump.err")"
    stop_bg "$capture_pid"
    capture_pid=""
    : >"$capture"
  fi
else
  warn "tcpdump not installed; no capture (scripts/install-deps.sh installs it)"
fi

# ------------------------------------------- 1. server over veer, kernel client
echo
log "step 1: tcp-single-server under veer (veer run -- tcp-single-server), a kernel client connects"
s1_out="$tmp/1-veer-server.txt"
c1_out="$tmp/1-kernel-client.txt"
start_bg "$s1_out" - "$VEER" run -- "$SERVER"
s1_pid="$bg_pid"
if ! wait_for 5 "$s1_out" "listening on" "$s1_pid"; then
  kill -0 "$s1_pid" 2>/dev/null ||
    fail "tcp-single-server under veer exited before listening" "$s1_out"
  warn "tcp-single-server under veer has not said 'listening on' after 5 s; trying to connect anyway"
fi

connected=0
for attempt in {1..10}; do
  if timeout --foreground -k 2 5 "$CLIENT" "$VEER_IP" A </dev/null >"$c1_out" 2>&1; then
    connected=1
    break
  fi
  kill -0 "$s1_pid" 2>/dev/null || break
  ((attempt < 10)) || break
  log "  kernel client: attempt $attempt failed ($(tr '\n' ' ' <"$c1_out")); retrying"
  sleep 0.5
done
((connected)) ||
  fail "a kernel client could not connect to $VEER_IP:$PORT (the server under veer)" "$c1_out" "$s1_out"
wait_for 5 "$s1_out" "received 'A'" "$s1_pid" ||
  fail "the server under veer did not print \"received 'A'\"" "$c1_out" "$s1_out"
s1_line="$(grep -m1 -F "received 'A'" "$s1_out")"
[[ "$s1_line" == *"from $KERNEL_IP:"* ]] ||
  fail "the server under veer got 'A' but not from the kernel side ($KERNEL_IP): $s1_line" "$s1_out"
stop_bg "$s1_pid"
log "  kernel client: $(head -n1 "$c1_out")"
log "  server:        $s1_line"

# ------------------------------------------- 2. kernel server, client over veer
echo
log "step 2: tcp-single-server in the kernel, tcp-single-client under veer (veer run -- tcp-single-client) connects"
s2_out="$tmp/2-kernel-server.txt"
c2_out="$tmp/2-veer-client.txt"
start_bg "$s2_out" - "$SERVER"
s2_pid="$bg_pid"
wait_for 5 "$s2_out" "listening on" "$s2_pid" ||
  fail "the kernel tcp-single-server did not start listening" "$s2_out"

connected=0
for attempt in {1..5}; do
  if timeout --foreground -k 2 15 "$VEER" run -- "$CLIENT" "$KERNEL_IP" B </dev/null >"$c2_out" 2>&1; then
    connected=1
    break
  fi
  ((attempt < 5)) || break
  log "  client under veer: attempt $attempt failed ($(tr '\n' ' ' <"$c2_out")); retrying"
  sleep 0.5
done
((connected)) ||
  fail "tcp-single-client under veer could not connect to the kernel at $KERNEL_IP:$PORT" "$c2_out" "$s2_out"
wait_for 5 "$s2_out" "received 'B'" "$s2_pid" ||
  fail "the kernel server did not print \"received 'B'\"" "$c2_out" "$s2_out"
s2_line="$(grep -m1 -F "received 'B'" "$s2_out")"
[[ "$s2_line" == *"from $VEER_IP:"* ]] ||
  fail "the kernel server got 'B' but not from veer ($VEER_IP), so the client did not go through veer: $s2_line" "$c2_out" "$s2_out"
stop_bg "$s2_pid"
log "  client under veer: $(grep -m1 -F "sent 'B'" "$c2_out" || head -n1 "$c2_out")"
log "  kernel server:     $s2_line"

# ------------------------------------------------------------------ capture
if [[ -n "$capture_pid" ]]; then
  sleep 1 # the last ACKs of the closes
  stop_bg "$capture_pid"
  echo
  echo "---- tcpdump -i $TAP -nn -vv '$CAPTURE_FILTER' ----"
  if [[ -s "$capture" ]]; then
    head -n 400 "$capture"
    lines=$(wc -l <"$capture")
    ((lines <= 400)) || echo "... ($((lines - 400)) more lines)"
  else
    echo "(nothing captured)"
  fi
  echo "----"
  grep -v '^[[:space:]]*$' "$tmp/tcpdump.err" | grep -v 'listening on' || true
fi

# ------------------------------------------------------------------ summary
echo
echo "What happened:"
echo "  1. tcp-single-server runs over veer at $VEER_IP:$PORT; a kernel client sent 'A';"
echo "     the server printed: $s1_line"
echo "  2. tcp-single-server runs in the kernel at $KERNEL_IP:$PORT; tcp-single-client over veer sent 'B';"
echo "     the server printed: $s2_line"
if [[ -n "$capture_pid" ]]; then
  n_tcp=$(grep -c "\.${PORT}[ :].*Flags \[" "$capture" || true)
  n_ok=$(grep -c 'cksum 0x[0-9a-f]* (correct)' "$capture" || true)
  n_bad=$(grep -c 'incorrect' "$capture" || true)
  echo "  3. tcpdump on $TAP saw $n_tcp TCP segments to or from port $PORT (the two handshakes, the data, the FINs);"
  if ((n_bad == 0)); then
    echo "     tcpdump checked $n_ok checksums and found all of them correct."
  else
    echo "     tcpdump found $n_bad INCORRECT checksum(s) ($n_ok correct); see the capture above."
    warn "incorrect checksums on $TAP"
  fi
fi
echo
log "demo passed"
