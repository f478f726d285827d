#!/usr/bin/env bash
# Veer sockets shared across fork(): forking servers, unmodified, under veer
# with kernel clients.
#  a. examples/tcp-fork-echo-server (accept, fork a child per connection, the
#     parent closes its copy at once): 8 concurrent clients each get their own
#     200 KB back sha256-identical, every connection closes, and no child is
#     left behind (reaped, no zombie).
#  b. socat TCP-LISTEN,fork EXEC:/bin/cat: 20 concurrent clients each get
#     exactly their own lines back.
#  c. tests/integration/progs/prefork_echo: 4 children accept on the listener
#     the parent closed after forking them (4 concurrent connections, 4
#     different children); a child killed with SIGKILL while it holds a
#     connection: the connection ends, the other children still accept, and
#     nothing is left once every process has exited.
#  d. tests/integration/progs/daemon_echo: glibc's daemon() right after
#     listen(): the process that opened the listener (and, under veer, runs
#     the stack's I/O thread) leaves with _exit(), without exit handlers; the
#     daemon serves 3 clients 1 MB each, sha256-identical (under veer another
#     process has taken over the stack).
# nginx_workers.sh covers nginx's own daemonising (fork, then exit()).
# Each scenario runs first against the kernel stack (the server without veer
# at 10.77.0.1), so its checks are known to describe Linux, then under veer
# (10.77.0.2). IT_STACKS="kernel" (or "veer") runs one pass only.
source "$(dirname "$0")/lib.sh"
setup_ns

ECHO_PORT=7400
SOCAT_PORT=7500
ECHO_CLIENTS=8
ECHO_BYTES=200000
LINE_CLIENTS=20
LINES_EACH=100
PREFORK_PORT=7600
DAEMON_PORT=7700
PREFORK_CHILDREN=4

# Sets SERVER_PID to the pid of the process called COMM in the namespace
# whose parent is not also called COMM (the server, not one of its children),
# waiting up to 5 s.
server_pid() {
  local comm=$1 p pp
  for _ in $(seq 50); do
    for p in $(ip netns pids "$NS"); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$comm" ] || continue
      pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || continue
      [ "$(cat "/proc/$pp/comm" 2>/dev/null)" = "$comm" ] && continue
      SERVER_PID=$p
      return 0
    done
    sleep 0.1
  done
  fail "no process $comm in $NS (the server exited?)"
}

# Stops server SPID, which start_bg's shell BG started, and waits for both.
stop_server() {
  kill "$1" 2>/dev/null || true
  wait_exit "$1" 10
  wait_exit "$2" 10
}

# Prints the server side's sockets on PORT (local port), one per line
# starting with the state, from `ss` for the kernel stack or `veer ss` for
# veer.
server_sockets() {
  local stack=$1 port=$2
  if [ "$stack" = kernel ]; then
    in_ns ss -Htan state all "sport = :$port" || true
  else
    # veer ss lists the sockets of every veer process on the host; the port
    # is this test's own.
    in_ns "$VEER" ss -a 2>/dev/null | awk -v p=":$port" \
      '$1 != "State" && substr($4, length($4) - length(p) + 1) == p' || true
  fi
}

# Waits up to 5 s until the listener is the only socket left on PORT: no
# ESTAB, CLOSE-WAIT, LAST-ACK, FIN-WAIT, nor TIME-WAIT (the server closes
# after the client's FIN, so its side is the passive closer and has none),
# but for the states ALSO (e.g. "TIME-WAIT") allows. Fails with the listing
# otherwise.
expect_all_closed() {
  local stack=$1 port=$2 also=${3:-LISTEN} all="" left=""
  for _ in $(seq 50); do
    all=$(server_sockets "$stack" "$port")
    left=$(grep -vE "^(LISTEN|$also) " <<<"$all" || true)
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    echo "--- sockets left on port $port ($stack):"
    echo "$left"
    if [ "$stack" = veer ]; then in_ns "$VEER" ss -a -p -o || true; fi
    fail "$stack: connections on port $port did not all close within 5 s"
  fi
  # The listing is known to show this port: the listener is in it.
  grep -q '^LISTEN' <<<"$all" ||
    fail "$stack: no LISTEN socket on port $port in the listing: '$all'"
}

# Waits up to 5 s until process PID has no child left (running or zombie);
# fails naming them otherwise.
expect_no_children() {
  local pid=$1 what=$2 kids=""
  for _ in $(seq 50); do
    kids=$(ps -o pid=,stat=,comm= --ppid "$pid" || true)
    [ -z "$kids" ] && return 0
    sleep 0.1
  done
  echo "--- children of $pid:"
  echo "$kids"
  if grep -q ' Z' <<<"$kids"; then fail "$what left zombies (children not reaped)"; fi
  fail "$what: children still running 5 s after their clients finished"
}

# Waits for the client jobs the caller started (pids in CLIENT_PIDS, client
# N's standard error in $WORK/NAME.clientN.err); fails naming those that
# failed, with what the first of them said.
wait_clients() {
  local name=$1 what=$2 failed=() i rc
  for i in "${!CLIENT_PIDS[@]}"; do
    rc=0
    wait "${CLIENT_PIDS[$i]}" || rc=$?
    [ "$rc" -eq 0 ] && continue
    failed+=("$((i + 1))")
    if [ "$rc" -eq 124 ]; then
      echo "(client $((i + 1)) timed out)"
    else
      echo "(client $((i + 1)) exited with status $rc)"
    fi >>"$WORK/$name.client$((i + 1)).err"
  done
  [ "${#failed[@]}" -eq 0 ] && return 0
  echo "--- client ${failed[0]}'s standard error:"
  cat "$WORK/$name.client${failed[0]}.err"
  fail "$what: client(s) ${failed[*]} of ${#CLIENT_PIDS[@]} failed"
}

# a. The forking echo server.
echo_scenario() {
  local stack=$1 addr i
  if [ "$stack" = kernel ]; then
    addr=10.77.0.1
    start_bg "echo-$stack" "$IT_BIN/tcp-fork-echo-server" "$ECHO_PORT" "$addr"
  else
    addr=10.77.0.2
    start_bg "echo-$stack" "$VEER" run -- "$IT_BIN/tcp-fork-echo-server" "$ECHO_PORT"
  fi
  local bg=$LAST_PID
  wait_for_output "echo-$stack" "^listening on " 10
  server_pid tcp-fork-echo-s
  local spid=$SERVER_PID

  # Each client connects and waits for $WORK/go-$stack before it sends its
  # own random payload and half-closes (socat: EOF on stdin ->
  # shutdown(SHUT_WR)); its output is what came back. The test makes go-$stack
  # once the server has printed "served by child" for every connection, which
  # the parent does after its close() of its copy. So every payload is sent
  # after the parent's close(), and an echo that comes back complete proves
  # that close did not end the connection (no early FIN): only the child's
  # last close does. socat exits when the server closes its side (FIN); -t 60
  # outlasts the timeout, so a server that never closes fails the client.
  rm -f "$WORK/go-$stack"
  CLIENT_PIDS=()
  for i in $(seq "$ECHO_CLIENTS"); do
    head -c "$ECHO_BYTES" /dev/urandom >"$WORK/payload.$i"
    # shellcheck disable=SC2016 # expanded by the inner bash
    in_ns timeout 30 bash -c \
      '(for _ in $(seq 200); do [ -e "$4" ] && break; sleep 0.05; done; cat "$1") | socat -t 60 - "TCP:$2:$3"' \
      _ "$WORK/payload.$i" "$addr" "$ECHO_PORT" "$WORK/go-$stack" >"$WORK/echoed.$i" \
      2>"$WORK/echo-$stack.client$i.err" &
    CLIENT_PIDS+=($!)
  done
  local accepted=0
  for _ in $(seq 100); do
    accepted=$(grep -c "served by child" "$WORK/echo-$stack.out" || true)
    [ "$accepted" -ge "$ECHO_CLIENTS" ] && break
    sleep 0.1
  done
  touch "$WORK/go-$stack"
  [ "$accepted" -ge "$ECHO_CLIENTS" ] ||
    fail "$stack: the fork echo server handed $accepted of $ECHO_CLIENTS connections to children within 10 s"
  wait_clients "echo-$stack" "$stack: fork echo server"
  for i in $(seq "$ECHO_CLIENTS"); do
    local want got
    want=$(sha256sum <"$WORK/payload.$i" | cut -d' ' -f1)
    got=$(sha256sum <"$WORK/echoed.$i" | cut -d' ' -f1)
    [ "$want" = "$got" ] ||
      fail "$stack: client $i sent $ECHO_BYTES bytes and got $(stat -c %s "$WORK/echoed.$i") back, not the same (sha256 $got, want $want)"
  done
  log "$stack: $ECHO_CLIENTS concurrent clients each got their own $ECHO_BYTES bytes back sha256-identical from forked children"
  log "$stack: the parent's close() of its copies sent no FIN (every payload, sent after it, came back whole)"

  expect_all_closed "$stack" "$ECHO_PORT"
  log "$stack: every connection closed (only the LISTEN socket left on port $ECHO_PORT)"
  expect_no_children "$spid" "$stack: fork echo server"
  kill -0 "$spid" 2>/dev/null || fail "$stack: the fork echo server died"
  local served
  served=$(grep -c "^child [0-9]*: echoed $ECHO_BYTES bytes" "$WORK/echo-$stack.out" || true)
  [ "$served" -eq "$ECHO_CLIENTS" ] ||
    fail "$stack: $served children reported echoing $ECHO_BYTES bytes, want $ECHO_CLIENTS"
  log "$stack: every child exited and was reaped (no zombie); the parent is still serving"
  stop_server "$spid" "$bg"
}

# b. socat's fork mode. Its default listen() backlog is 5: 20 SYNs at once
# overflow it, the rest get SYN cookies, and a cookie ACK that finds the
# accept queue still full is dropped, after which the client's next segment
# fails the cookie check and is reset, on Linux as on veer. A backlog for
# 20 keeps this test about fork, not about overload.
socat_scenario() {
  local stack=$1 addr i
  if [ "$stack" = kernel ]; then
    addr=10.77.0.1
    start_bg "socat-$stack" socat -d -d "TCP-LISTEN:$SOCAT_PORT,bind=$addr,fork,reuseaddr,backlog=32" EXEC:/bin/cat
  else
    addr=10.77.0.2
    start_bg "socat-$stack" "$VEER" run -- socat -d -d "TCP-LISTEN:$SOCAT_PORT,fork,reuseaddr,backlog=32" \
      EXEC:/bin/cat
  fi
  local bg=$LAST_PID
  wait_for_output "socat-$stack" "listening on" 10
  server_pid socat
  local spid=$SERVER_PID

  CLIENT_PIDS=()
  for i in $(seq "$LINE_CLIENTS"); do
    head -c $((LINES_EACH * 12)) /dev/urandom | od -An -v -tx1 -w12 | tr -d ' ' |
      awk -v c="$i" '{ print "client " c " line " NR " " $0 }' >"$WORK/lines.$i"
    # shellcheck disable=SC2016 # expanded by the inner bash
    in_ns timeout 30 bash -c '(sleep 0.2; cat "$1") | socat -t 60 - "TCP:$2:$3"' _ \
      "$WORK/lines.$i" "$addr" "$SOCAT_PORT" >"$WORK/lines-back.$i" \
      2>"$WORK/socat-$stack.client$i.err" &
    CLIENT_PIDS+=($!)
  done
  wait_clients "socat-$stack" "$stack: socat fork"
  for i in $(seq "$LINE_CLIENTS"); do
    cmp -s "$WORK/lines.$i" "$WORK/lines-back.$i" || {
      diff "$WORK/lines.$i" "$WORK/lines-back.$i" | head -20
      fail "$stack: socat fork client $i did not get exactly its own $LINES_EACH lines back"
    }
  done
  log "$stack: $LINE_CLIENTS concurrent clients of socat TCP-LISTEN,fork each got exactly their own $LINES_EACH lines back"
  expect_all_closed "$stack" "$SOCAT_PORT"
  expect_no_children "$spid" "$stack: socat"
  log "$stack: socat's connections all closed and its children are gone"
  stop_server "$spid" "$bg"
}

# c. A preforked server: children accepting on one listener the parent no
# longer holds, and a child killed with SIGKILL while it holds a connection.
prefork_scenario() {
  local stack=$1 addr i
  if [ "$stack" = kernel ]; then
    addr=10.77.0.1
    start_bg "prefork-$stack" "$IT_BIN/prefork_echo" "$PREFORK_PORT" "$addr" "$PREFORK_CHILDREN"
  else
    addr=10.77.0.2
    start_bg "prefork-$stack" "$VEER" run -- "$IT_BIN/prefork_echo" "$PREFORK_PORT" "$PREFORK_CHILDREN"
  fi
  local bg=$LAST_PID
  wait_for_output "prefork-$stack" "^listening on " 10
  server_pid prefork_echo
  local spid=$SERVER_PID

  # As many clients as children, each holding its connection for 3 s: a
  # child serves one connection at a time, so every child must accept one.
  CLIENT_PIDS=()
  for i in $(seq "$PREFORK_CHILDREN"); do
    # shellcheck disable=SC2016 # expanded by the inner bash
    in_ns timeout 20 bash -c '(sleep 3; echo "hello from client $1") | socat -t 60 - "TCP:$2:$3"' _ \
      "$i" "$addr" "$PREFORK_PORT" >"$WORK/prefork-back.$i" 2>"$WORK/prefork-$stack.client$i.err" &
    CLIENT_PIDS+=($!)
  done
  wait_clients "prefork-$stack" "$stack: preforked server"
  local pids=()
  for i in $(seq "$PREFORK_CHILDREN"); do
    if ! { [ "$(wc -l <"$WORK/prefork-back.$i")" -eq 2 ] &&
      grep -qE '^pid [0-9]+$' "$WORK/prefork-back.$i" &&
      [ "$(sed -n 2p "$WORK/prefork-back.$i")" = "hello from client $i" ]; }; then
      cat "$WORK/prefork-back.$i"
      fail "$stack: preforked server: client $i did not get 'pid N' and its own line back"
    fi
    pids+=("$(head -1 "$WORK/prefork-back.$i" | cut -d' ' -f2)")
  done
  local distinct
  distinct=$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)
  [ "$distinct" -eq "$PREFORK_CHILDREN" ] ||
    fail "$stack: $PREFORK_CHILDREN concurrent connections were served by $distinct children (${pids[*]}), want $PREFORK_CHILDREN"
  for i in "${pids[@]}"; do
    [ "$(awk '{print $4}' "/proc/$i/stat" 2>/dev/null)" = "$spid" ] ||
      fail "$stack: pid $i that served a client is not a child of the server $spid"
  done
  log "$stack: $PREFORK_CHILDREN children accepted on the listener their parent had closed, one connection each"

  # A child dies holding a connection: the client sees it end (the kernel
  # closes a dead process's sockets; veer must reclaim them too).
  # The client only reads (socat -u): it ends when the server's side ends
  # the connection, and sends nothing that could end it.
  in_ns timeout 30 socat -u "TCP:$addr:$PREFORK_PORT" STDOUT >"$WORK/prefork-held-$stack.out" 2>&1 &
  local held=$!
  wait_for_output "prefork-held-$stack" "^pid [0-9]+$" 5
  local victim
  victim=$(head -1 "$WORK/prefork-held-$stack.out" | cut -d' ' -f2)
  kill -9 "$victim"
  local deadline=$((SECONDS + 5))
  while kill -0 "$held" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || {
      kill "$held" 2>/dev/null || true
      fail "$stack: the connection held by child $victim did not end within 5 s of its SIGKILL"
    }
    sleep 0.1
  done
  wait "$held" 2>/dev/null || true
  # The dead child's side closed first: a TIME-WAIT may stay.
  expect_all_closed "$stack" "$PREFORK_PORT" TIME-WAIT
  log "$stack: the connection of child $victim, killed with SIGKILL, ended (its side left at most a TIME-WAIT)"

  # The others still accept.
  # shellcheck disable=SC2016 # expanded by the inner bash
  in_ns timeout 10 bash -c 'echo again | socat -t 60 - "TCP:$1:$2"' _ "$addr" "$PREFORK_PORT" \
    >"$WORK/prefork-again" 2>&1 || fail "$stack: preforked server after the kill: $(cat "$WORK/prefork-again")"
  grep -qx again "$WORK/prefork-again" || fail "$stack: no echo after the kill: $(cat "$WORK/prefork-again")"
  log "$stack: the surviving children still accept and echo"

  # The parent exits once every child is gone; the listener goes with the
  # last of them.
  pgrep -P "$spid" | xargs -r kill
  wait_for_output "prefork-$stack" "^children exited$" 5
  wait_exit "$bg" 5
  local left=""
  for _ in $(seq 50); do
    left=$(server_sockets "$stack" "$PREFORK_PORT" | grep -v '^TIME-WAIT ' || true)
    [ -z "$left" ] && break
    sleep 0.1
  done
  [ -z "$left" ] || fail "$stack: sockets left on port $PREFORK_PORT after every process exited: $left"
  log "$stack: the parent exited after its children; nothing but TIME-WAIT is left on port $PREFORK_PORT"
}

# d. daemon(): the starting process _exit()s, its child carries on.
daemon_scenario() {
  local stack=$1 addr dpid i pidfile="$WORK/daemon-$1.pid"
  if [ "$stack" = kernel ]; then
    addr=10.77.0.1
    in_ns "$IT_BIN/daemon_echo" "$DAEMON_PORT" "$pidfile" >"$WORK/daemon-$stack.out" 2>&1 ||
      fail "$stack: daemon_echo: $(cat "$WORK/daemon-$stack.out")"
  else
    addr=10.77.0.2
    in_ns env VEER_LOG=info "$VEER" run -- "$IT_BIN/daemon_echo" "$DAEMON_PORT" "$pidfile" \
      >"$WORK/daemon-$stack.out" 2>&1 || fail "$stack: daemon_echo: $(cat "$WORK/daemon-$stack.out")"
  fi
  for _ in $(seq 50); do
    [ -s "$pidfile" ] && break
    sleep 0.1
  done
  [ -s "$pidfile" ] || fail "$stack: daemon_echo wrote no pid file within 5 s"
  dpid=$(cat "$pidfile")
  for i in 1 2 3; do
    head -c 1000000 /dev/urandom >"$WORK/daemon-payload.$i"
    in_ns timeout 20 socat -t 10 - "TCP:$addr:$DAEMON_PORT" <"$WORK/daemon-payload.$i" \
      >"$WORK/daemon-echoed.$i" 2>"$WORK/daemon-$stack.client$i.err" ||
      fail "$stack: daemon client $i: $(cat "$WORK/daemon-$stack.client$i.err")"
    cmp -s "$WORK/daemon-payload.$i" "$WORK/daemon-echoed.$i" ||
      fail "$stack: daemon client $i got $(stat -c %s "$WORK/daemon-echoed.$i") bytes back, not its 1000000"
  done
  log "$stack: after daemon() the child served 3 clients 1 MB each, sha256-identical"
  if [ "$stack" = veer ]; then
    expect_in "$WORK/daemon-$stack.out" "process $dpid now runs veer's stack"
    log "$stack: the daemon took over the stack from the process that left with _exit()"
  fi
  kill "$dpid" 2>/dev/null || true
  wait_exit "$dpid" 10
}

for stack in ${IT_STACKS:-kernel veer}; do
  case "$stack" in
    kernel | veer) ;;
    *) fail "IT_STACKS: unknown stack '$stack' (kernel, veer)" ;;
  esac
  echo_scenario "$stack"
  socat_scenario "$stack"
  prefork_scenario "$stack"
  daemon_scenario "$stack"
done
log "PASS: forking servers share their sockets across fork() (${IT_STACKS:-kernel veer})"
