#!/usr/bin/env bash
# nginx's default process model under veer: it daemonises (daemon()), and
# its master forks 2 workers that accept on the listener they inherited and
# run as nobody (nginx's default user when started as root).
# With sendfile and tcp_nopush on, serving kernel clients: curl gets 5 MB
# byte-identical, wrk with 50 connections for 10 s sees no socket error and
# no non-2xx answer; a worker killed with SIGKILL is replaced by the master
# and the new set serves the file byte-identical again; SIGQUIT stops every
# process; the error log has no alert but the one for our kill.
# IT_STACKS="kernel veer" runs it first without veer (10.77.0.1), to show the
# checks describe Linux; the default is the veer pass alone.
source "$(dirname "$0")/lib.sh"
setup_ns
PORT=8090
WORKERS=2
mkdir -p "$WORK/html"
head -c 5000000 /dev/urandom >"$WORK/html/blob"
echo "hello from nginx workers" >"$WORK/html/index.html"

# The pids of the nginx processes in the namespace, but zombies (an exited
# master waits for init to reap it). A daemonised nginx is not a process the
# test started (start_bg's pid), but it stays in the namespace: lib.sh's
# cleanup kills every process there whatever happens.
ns_nginx_pids() {
  local p
  for p in $(ip netns pids "$NS"); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = nginx ] || continue
    [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
    echo "$p"
  done
  return 0
}

# Sets WORKER_PIDS to the master's worker pids, sorted, separated by spaces;
# waits up to 10 s until there are WORKERS of them, none in EXCLUDE (pids
# separated by spaces).
workers_of() {
  local master=$1 exclude=" ${2:-} " w ws
  for _ in $(seq 100); do
    ws=()
    for w in $(pgrep -P "$master" | sort -n); do
      [[ "$exclude" == *" $w "* ]] || ws+=("$w")
    done
    if [ "${#ws[@]}" -eq "$WORKERS" ] && [ "$(pgrep -c -P "$master")" -eq "$WORKERS" ]; then
      WORKER_PIDS="${ws[*]}"
      return 0
    fi
    sleep 0.1
  done
  echo "--- children of the master $master:"
  ps -o pid=,stat=,args= --ppid "$master" || true
  fail "nginx's master $master does not have $WORKERS workers (none of:${exclude% })"
}

# Fetches the 5 MB file; fails unless it is byte-identical.
fetch_blob() {
  local addr=$1 what=$2
  rm -f "$WORK/blob.got"
  in_ns timeout 20 curl -sS -o "$WORK/blob.got" -w '%{http_code} %{size_download}\n' \
    "http://$addr:$PORT/blob" >"$WORK/curl.out" 2>&1 || fail "curl $what: $(cat "$WORK/curl.out")"
  expect_in "$WORK/curl.out" "^200 5000000"
  cmp -s "$WORK/html/blob" "$WORK/blob.got" || fail "the file curl got $what differs"
}

run_nginx() {
  local stack=$1 addr run=()
  if [ "$stack" = kernel ]; then
    addr=10.77.0.1
  else
    addr=10.77.0.2
    run=("$VEER" run --)
  fi
  nginx_conf "$stack" "$PORT" default
  local dir="$WORK/nginx-$stack"
  # lib.sh shows the tail of every $WORK/*.out when the test fails.
  ln -s "$dir/logs/error.log" "$WORK/nginx-error-$stack.out"

  # The process started here forks the daemon and exits at once.
  in_ns timeout 20 "${run[@]}" nginx -c "$NGINX_CONF" >"$WORK/nginx-start-$stack.out" 2>&1 ||
    fail "$stack: starting nginx failed: $(cat "$WORK/nginx-start-$stack.out")"
  local master=""
  for _ in $(seq 50); do
    master=$(cat "$dir/nginx.pid" 2>/dev/null || true)
    [ -n "$master" ] && kill -0 "$master" 2>/dev/null && break
    sleep 0.1
  done
  if [ -z "$master" ] || ! kill -0 "$master" 2>/dev/null; then
    fail "$stack: no running nginx master in $dir/nginx.pid: $(cat "$dir/logs/error.log" 2>/dev/null)"
  fi
  [ "$(cat "/proc/$master/comm")" = nginx ] || fail "$stack: pid $master in nginx.pid is not nginx"
  workers_of "$master"
  local workers=$WORKER_PIDS
  log "$stack: nginx daemonised; master $master, workers $workers"

  local ok=0 deadline=$((SECONDS + 15))
  while [ "$SECONDS" -lt "$deadline" ]; do
    in_ns curl -s --max-time 1 -o /dev/null "http://$addr:$PORT/index.html" && ok=1 && break
    sleep 0.2
  done
  [ "$ok" = 1 ] || fail "$stack: nginx does not answer on $addr:$PORT within 15 s"
  fetch_blob "$addr" "from the workers"
  log "$stack: curl: 5 MB from nginx's workers, byte-identical"

  in_ns timeout 60 wrk -t 2 -c 50 -d 10s "http://$addr:$PORT/index.html" >"$WORK/wrk-$stack.out" 2>&1 ||
    fail "$stack: wrk: $(cat "$WORK/wrk-$stack.out")"
  cat "$WORK/wrk-$stack.out"
  expect_in "$WORK/wrk-$stack.out" "requests in"
  if grep -qE "Socket errors|Non-2xx" "$WORK/wrk-$stack.out"; then
    fail "$stack: wrk saw errors or non-2xx answers"
  fi
  log "$stack: wrk: $(grep -E 'Requests/sec' "$WORK/wrk-$stack.out"), no socket error, no non-2xx"

  # ThreadSanitizer ignores every interceptor, its signal delivery among
  # them, in a process forked from a multi-threaded one (die_after_fork=0:
  # "you are on your own"): nginx's daemonised master, forked from the
  # process in which veer runs its I/O thread, never sees a worker's SIGCHLD
  # or a SIGQUIT there. The plain and ASan/UBSan passes run the rest.
  if [[ "${IT_SANITIZER_PRELOAD:-}" == *libtsan* ]]; then
    log "$stack: ThreadSanitizer pass: the worker kill and SIGQUIT steps run in the other passes"
    return 0
  fi

  # A worker dies without closing anything: the master replaces it, and the
  # listener keeps working for the new set.
  local victim=${workers%% *}
  kill -9 "$victim"
  workers_of "$master" "$victim"
  log "$stack: worker $victim killed with SIGKILL; the master runs $WORKER_PIDS now"
  fetch_blob "$addr" "after a worker was replaced"
  for i in $(seq 20); do
    in_ns timeout 5 curl -sS -o /dev/null -w '%{http_code}\n' "http://$addr:$PORT/index.html" \
      >"$WORK/curl-small.out" 2>&1 || fail "$stack: request $i after the replacement: $(cat "$WORK/curl-small.out")"
    expect_in "$WORK/curl-small.out" "^200$"
  done
  log "$stack: after the replacement: 5 MB byte-identical and 20 more requests answered"

  # Graceful stop: the master tells the workers to finish, then exits.
  kill -QUIT "$master"
  local left=""
  for _ in $(seq 150); do
    left=$(ns_nginx_pids)
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || {
    ps -o pid=,ppid=,stat=,args= -p "$(echo "$left" | paste -sd,)" || true
    fail "$stack: nginx processes still running 15 s after SIGQUIT: $(echo "$left" | tr '\n' ' ')"
  }
  log "$stack: SIGQUIT stopped the master and every worker"

  # The kill above logs "[alert] ...: worker process VICTIM exited on signal
  # 9": that one alone is expected. Anything else at alert level or above
  # (e.g. "open socket ... left in connection" at a worker's exit) fails.
  local log_file="$dir/logs/error.log"
  expect_in "$log_file" "\[alert\] [0-9]+#[0-9]+: worker process $victim exited on signal 9"
  if grep -E "\[(alert|emerg|crit)\]" "$log_file" |
    grep -vE "\[alert\] [0-9]+#[0-9]+: worker process $victim exited on signal 9\$" >"$WORK/alerts-$stack"; then
    cat "$WORK/alerts-$stack"
    fail "$stack: nginx logged alerts besides the expected one for worker $victim"
  fi
  log "$stack: error.log: no alert, crit or emerg but the expected 'worker process $victim exited on signal 9'"
}

for stack in ${IT_STACKS:-veer}; do
  case "$stack" in
    kernel | veer) ;;
    *) fail "IT_STACKS: unknown stack '$stack' (kernel, veer)" ;;
  esac
  run_nginx "$stack"
done
log "PASS: nginx's default model (daemon, master, $WORKERS workers) serves over ${IT_STACKS:-veer}"
