# shellcheck shell=bash
# Shared helpers for the integration tests. Each test runs in a network
# namespace of its own with a TAP device made by `veer net up`; the namespace,
# its devices and every process started in it are removed on exit, whatever
# happens. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN).
set -euo pipefail

: "${IT_BIN:?IT_BIN must name the bin directory of the build}"
VEER="$IT_BIN/veer"
NS="veer-it-$(basename "${BASH_SOURCE[1]}" .sh | tr -c 'a-z0-9\n' '-' | cut -c1-20)-$$"
WORK="$(mktemp -d /tmp/veer-it.XXXXXX)"
BG_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*"; }
fail() {
  log "FAIL: $*"
  exit 1
}

cleanup() {
  local rc=$?
  # A sanitizer report anywhere fails the test, even if the program went on.
  if [ "$rc" -eq 0 ] && grep -lE "(Address|Thread|Leak)Sanitizer|runtime error:" "$WORK"/*.out \
    >"$WORK/sanitizer-hits" 2>/dev/null; then
    log "FAIL: sanitizer reports in: $(tr '\n' ' ' <"$WORK/sanitizer-hits")"
    rc=1
  fi
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Anything still running inside the namespace goes with it.
  if ip netns pids "$NS" >/dev/null 2>&1; then
    ip netns pids "$NS" | xargs -r kill -9 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
  fi
  # The killed veer processes left their views and control sockets in
  # /dev/shm: `veer ss` removes those of processes that are gone.
  "$VEER" ss >/dev/null 2>&1 || true
  if [ "$rc" -ne 0 ]; then
    for f in "$WORK"/*.out; do
      [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || fail "integration tests need root (network namespaces, TAP devices)"

# Runs a command inside the test's namespace.
in_ns() { ip netns exec "$NS" "$@"; }

# Creates the namespace and the demo topology inside it: TAP veer0 with the
# kernel at 10.77.0.1/24 and veer at 10.77.0.2. IT_DEVICE=xdp (the
# integration.xdp.* variants) makes a veth pair veer0 <-> veer0-k instead and
# points every veer process at it over AF_XDP (VEER_DEVICE=xdp:veer0).
# IT_MTU sets the MTU of the link and of veer.
setup_ns() {
  ip netns add "$NS"
  in_ns ip link set lo up
  local xdp=()
  if [ "${IT_DEVICE:-tap}" = xdp ]; then
    xdp=(--xdp)
    export VEER_DEVICE=xdp:veer0
  fi
  # IT_MTU (the integration.xdp9000.* variants): the link and every veer
  # process at that MTU.
  if [ -n "${IT_MTU:-}" ]; then
    xdp+=(-s "mtu=$IT_MTU")
    export VEER_MTU=$IT_MTU
  fi
  in_ns "$VEER" net up "${xdp[@]}" "$@" >"$WORK/net-up.out" 2>&1 || {
    cat "$WORK/net-up.out"
    fail "veer net up"
  }
}

# Starts a command in the namespace in the background with its output in
# $WORK/NAME.out; sets LAST_PID.
start_bg() {
  local name=$1
  shift
  in_ns "$@" >"$WORK/$name.out" 2>&1 </dev/null &
  LAST_PID=$!
  BG_PIDS+=("$LAST_PID")
}

# Waits until process PID (started by start_bg) has exited, at most SECONDS.
# One veer process at a time can attach to the TAP.
wait_exit() {
  local pid=$1 seconds=${2:-10}
  local deadline=$((SECONDS + seconds))
  while kill -0 "$pid" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "process $pid still running after ${seconds}s"
    sleep 0.1
  done
}

# Waits until $WORK/NAME.out contains PATTERN (grep -E), at most SECONDS.
wait_for_output() {
  local name=$1 pattern=$2 seconds=${3:-10}
  local deadline=$((SECONDS + seconds))
  while [ "$SECONDS" -lt "$deadline" ]; do
    grep -qE -- "$pattern" "$WORK/$name.out" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "--- $WORK/$name.out:"
  cat "$WORK/$name.out" || true
  fail "no '$pattern' from $name within ${seconds}s"
}

# Fails unless FILE contains PATTERN (grep -E).
expect_in() {
  local file=$1 pattern=$2
  grep -qE -- "$pattern" "$file" || {
    echo "--- $file:"
    cat "$file"
    fail "expected '$pattern' in $file"
  }
}

# Waits until a kernel socket in the namespace listens on PORT, at most 5 s,
# without connecting to it (a one-shot server would take the probe).
wait_kernel_listen() {
  local port=$1
  for _ in $(seq 50); do
    [ -n "$(in_ns ss -Hltn "sport = :$port")" ] && return 0
    sleep 0.1
  done
  fail "nothing listens on port $port"
}

# Writes an nginx configuration serving $WORK/html on PORT (all addresses)
# into $WORK/nginx-NAME/ (pid file $WORK/nginx-NAME/nginx.pid, log
# $WORK/nginx-NAME/logs/error.log); MODE "single" (no master, no daemon) or
# "default" (nginx's default model: it daemonises, and a master forks 2
# workers sharing the listener). Sets NGINX_CONF.
nginx_conf() {
  local name=$1 port=$2 mode=$3 dir="$WORK/nginx-$1" top
  mkdir -p "$dir/logs" "$WORK/html"
  case "$mode" in
    single) top="worker_processes 1; master_process off; daemon off;" ;;
    default)
      top="worker_processes 2; master_process on; daemon on;"
      # The workers of a master started as root run as nobody (nginx's
      # default user): let them reach $WORK/html (mktemp made $WORK 0700).
      chmod o+x "$WORK"
      ;;
    *) fail "nginx_conf: unknown mode '$mode' (single, default)" ;;
  esac
  cat >"$dir/nginx.conf" <<CONF
$top
error_log $dir/logs/error.log notice;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  server {
    listen $port;
    root $WORK/html;
  }
}
CONF
  NGINX_CONF="$dir/nginx.conf"
}

# Starts a command in the namespace in the background reading its standard
# input from a FIFO the test writes lines to with `feed NAME LINE` (kept open,
# so the program waits for more); output in $WORK/NAME.out; sets LAST_PID.
start_fed() {
  local name=$1
  shift
  mkfifo "$WORK/$name.in"
  # Open for reading and writing: neither side blocks, and the program sees
  # no EOF while the test holds it.
  exec {FED_FD}<>"$WORK/$name.in"
  in_ns "$@" <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
  LAST_PID=$!
  BG_PIDS+=("$LAST_PID")
  eval "FED_${name}=$FED_FD"
}
feed() {
  local fd_var="FED_$1"
  printf '%s\n' "$2" >&"${!fd_var}"
}

# The pid of the process called COMM (its /proc comm) in the test's
# namespace; with VEER_ONLY=1 before it, the one running veer (its view in
# /dev/shm exists), waiting up to 5 s for the view.
ns_pid() {
  local comm=$1 p
  for _ in $(seq 50); do
    for p in $(ip netns pids "$NS"); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$comm" ] || continue
      [ "${VEER_ONLY:-0}" = 1 ] && [ ! -e "/dev/shm/veer.$p" ] && continue
      echo "$p"
      return 0
    done
    sleep 0.1
  done
  fail "no process $comm in $NS"
}
