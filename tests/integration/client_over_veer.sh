#!/usr/bin/env bash
# tcp-single-client runs unmodified over veer and reaches a kernel server on
# the other side of the TAP; a refused port and a silent one give Linux's errors.
source "$(dirname "$0")/lib.sh"
setup_ns
start_bg kserver "$IT_BIN/tcp-single-server"
wait_for_output kserver "listening"
in_ns timeout 10 "$VEER" run -- "$IT_BIN/tcp-single-client" 10.77.0.1 B >"$WORK/client.out" 2>&1 ||
  fail "veer client: $(cat "$WORK/client.out")"
expect_in "$WORK/client.out" "sent 'B' to 10\.77\.0\.1:18000"
wait_for_output kserver "received 'B' from 10\.77\.0\.2:[0-9]+"

# No listener on the port: the kernel answers RST, connect() says refused.
if in_ns timeout 10 "$VEER" run -- "$IT_BIN/tcp-single-client" 10.77.0.1 R 18001 \
  >"$WORK/refused.out" 2>&1; then
  fail "connect to a closed port succeeded"
fi
expect_in "$WORK/refused.out" "Connection refused"

# SYNs dropped by nftables: with tcp_syn_retries=1 Linux gives up after 3 s
# (SYNs at 0 and 1 s, ETIMEDOUT at 3 s).
in_ns nft -f - <<'NFT'
table inet veer_it {
  chain input {
    type filter hook input priority 0;
    tcp dport 18002 drop
  }
}
NFT
start=$(date +%s.%N)
if in_ns timeout 20 "$VEER" run -s net.ipv4.tcp_syn_retries=1 -s net.ipv4.tcp_syn_linear_timeouts=0 \
  -- "$IT_BIN/tcp-single-client" 10.77.0.1 T 18002 >"$WORK/timeout.out" 2>&1; then
  fail "connect to a blackholed port succeeded"
fi
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
expect_in "$WORK/timeout.out" "Connection timed out"
if awk -v e="$elapsed" 'BEGIN { exit !(e < 2.8 || e > 5.0) }'; then
  fail "ETIMEDOUT after ${elapsed}s, expected about 3 s"
fi
log "PASS: veer client reached the kernel server; refused and timed out (${elapsed}s) as Linux"
