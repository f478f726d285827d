#!/usr/bin/env bash
# OpenBSD netcat, unmodified, under veer against kernel netcat: a 10 MB file
# each way with identical sha256, as server and as client, and a half-close
# (nc -N) after which the peer still answers (the lab's `rsh host sort`).
source "$(dirname "$0")/lib.sh"
setup_ns
head -c 10000000 /dev/urandom >"$WORK/file"
want=$(sha256sum <"$WORK/file" | cut -d' ' -f1)
same() { [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$want" ] || fail "$2: sha256 differs"; }
wait_listen() { # PORT: until a kernel socket listens on it (without connecting)
  for _ in $(seq 50); do
    [ -n "$(in_ns ss -Hltn "sport = :$1")" ] && return 0
    sleep 0.1
  done
  fail "nothing listens on port $1"
}

# 1. veer server receives.
start_bg veer-server1 "$VEER" run -- sh -c "nc -4 -l 5000 >'$WORK/got1'"
pid=$LAST_PID
sleep 0.5
in_ns timeout 30 nc -N 10.77.0.2 5000 <"$WORK/file" || fail "kernel client 1"
wait_exit "$pid" 30
same "$WORK/got1" "kernel client -> veer nc -l"
log "10 MB kernel -> veer server: identical"

# 2. veer server sends, half-closing when its input ends.
start_bg veer-server2 "$VEER" run -- sh -c "nc -4 -l -N 5000 <'$WORK/file'"
pid=$LAST_PID
sleep 0.5
in_ns timeout 30 nc 10.77.0.2 5000 </dev/null >"$WORK/got2" || fail "kernel client 2"
wait_exit "$pid" 30
same "$WORK/got2" "veer nc -l -N -> kernel client"
log "10 MB veer server -> kernel: identical"

# 3. veer client sends to a kernel server.
start_bg kernel-server3 sh -c "nc -l 10.77.0.1 5001 >'$WORK/got3'"
pid=$LAST_PID
wait_listen 5001
in_ns timeout 30 "$VEER" run -- nc -N 10.77.0.1 5001 <"$WORK/file" || fail "veer client 3"
wait_exit "$pid" 30
same "$WORK/got3" "veer nc -N -> kernel nc -l"
log "10 MB veer client -> kernel: identical"

# 4. veer client receives from a kernel server.
start_bg kernel-server4 sh -c "nc -N -l 10.77.0.1 5002 <'$WORK/file'"
pid=$LAST_PID
wait_listen 5002
in_ns timeout 30 "$VEER" run -- nc 10.77.0.1 5002 </dev/null >"$WORK/got4" || fail "veer client 4"
wait_exit "$pid" 30
same "$WORK/got4" "kernel nc -l -> veer nc"
log "10 MB kernel server -> veer client: identical"

# 5. Half-close: the kernel side sorts what it got and answers after our FIN.
seq 1 20000 | shuf >"$WORK/unsorted"
start_bg sorter socat TCP-LISTEN:5003,bind=10.77.0.1,reuseaddr SYSTEM:sort
wait_listen 5003
in_ns timeout 30 "$VEER" run -- nc -N 10.77.0.1 5003 <"$WORK/unsorted" >"$WORK/sorted" ||
  fail "veer client 5"
sort "$WORK/unsorted" | cmp -s - "$WORK/sorted" || fail "the sorted answer after our FIN differs"
log "half-close: 20000 lines sent, FIN, sorted answer received after it"
log "PASS: netcat under veer moves 10 MB each way intact and half-closes like the kernel"
