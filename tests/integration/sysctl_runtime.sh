#!/usr/bin/env bash
# `veer sysctl -p PID` shows and changes a running veer process's knobs, as
# `sysctl -w` changes the kernel's: a bad value or a knob fixed at start is
# refused with the registry's message and changes nothing; after
# tcp_syn_retries=1 (and linear timeouts 0) the process's next connect to a
# blackholed port gives up on Linux's 1-retry schedule (ETIMEDOUT at 3 s).
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg kserver "$IT_BIN/tcp-single-server"
wait_for_output kserver "listening"
start_fed lines "$VEER" run -- "$IT_BIN/connect_lines"
wait_for_output lines "ready"
feed lines "10.77.0.1 18000"  # starts the process's stack
wait_for_output lines "connect 10\.77\.0\.1:18000: ok"
pid=$(VEER_ONLY=1 ns_pid connect_lines)
sysctl() { in_ns "$VEER" sysctl "$@"; }

sysctl -p "$pid" -a --origin >"$WORK/all"
expect_in "$WORK/all" "^net\.ipv4\.tcp_syn_retries = 6  # default$"
expect_in "$WORK/all" "^address = 10\.77\.0\.2/24  # default$"

# Refused: nothing changes, the exit status (2) says so. Lines come in
# registry order.
refused() {
  local pattern=$1
  shift
  local rc=0
  sysctl -p "$pid" "$@" >"$WORK/refused.out" 2>&1 || rc=$?
  [ "$rc" -eq 2 ] || fail "veer sysctl -p $pid $* exited with $rc, expected 2 (refused)"
  expect_in "$WORK/refused.out" "$pattern"
}
refused "net\.ipv4\.tcp_syn_retries=300: out of range \(accepted: 1\.\.127\)" \
  net.ipv4.tcp_syn_linear_timeouts=0 net.ipv4.tcp_syn_retries=300
refused "address cannot change in a running process" address=10.77.0.9/24
refused "mtu cannot change in a running process" mtu=1400
refused "unknown key 'net\.ipv4\.tcp_syn_retrys' \(did you mean 'net\.ipv4\.tcp_syn_retries'\?\)" \
  net.ipv4.tcp_syn_retrys=1
refused "capture: /nonexistent/dir/x\.pcap: No such file or directory" capture=/nonexistent/dir/x.pcap
sysctl -p "$pid" -n net.ipv4.tcp_syn_linear_timeouts net.ipv4.tcp_syn_retries capture >"$WORK/unchanged"
[ "$(tr '\n' ' ' <"$WORK/unchanged")" = "6 4  " ] || fail "a refused change changed something: $(cat "$WORK/unchanged")"

# SYNs to 18002 are dropped by nftables.
in_ns nft -f - <<'NFT'
table inet veer_it {
  chain input {
    type filter hook input priority 0;
    tcp dport 18002 drop
  }
}
NFT
sysctl -p "$pid" net.ipv4.tcp_syn_retries=1 net.ipv4.tcp_syn_linear_timeouts=0 >"$WORK/set"
expect_in "$WORK/set" "^net\.ipv4\.tcp_syn_retries = 1$"
expect_in "$WORK/set" "^net\.ipv4\.tcp_syn_linear_timeouts = 0$"
sysctl -p "$pid" --origin net.ipv4.tcp_syn_retries >"$WORK/origin"
expect_in "$WORK/origin" "^net\.ipv4\.tcp_syn_retries = 1  # runtime$"
feed lines "10.77.0.1 18002"
wait_for_output lines "connect 10\.77\.0\.1:18002: " 20
expect_in "$WORK/lines.out" "connect 10\.77\.0\.1:18002: Connection timed out after [0-9.]+s"
took=$(grep -oE "18002: Connection timed out after [0-9.]+" "$WORK/lines.out" | grep -oE "[0-9.]+$")
if awk -v e="$took" 'BEGIN { exit !(e < 2.8 || e > 5.0) }'; then
  fail "ETIMEDOUT after ${took}s, expected about 3 s with tcp_syn_retries=1"
fi
log "after veer sysctl -p: ETIMEDOUT at ${took}s (1 retry)"

# A control message that is not one: the process answers with an error and
# goes on.
in_ns socat -t 2 - "UNIX-SENDTO:/dev/shm/veer.$pid.ctl,bind=$WORK/client.sock" \
  <<<"GET / HTTP/1.0" >"$WORK/garbage.out" 2>&1 || true
expect_in "$WORK/garbage.out" "^veer-control 1$"
expect_in "$WORK/garbage.out" "not a veer control message"
feed lines "10.77.0.1 18000"
wait_for_output lines "connect 10\.77\.0\.1:18000: ok.*" 5
[ "$(grep -c "18000: ok" "$WORK/lines.out")" -eq 2 ] || fail "the process stopped working after garbage"
log "PASS: veer sysctl -p shows, refuses and changes a running process's knobs"
