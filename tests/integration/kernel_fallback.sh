#!/usr/bin/env bash
# Sockets veer does not serve stay with the kernel: a shimmed client talks to
# a kernel server over loopback, and a shimmed server bound to 127.0.0.1 is
# reached by a kernel client.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg kserver "$IT_BIN/tcp-single-server" 18010
wait_for_output kserver "listening"
in_ns timeout 10 env VEER_LOG=debug "$VEER" run -- "$IT_BIN/tcp-single-client" 127.0.0.1 L 18010 \
  >"$WORK/client.out" 2>&1 || fail "loopback client: $(cat "$WORK/client.out")"
wait_for_output kserver "received 'L' from 127\.0\.0\.1"
expect_in "$WORK/client.out" "goes to the kernel: connect to 127\.0\.0\.1:18010"

start_bg wserver env VEER_LOG=debug "$VEER" run -- "$IT_BIN/tcp-write-server" -n -l 127.0.0.1 -p 8002
wait_for_output wserver "listen\([0-9]*\) returned 0"
in_ns timeout 10 "$IT_BIN/tcp-read-client" -n -d 127.0.0.1 -p 8002 >"$WORK/reader.out" 2>&1 ||
  fail "kernel reader on loopback"
expect_in "$WORK/reader.out" "received 32 bytes in total"
expect_in "$WORK/wserver.out" "goes to the kernel: bind to 127\.0\.0\.1:8002"
log "PASS: loopback sockets stayed with the kernel, and the log says so"
