#!/usr/bin/env bash
# nginx, unmodified, under veer with sendfile and tcp_nopush (TCP_CORK) on,
# serving a static file to kernel clients: curl gets it byte-identical, and
# wrk with 50 connections for 10 s sees no socket error and no non-2xx answer.
# nginx runs in its single-process mode (master_process off) here; its
# default model (daemon, master and forked workers sharing the listener) is
# nginx_workers.sh.
source "$(dirname "$0")/lib.sh"
setup_ns
mkdir -p "$WORK/html"
head -c 5000000 /dev/urandom >"$WORK/html/blob"
echo "hello from nginx over veer" >"$WORK/html/index.html"
nginx_conf veer 8080 single
start_bg nginx "$VEER" run -- nginx -c "$NGINX_CONF"
pid=$LAST_PID
for _ in $(seq 50); do
  in_ns timeout 2 curl -s -o /dev/null http://10.77.0.2:8080/index.html && break
  sleep 0.2
done
in_ns timeout 20 curl -sS -o "$WORK/blob.got" -w '%{http_code} %{size_download}\n' \
  http://10.77.0.2:8080/blob >"$WORK/curl.out" 2>&1 || fail "curl: $(cat "$WORK/curl.out")"
expect_in "$WORK/curl.out" "^200 5000000"
cmp -s "$WORK/html/blob" "$WORK/blob.got" || fail "the file curl got differs"
log "curl: 5 MB from nginx over veer, byte-identical"
in_ns timeout 60 wrk -t 2 -c 50 -d 10s http://10.77.0.2:8080/index.html >"$WORK/wrk.out" 2>&1 ||
  fail "wrk: $(cat "$WORK/wrk.out")"
cat "$WORK/wrk.out"
expect_in "$WORK/wrk.out" "requests in"
if grep -qE "Socket errors|Non-2xx" "$WORK/wrk.out"; then fail "wrk saw errors or non-2xx answers"; fi
log "wrk: $(grep -E 'Requests/sec' "$WORK/wrk.out")"
kill "$pid" 2>/dev/null || true
grep -E "\[(alert|emerg|crit)\]" "$WORK/nginx-veer/logs/error.log" && fail "nginx logged alerts"
log "PASS: nginx serves over veer; curl byte-identical, wrk without errors"
