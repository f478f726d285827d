#!/usr/bin/env bash
# `veer ss` shows what a running veer process holds, like `ss -tan`: the
# listener with its process, an established connection with its keepalive
# timer, and a TIME-WAIT the program no longer holds, with its time left;
# --json for scripts; the view of a killed process is removed.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg redis "$VEER" run -- redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no \
  --protected-mode no --daemonize no
pid=$LAST_PID
wait_for_output redis "Ready to accept connections" 20
ss() { in_ns "$VEER" ss "$@"; }
ss -l -p >"$WORK/listen"
expect_in "$WORK/listen" "^LISTEN +0 +[0-9]+ +0\.0\.0\.0:6379 +0\.0\.0\.0:\* +users:\(\(\"redis-server\",pid=[0-9]+,fd=[0-9]+\)\)"

# A kernel client that stays connected (redis sets SO_KEEPALIVE, 300 s).
start_bg client sh -c "sleep 5 | socat - TCP:10.77.0.2:6379"
sleep 0.5
ss -o >"$WORK/estab"
expect_in "$WORK/estab" "^ESTAB +0 +0 +10\.77\.0\.2:6379 +10\.77\.0\.1:[0-9]+ .*timer:\(keepalive,4min[0-9]+sec,0\)"
ss -i >"$WORK/info"
expect_in "$WORK/info" "ts sack wscale:[0-9]+,[0-9]+ rto:[0-9]+ rtt:[0-9.]+/[0-9.]+ mss:1448"

# redis closes first on QUIT: its side goes to TIME-WAIT for 60 s. The
# client closes only after redis's FIN (redis-cli closes on the +OK, which
# can beat redis's close and leave redis the passive closer).
in_ns timeout 5 python3 -c '
import socket
s = socket.create_connection(("10.77.0.2", 6379), timeout=4)
s.sendall(b"QUIT\r\n")
while s.recv(4096):
    pass
s.close()
'
sleep 0.3
ss -a -o >"$WORK/all-states"  # shown if what follows fails
ss state time-wait -o >"$WORK/tw"
expect_in "$WORK/tw" "^TIME-WAIT +0 +0 +10\.77\.0\.2:6379 +10\.77\.0\.1:[0-9]+ +timer:\(timewait,(59|60)sec,0\)"
ss --json -a >"$WORK/json"
expect_in "$WORK/json" "\"state\":\"TIME-WAIT\".*\"orphan\":true"
expect_in "$WORK/json" "\"state\":\"LISTEN\".*\"program\":\"redis-server\""
log "veer ss: LISTEN with its process, ESTAB with keepalive, TIME-WAIT with 60 s"

# Killed without a chance to clean up: the next `veer ss` removes the view.
rpid=$(ss --json -l | grep -oE '"pid":[0-9]+' | head -1 | cut -d: -f2)
[ -n "$rpid" ] && [ -e "/dev/shm/veer.$rpid" ] || fail "no view /dev/shm/veer.$rpid for redis"
kill -9 "$rpid"
wait_exit "$pid" 10
ss -a >/dev/null
[ ! -e "/dev/shm/veer.$rpid" ] || fail "the stale view /dev/shm/veer.$rpid was not removed"
log "PASS: veer ss lists veer's sockets like ss, and cleans up after a killed process"
