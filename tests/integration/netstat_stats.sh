#!/usr/bin/env bash
# `veer netstat -s` shows a running veer process's counters in netstat's
# wording and groups, matching what happened: active opens (one refused),
# passive opens, segments and resets; --json for scripts; the view of a
# killed process is removed, and a view of another veer version is skipped
# with a note.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg kserver "$IT_BIN/tcp-single-server"
wait_for_output kserver "listening"

start_fed lines "$VEER" run -- "$IT_BIN/connect_lines"
wait_for_output lines "ready"
feed lines "10.77.0.1 18000"
wait_for_output lines "connect 10\.77\.0\.1:18000: ok"
feed lines "10.77.0.1 18001"
wait_for_output lines "connect 10\.77\.0\.1:18001: Connection refused"
wait_for_output kserver "received 'c'"
pid=$(VEER_ONLY=1 ns_pid connect_lines)
sleep 0.2  # the view is rewritten at most every 20 ms

in_ns "$VEER" netstat -s -p "$pid" >"$WORK/stats"
expect_in "$WORK/stats" "^veer process connect_lines, pid $pid:$"
for group in Ip Icmp Tcp TcpExt Arp Link; do expect_in "$WORK/stats" "^$group:$"; done
expect_in "$WORK/stats" "^    2 active connection openings$"
expect_in "$WORK/stats" "^    0 passive connection openings$"
expect_in "$WORK/stats" "^    1 failed connection attempts$"
expect_in "$WORK/stats" "^    1 TCP resets received$"
expect_in "$WORK/stats" "^    1 ARP requests sent$"
# SYN, SYN-ACK-ACK, data, FIN, ... : both ways, at least the handshakes.
recv=$(grep -oE "^    [0-9]+ TCP segments received$" "$WORK/stats" | awk '{print $1}')
sent=$(grep -oE "^    [0-9]+ TCP segments sent out$" "$WORK/stats" | awk '{print $1}')
[ "${recv:-0}" -ge 3 ] && [ "${sent:-0}" -ge 4 ] ||
  fail "segments received $recv, sent $sent: expected at least 3 and 4"
in_ns "$VEER" netstat -s --json >"$WORK/json"
expect_in "$WORK/json" "\"pid\":$pid,\"program\":\"connect_lines\""
expect_in "$WORK/json" "\"tcp_active_opens\":2,"
expect_in "$WORK/json" "\"total\":\{\"Ip\":\{"
log "netstat -s: 2 active opens, 1 failed, $recv segments in, $sent out"

# Killed: the next veer netstat removes its view and control socket.
[ -e "/dev/shm/veer.$pid" ] && [ -S "/dev/shm/veer.$pid.ctl" ] ||
  fail "no view or control socket for $pid"
kill -9 "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
in_ns "$VEER" netstat -s >/dev/null
[ ! -e "/dev/shm/veer.$pid" ] && [ ! -e "/dev/shm/veer.$pid.ctl" ] ||
  fail "the files of the killed process $pid were not removed"
if in_ns "$VEER" netstat -s -p "$pid" >"$WORK/gone.out" 2>&1; then fail "netstat -p of a dead pid succeeded"; fi
expect_in "$WORK/gone.out" "no view of process $pid \(no such process\)"

# A server under veer: passive opens.
start_bg server "$VEER" run -- "$IT_BIN/tcp-single-server" 18005
wait_for_output server "listening"
in_ns timeout 10 "$IT_BIN/tcp-single-client" 10.77.0.2 A 18005 >/dev/null
in_ns timeout 10 "$IT_BIN/tcp-single-client" 10.77.0.2 B 18005 >/dev/null
wait_for_output server "received 'B'"
sleep 0.2
spid=$(VEER_ONLY=1 ns_pid tcp-single-serv)
in_ns "$VEER" netstat -s -p "$spid" >"$WORK/server-stats"
expect_in "$WORK/server-stats" "^    2 passive connection openings$"
expect_in "$WORK/server-stats" "^    0 active connection openings$"

# A view of another veer version, for a live process: skipped, said so.
start_bg sleeper sleep 30
sleeper=$(ns_pid sleep)
printf 'veerss01' >"/dev/shm/veer.$sleeper"
head -c 4096 /dev/zero >>"/dev/shm/veer.$sleeper"
chmod 600 "/dev/shm/veer.$sleeper"
in_ns "$VEER" netstat -s >"$WORK/mixed" 2>"$WORK/mixed.err" || fail "netstat -s failed beside a foreign view"
rm -f "/dev/shm/veer.$sleeper"
expect_in "$WORK/mixed.err" "/dev/shm/veer.$sleeper \(pid $sleeper\) is from another veer version; skipped"
expect_in "$WORK/mixed" "^veer process tcp-single-serv, pid $spid:$"
log "PASS: veer netstat -s counts what happened, per process; stale and foreign views handled"
