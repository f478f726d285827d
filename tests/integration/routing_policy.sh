#!/usr/bin/env bash
# Which sockets veer serves: its own subnet always; a network outside it only
# when the `routes` knob names it (then through the gateway); loopback never.
# Each decision shows in the debug log.
source "$(dirname "$0")/lib.sh"
setup_ns
# A kernel address outside veer's subnet, reached through the gateway 10.77.0.1.
in_ns ip addr add 10.99.0.1/32 dev lo
start_bg echo socat TCP-LISTEN:6100,bind=10.99.0.1,reuseaddr,fork EXEC:/bin/cat
wait_kernel_listen 6100

echo routed | in_ns timeout 10 "$VEER" run -s routes=10.99.0.0/24 -s log=debug -- \
  nc -N 10.99.0.1 6100 >"$WORK/routed.out" 2>"$WORK/routed.log" || fail "routed connect"
expect_in "$WORK/routed.out" "^routed$"
expect_in "$WORK/routed.log" "is a veer socket \(connect 10\.99\.0\.1:6100, through the gateway"
log "routes=10.99.0.0/24: veer served the connection through its gateway"

echo direct | in_ns timeout 10 "$VEER" run -s log=debug -- nc -N 10.99.0.1 6100 \
  >"$WORK/kernel.out" 2>"$WORK/kernel.log" || fail "unrouted connect"
expect_in "$WORK/kernel.out" "^direct$"
expect_in "$WORK/kernel.log" "goes to the kernel: connect to 10\.99\.0\.1:6100 is outside 10\.77\.0\.2/24"
log "without routes: the kernel served it, and the log says why"

echo lo | in_ns timeout 10 "$VEER" run -s routes=0.0.0.0/0 -s log=debug -- nc -N 127.0.0.1 6200 \
  >/dev/null 2>"$WORK/lo.log" || true
expect_in "$WORK/lo.log" "goes to the kernel: connect to 127\.0\.0\.1:6200"
log "routes=0.0.0.0/0 still leaves loopback to the kernel"
log "PASS: the routing policy picks veer or the kernel as configured"
