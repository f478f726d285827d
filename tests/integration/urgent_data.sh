#!/usr/bin/env bash
# Urgent data (MSG_OOB, SO_OOBINLINE, SIOCATMARK, select()'s exceptional
# set) between a veer program and a kernel one, both ways round. The same
# program first runs with the kernel at both ends, so its checks are known
# to describe Linux.
source "$(dirname "$0")/lib.sh"
setup_ns

run_pair() {  # NAME SERVER-CMD CLIENT-CMD (each as one string)
  local name=$1 server=$2 client=$3
  # shellcheck disable=SC2086
  start_bg "$name-server" $server
  wait_for_output "$name-server" "listening"
  # shellcheck disable=SC2086
  in_ns timeout 30 $client >"$WORK/$name-client.out" 2>&1 ||
    fail "$name: client: $(grep -E 'FAIL|usage|connect' "$WORK/$name-client.out")"
  wait_for_output "$name-server" "all checks passed" 10 ||
    fail "$name: server: $(grep FAIL "$WORK/$name-server.out")"
  expect_in "$WORK/$name-client.out" "all checks passed"
  log "$name: $(cat "$WORK/$name-server.out" "$WORK/$name-client.out" | grep -c '^ok') checks pass"
}

P="$IT_BIN/urgent_data"
run_pair kernel "$P server 7100" "$P client 10.77.0.1 7100"
run_pair veer-server "$VEER run -- $P server 7101" "$P client 10.77.0.2 7101"
run_pair veer-client "$P server 7102" "$VEER run -- $P client 10.77.0.1 7102"
log "PASS: urgent data behaves under veer as under the kernel, both ways"
