#!/usr/bin/env bash
# The lab's step-by-step programs move 1 MB each way between veer and the
# kernel (write-server on one side, read-client on the other).
source "$(dirname "$0")/lib.sh"
setup_ns
SIZE=1048576

# veer writes, the kernel reads.
start_bg wserver "$VEER" run -- "$IT_BIN/tcp-write-server" -n -p 8000 -s "$SIZE"
wserver_pid=$LAST_PID
wait_for_output wserver "listen\([0-9]*\) returned 0"
in_ns timeout 30 "$IT_BIN/tcp-read-client" -n -d 10.77.0.2 -p 8000 -s 65536 >"$WORK/kreader.out" 2>&1 ||
  fail "kernel reader: $(tail -3 "$WORK/kreader.out")"
expect_in "$WORK/kreader.out" "received $SIZE bytes in total"
wait_for_output wserver "write\(\) returned $SIZE"
wait_exit "$wserver_pid" 15

# The kernel writes, veer reads.
start_bg kwserver "$IT_BIN/tcp-write-server" -n -p 8001 -s "$SIZE"
wait_for_output kwserver "listen\([0-9]*\) returned 0"
in_ns timeout 30 "$VEER" run -- "$IT_BIN/tcp-read-client" -n -d 10.77.0.1 -p 8001 -s 65536 \
  >"$WORK/vreader.out" 2>&1 || fail "veer reader: $(tail -3 "$WORK/vreader.out")"
expect_in "$WORK/vreader.out" "received $SIZE bytes in total"
log "PASS: 1 MB each way between veer and the kernel"
