#!/usr/bin/env bash
# `veer plot` draws a bulk transfer captured with tcpdump on the TAP, with
# some of veer's segments dropped after the capture point (so retransmissions
# and SACK blocks are in the picture), as a valid PNG and a valid SVG; and
# VEER_LOG=debug logs every TCP state transition with its 4-tuple.
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed (scripts/install-deps.sh installs it)"
command -v nft >/dev/null || fail "nft is not installed (scripts/install-deps.sh installs it)"
setup_ns
SIZE=1048576
PCAP="$WORK/bulk.pcap"

# tcpdump sees a frame on veer0 before the kernel's input hook drops it.
in_ns nft add table inet plottest
in_ns nft add chain inet plottest in '{ type filter hook input priority 0; }'
in_ns nft add rule inet plottest in tcp sport 8000 tcp flags ack numgen inc mod 97 == 50 drop

# -U: each packet is in the file when written, so it can be read while
# tcpdump still runs (the cleanup stops it).
start_bg dump tcpdump -i veer0 -nn -U -B 16384 -w "$PCAP" tcp port 8000
sleep 1
# One frame per segment (no TSO frames) so the nft rule drops single
# segments and the capture holds them as veer sent them.
start_bg wserver env VEER_LOG=debug VEER_TAP_OFFLOAD=0 "$VEER" run -- "$IT_BIN/tcp-write-server" -n -p 8000 -s "$SIZE"
wserver_pid=$LAST_PID
wait_for_output wserver "listen\([0-9]*\) returned 0"
in_ns timeout 30 "$IT_BIN/tcp-read-client" -n -d 10.77.0.2 -p 8000 -s 65536 >"$WORK/kreader.out" 2>&1 ||
  fail "kernel reader: $(tail -3 "$WORK/kreader.out")"
expect_in "$WORK/kreader.out" "received $SIZE bytes in total"
wait_exit "$wserver_pid" 20
# tcpdump may still be catching up (a sanitizer build is slow): wait until
# both FINs are in the file.
fins=0
for _ in $(seq 100); do
  fins=$(tcpdump -r "$PCAP" -nn 'tcp[tcpflags] & tcp-fin != 0' 2>/dev/null | wc -l)
  [ "$fins" -ge 2 ] && break
  sleep 0.1
done
[ "$fins" -ge 2 ] || fail "the capture does not hold both FINs after 10 s: $(cat "$WORK/dump.out")"

# The transitions of the server's connection, in order, with the 4-tuple.
W="$WORK/wserver.out"
tuple='tcp 10\.77\.0\.2:8000 > 10\.77\.0\.1:[0-9]+'
expect_in "$W" "$tuple CLOSE -> SYN_RECV"
expect_in "$W" "$tuple SYN_RECV -> ESTABLISHED"
expect_in "$W" "$tuple ESTABLISHED -> (FIN_WAIT1|CLOSE_WAIT)"
order=$(grep -oE "$tuple [A-Z_0-9]+ -> [A-Z_0-9]+" "$W" | sed -E 's/.* ([A-Z_0-9]+ -> [A-Z_0-9]+)$/\1/' | head -3 | tr '\n' ',')
case "$order" in
  "CLOSE -> SYN_RECV,SYN_RECV -> ESTABLISHED,ESTABLISHED -> "*) ;;
  *) fail "transitions out of order: $order" ;;
esac
log "transitions: $(grep -oE "$tuple .*" "$W" | sed -E 's/^tcp [^ ]+ > [^ ]+ //' | tr '\n' ',')"

# The plots.
"$VEER" plot "$PCAP" --list >"$WORK/list.out" 2>&1 || fail "veer plot --list: $(cat "$WORK/list.out")"
expect_in "$WORK/list.out" "^ +1 +10\.77\.0\.1:[0-9]+ +10\.77\.0\.2:8000 "
"$VEER" plot "$PCAP" -o "$WORK/bulk.png" >"$WORK/plot-png.out" 2>&1 ||
  fail "veer plot to PNG: $(cat "$WORK/plot-png.out")"
"$VEER" plot "$PCAP" --port 8000 -o "$WORK/bulk.svg" --width 800 --height 500 >"$WORK/plot-svg.out" 2>&1 ||
  fail "veer plot to SVG: $(cat "$WORK/plot-svg.out")"
# The data direction is veer's, chosen by default; the nftables drops show.
expect_in "$WORK/plot-png.out" "10\.77\.0\.2:8000 > 10\.77\.0\.1:[0-9]+, connection 1 of 1, $SIZE bytes"
retrans=$(sed -nE 's/.* ([0-9]+) segments retransmitted.*/\1/p' "$WORK/plot-png.out")
sacks=$(sed -nE 's/.* ([0-9]+) SACK blocks.*/\1/p' "$WORK/plot-png.out")
[ "${retrans:-0}" -ge 1 ] || fail "no retransmission found: $(cat "$WORK/plot-png.out")"
[ "${sacks:-0}" -ge 1 ] || fail "no SACK block found: $(cat "$WORK/plot-png.out")"
expect_in "$WORK/plot-png.out" "window scale [0-9]+/[0-9]+"
[ "$(head -c 8 "$WORK/bulk.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "bulk.png does not start with the PNG signature"
[ "$(stat -c %s "$WORK/bulk.png")" -gt 10000 ] || fail "bulk.png is suspiciously small"
python3 - "$WORK/bulk.svg" <<'PY' || fail "bulk.svg is not a valid SVG"
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
root = doc.documentElement
assert root.tagName == "svg", root.tagName
assert root.getAttribute("width").startswith("800"), root.getAttribute("width")
assert len(doc.getElementsByTagName("path")) > 10
PY
reverse=$("$VEER" plot "$PCAP" --reverse -o "$WORK/reverse.svg") || fail "veer plot --reverse"
[[ "$reverse" == *"10.77.0.1:"*" > 10.77.0.2:8000"* ]] || fail "--reverse plotted: $reverse"

# A capture without TCP: a clear error and exit status 1; a bad output name: 2.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$WORK/empty.pcap"
rc=0
"$VEER" plot "$WORK/empty.pcap" -o "$WORK/empty.png" >"$WORK/empty.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a capture without TCP: exit $rc, expected 1"
expect_in "$WORK/empty.out" "holds no TCP connection"
rc=0
"$VEER" plot "$PCAP" -o "$WORK/x.jpg" >"$WORK/badext.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "-o x.jpg: exit $rc, expected 2"
if [ -n "${PLOT_KEEP_DIR:-}" ]; then cp "$WORK/bulk.png" "$WORK/bulk.svg" "$PCAP" "$PLOT_KEEP_DIR/"; fi
log "PASS: $(cat "$WORK/plot-png.out")"
