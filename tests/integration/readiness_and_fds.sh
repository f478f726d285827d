#!/usr/bin/env bash
# poll/select/epoll with a veer socket, a pipe and a timerfd in one call;
# nonblocking connect; dup/dup2/F_DUPFD, FIONBIO/FIONREAD/SIOCOUTQ, signals
# (EINTR and SA_RESTART), SO_RCVTIMEO, sendfile, splice, recvmmsg/sendmmsg and
# close_range. Each program runs first against the kernel stack (so the
# checks are known to describe Linux), then unmodified under veer.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg echo socat TCP-LISTEN:7000,reuseaddr,fork EXEC:/bin/cat
in_ns bash -c 'for i in $(seq 50); do socat -u /dev/null TCP:10.77.0.1:7000 2>/dev/null && exit 0; sleep 0.1; done; exit 1' ||
  fail "echo server did not start"
for prog in "mixed_wait 10.77.0.1 7000 7001" "fd_semantics 10.77.0.1 7000"; do
  name=${prog%% *}
  # shellcheck disable=SC2086
  in_ns timeout 60 "$IT_BIN"/$prog >"$WORK/$name-kernel.out" 2>&1 ||
    fail "$name against the kernel stack: $(grep FAIL "$WORK/$name-kernel.out")"
  # shellcheck disable=SC2086
  in_ns timeout 60 "$VEER" run -- "$IT_BIN"/$prog >"$WORK/$name.out" 2>&1 ||
    fail "$name under veer: $(grep FAIL "$WORK/$name.out")"
  expect_in "$WORK/$name.out" "all checks passed"
  log "$name: $(grep -c '^ok' "$WORK/$name.out") checks pass under veer as under the kernel"
done
# splice went through veer's copy (not the kernel, which cannot see a veer
# socket's bytes), and said so once.
expect_in "$WORK/fd_semantics.out" "splice\(\) on a veer socket is emulated by copying"
[ "$(grep -c 'splice() on a veer socket' "$WORK/fd_semantics.out")" -eq 1 ] ||
  fail "the splice emulation is logged more than once"
# The same checks with busy polling on (net.core.busy_read/busy_poll): the
# calls spin on the device before they sleep, and nothing else may change.
for prog in "mixed_wait 10.77.0.1 7000 7001" "fd_semantics 10.77.0.1 7000"; do
  name=${prog%% *}
  # shellcheck disable=SC2086
  in_ns timeout 60 env VEER_BUSY_READ=50 VEER_BUSY_POLL=50 "$VEER" run -- "$IT_BIN"/$prog \
    >"$WORK/$name-busy.out" 2>&1 || fail "$name with busy polling: $(grep FAIL "$WORK/$name-busy.out")"
  expect_in "$WORK/$name-busy.out" "all checks passed"
done
log "PASS: readiness and fd semantics match the kernel's (also busy-polling)"
