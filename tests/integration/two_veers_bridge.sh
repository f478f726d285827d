#!/usr/bin/env bash
# Two programs under veer on one host, each with its own TAP and address,
# joined by the bridge `veer net up` makes: they talk to each other, and
# each still reaches kernel peers. `veer net down` removes the bridge with
# its last TAP.
source "$(dirname "$0")/lib.sh"
B=(-s device=tap:veer1 -s address=10.77.0.3/24 -s bridge=veerbr0)
setup_ns -s bridge=veerbr0
in_ns "$VEER" net up "${B[@]}" >"$WORK/net-up-b.out" 2>&1 || fail "veer net up (second TAP)"
expect_in "$WORK/net-up-b.out" "veer1 is a port of bridge veerbr0"

# A (10.77.0.2) serves, B (10.77.0.3) is the client: veer to veer.
start_bg a "$VEER" run -s bridge=veerbr0 -- sh -c "nc -4 -l 6000 >'$WORK/got'"
pid=$LAST_PID
sleep 0.5
echo "hello from the other veer" | in_ns timeout 10 "$VEER" run "${B[@]}" -- nc -N 10.77.0.2 6000 ||
  fail "veer client B to veer server A"
wait_exit "$pid" 10
expect_in "$WORK/got" "^hello from the other veer$"
log "veer B -> veer A over the bridge"

# Both against the kernel while sharing the network: B to a kernel echo.
start_bg echo socat TCP-LISTEN:6001,bind=10.77.0.1,reuseaddr EXEC:/bin/cat
wait_kernel_listen 6001
echo "kernel echo" | in_ns timeout 10 "$VEER" run "${B[@]}" -- nc -N 10.77.0.1 6001 >"$WORK/echo" ||
  fail "veer B to the kernel"
expect_in "$WORK/echo" "^kernel echo$"
log "veer B -> kernel echo"

in_ns "$VEER" net down "${B[@]}" >"$WORK/down-b.out" 2>&1 || fail "net down B"
in_ns "$VEER" net down -s bridge=veerbr0 >"$WORK/down-a.out" 2>&1 || fail "net down A"
expect_in "$WORK/down-a.out" "removed bridge veerbr0"
in_ns ip link show veerbr0 >/dev/null 2>&1 && fail "the bridge outlived its last TAP"
log "PASS: two veer processes share a bridge with each other and the kernel"
