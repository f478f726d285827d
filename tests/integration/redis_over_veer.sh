#!/usr/bin/env bash
# redis-server, unmodified, under veer: redis-benchmark from the kernel side
# (100000 requests, 50 connections) completes every test without errors.
# Under ThreadSanitizer, which slows the server tenfold, 20000 requests.
source "$(dirname "$0")/lib.sh"
setup_ns
requests=100000
case "${IT_SANITIZER_PRELOAD:-}" in *tsan*) requests=20000 ;; esac
start_bg redis "$VEER" run -- redis-server --port 6379 --bind 0.0.0.0 --save "" --appendonly no \
  --protected-mode no --daemonize no
pid=$LAST_PID
wait_for_output redis "Ready to accept connections" 20
in_ns timeout 400 redis-benchmark -h 10.77.0.2 -p 6379 -n "$requests" -c 50 -q >"$WORK/bench.raw" 2>&1 ||
  fail "redis-benchmark: $(tail -c 600 "$WORK/bench.raw")"
# -q redraws progress with \r; keep the final line of each test.
tr '\r' '\n' <"$WORK/bench.raw" | grep -E 'requests per second' >"$WORK/bench.out" || true
cat "$WORK/bench.out"
if grep -qiE 'error|refused|reset' "$WORK/bench.raw"; then fail "redis-benchmark reported errors"; fi
n=$(wc -l <"$WORK/bench.out")
[ "$n" -ge 20 ] || fail "only $n benchmark tests completed"
in_ns timeout 10 redis-cli -h 10.77.0.2 -p 6379 ping | grep -q PONG || fail "redis-cli ping"
in_ns timeout 10 redis-cli -h 10.77.0.2 -p 6379 shutdown nosave >/dev/null 2>&1 || true
wait_exit "$pid" 20
log "PASS: redis-benchmark completed $n tests of $requests requests over veer without errors"
