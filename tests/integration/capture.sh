#!/usr/bin/env bash
# tcpdump on the TAP sees a correct handshake, data and FIN exchange from
# veer, with every checksum of veer's correct. (With tap_offload the kernel
# leaves its own segments' checksums partial, as for any NIC with checksum
# offload: tcpdump calls those incorrect.)
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed (scripts/install-deps.sh installs it)"
setup_ns
start_bg dump tcpdump -i veer0 -nn -vv -l -U tcp port 18000
sleep 1
start_bg server "$VEER" run -- "$IT_BIN/tcp-single-server"
wait_for_output server "listening"
in_ns timeout 10 "$IT_BIN/tcp-single-client" 10.77.0.2 Z >/dev/null
wait_for_output server "received 'Z'"
wait_for_output dump "10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[F\.\]" 5
sleep 0.5
D="$WORK/dump.out"
# veer's side of the exchange, line by line.
# The SYN-ACK answers Linux's SYN options in Linux's own layout.
expect_in "$D" "10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[S\.\], cksum 0x[0-9a-f]+ \(correct\).*options \[mss 1460,sackOK,TS val [0-9]+ ecr [0-9]+,nop,wscale 7\]"
expect_in "$D" "10\.77\.0\.1\.[0-9]+ > 10\.77\.0\.2\.18000: Flags \[P\.\].*length 1"
expect_in "$D" "10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[\.\], cksum 0x[0-9a-f]+ \(correct\), seq 1, ack 2"
expect_in "$D" "10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[F\.\], cksum 0x[0-9a-f]+ \(correct\)"
if grep -q "10\.77\.0\.2\.18000 > .*incorrect" "$D"; then
  cat "$D"
  fail "a checksum was incorrect"
fi
veer_lines=$(grep -c "10\.77\.0\.2\.18000 > .*(correct)" "$D" || true)
[ "$veer_lines" -ge 3 ] || fail "expected at least 3 segments from veer, saw $veer_lines"
log "PASS: handshake, data and FIN from veer with $veer_lines correct checksums"
