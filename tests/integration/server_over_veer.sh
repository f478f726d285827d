#!/usr/bin/env bash
# tcp-single-server runs unmodified over veer; kernel clients send one char
# each, three times in a row, and the server prints each one.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg server "$VEER" run -- "$IT_BIN/tcp-single-server"
wait_for_output server "listening on 0.0.0.0:18000"
for c in A B C; do
  in_ns timeout 10 "$IT_BIN/tcp-single-client" 10.77.0.2 "$c" >"$WORK/client-$c.out" 2>&1 ||
    fail "kernel client $c: $(cat "$WORK/client-$c.out")"
  wait_for_output server "received '$c' from 10\.77\.0\.1:[0-9]+"
done
log "PASS: a veer server received A, B and C from kernel clients"
