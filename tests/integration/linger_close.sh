#!/usr/bin/env bash
# SO_LINGER with a time: close() returns as soon as the FIN is acknowledged,
# and waits at most the linger time when the peer stops answering (nftables
# drops everything from the kernel side once the data is acknowledged), as
# Linux's tcp_close() waits in sk_stream_wait_close().
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg sink socat -u TCP-LISTEN:6300,bind=10.77.0.1,reuseaddr,fork OPEN:/dev/null
wait_kernel_listen 6300

# run NAME answered|cut COMMAND-PREFIX...: prints close()'s duration in ms.
run() {
  local name=$1 cut=$2
  shift 2
  rm -f "$WORK/$name.in"
  mkfifo "$WORK/$name.in"
  in_ns timeout 20 "$@" "$IT_BIN/linger_close" 10.77.0.1 6300 2 <"$WORK/$name.in" >"$WORK/$name.out" 2>&1 &
  local pid=$!
  exec 7>"$WORK/$name.in"
  wait_for_output "$name" "^ready" 10
  sleep 0.2
  if [ "$cut" = cut ]; then
    in_ns nft add table inet lingertest
    in_ns nft add chain inet lingertest out '{ type filter hook output priority 0; }'
    in_ns nft add rule inet lingertest out ip daddr 10.77.0.2 drop
  fi
  echo go >&7
  exec 7>&-
  wait "$pid" || fail "$name: $(cat "$WORK/$name.out")"
  [ "$cut" = cut ] && in_ns nft delete table inet lingertest
  sed -E 's/.*close took ([0-9]+) ms.*/\1/;t;d' "$WORK/$name.out"
}
check() { # NAME MS LOW HIGH
  [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || fail "$1: close() took $2 ms, expected $3..$4"
  log "$1: close() took $2 ms"
}
ms=$(run veer-answered answered "$VEER" run --)
check "veer, peer answering" "$ms" 0 1000
ms=$(run veer-cut cut "$VEER" run --)
check "veer, peer silent, linger 2 s" "$ms" 1800 3000
log "PASS: SO_LINGER with a time bounds close() as Linux does"
