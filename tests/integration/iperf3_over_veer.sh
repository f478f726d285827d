#!/usr/bin/env bash
# iperf3, unmodified: a veer server with a kernel client in both directions
# (-R), and a veer client against a kernel server, both directions. Prints
# each run's throughput; checks that every run moved data and ended cleanly.
source "$(dirname "$0")/lib.sh"
setup_ns
secs=3
run() { # NAME CLIENT-PREFIX... -- records the receiver's bitrate
  local name=$1
  shift
  in_ns timeout 60 "$@" -t "$secs" -f m >"$WORK/$name.out" 2>&1 || fail "$name: $(tail -5 "$WORK/$name.out")"
  expect_in "$WORK/$name.out" "receiver"
  expect_in "$WORK/$name.out" "iperf Done"
  log "$name: $(grep receiver "$WORK/$name.out" | grep -oE '[0-9.]+ Mbits/sec')"
}
for dir in "" -R; do
  # iperf3 -s listens on :: by default, which stays with the kernel (veer
  # serves IPv4): -4 makes it an IPv4 listener on 0.0.0.0.
  start_bg server "$VEER" run -- iperf3 -4 -s -1 -p 5201 --forceflush
  pid=$LAST_PID
  wait_for_output server "Server listening" 10
  sleep 0.2
  run "veer-server${dir:+-reverse}" iperf3 -c 10.77.0.2 -p 5201 $dir
  wait_exit "$pid" 20
done
for dir in "" -R; do
  start_bg kserver iperf3 -s -1 -B 10.77.0.1 -p 5202
  pid=$LAST_PID
  wait_kernel_listen 5202
  run "veer-client${dir:+-reverse}" "$VEER" run -- iperf3 -c 10.77.0.1 -p 5202 $dir
  wait_exit "$pid" 20
done
log "PASS: iperf3 ran over veer as server and client, both directions"
