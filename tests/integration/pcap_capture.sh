#!/usr/bin/env bash
# Capture to pcap: the `capture` knob records every frame a veer program
# sends and receives from its start (ARP and the handshake included), and
# `veer capture -p PID start|stop` does the same for a running process with
# the snap length asked for; tcpdump -r reads both files.
source "$(dirname "$0")/lib.sh"
command -v tcpdump >/dev/null || fail "tcpdump is not installed (scripts/install-deps.sh installs it)"
setup_ns
read_pcap() { tcpdump -r "$1" -nn -tt 2>&1; }

# 1. The knob, from the start: a veer server, a kernel client.
start_bg server "$VEER" run -s capture="$WORK/knob.pcap" -- "$IT_BIN/tcp-single-server"
wait_for_output server "listening"
in_ns timeout 10 "$IT_BIN/tcp-single-client" 10.77.0.2 Z >/dev/null
wait_for_output server "received 'Z'"
sleep 0.3  # flushed every 20 ms while frames flow
read_pcap "$WORK/knob.pcap" >"$WORK/knob.txt"
expect_in "$WORK/knob.txt" "reading from file .*knob\.pcap, link-type EN10MB \(Ethernet\), snapshot length 262144"
expect_in "$WORK/knob.txt" "ARP, Request who-has 10\.77\.0\.2 tell 10\.77\.0\.1"
expect_in "$WORK/knob.txt" "ARP, Reply 10\.77\.0\.2 is-at 02:00:0a:4d:00:02"
expect_in "$WORK/knob.txt" "IP 10\.77\.0\.1\.[0-9]+ > 10\.77\.0\.2\.18000: Flags \[S\], seq"
expect_in "$WORK/knob.txt" "IP 10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[S\.\], seq"
expect_in "$WORK/knob.txt" "IP 10\.77\.0\.1\.[0-9]+ > 10\.77\.0\.2\.18000: Flags \[P\.\], .*length 1"
expect_in "$WORK/knob.txt" "IP 10\.77\.0\.2\.18000 > 10\.77\.0\.1\.[0-9]+: Flags \[F\.\]"
spid=$(VEER_ONLY=1 ns_pid tcp-single-serv)
kill "$spid"
wait_exit "$spid" 10
log "capture knob: $(grep -c . "$WORK/knob.txt") lines, handshake, data and FIN"

# 2. A running process, started and stopped from outside.
start_bg kserver "$IT_BIN/tcp-single-server"
wait_for_output kserver "listening"
start_fed lines "$VEER" run -- "$IT_BIN/connect_lines"
wait_for_output lines "ready"
feed lines "10.77.0.1 18000"  # starts the stack; not captured
wait_for_output lines "18000: ok"
pid=$(VEER_ONLY=1 ns_pid connect_lines)
capture() { in_ns "$VEER" capture -p "$pid" "$@"; }
capture >"$WORK/status0"
expect_in "$WORK/status0" "^process $pid: not capturing$"
cd "$WORK"  # a relative FILE names a file here, not in the process's directory
capture start run.pcap --snaplen 96 >"$WORK/start"
expect_in "$WORK/start" "^process $pid: capturing to $WORK/run\.pcap \(snaplen 96\)$"
feed lines "10.77.0.1 18000"
wait_for_output lines "18000: ok.*" 5
[ "$(grep -c "18000: ok" "$WORK/lines.out")" -eq 2 ] || fail "second connect did not happen"
wait_for_output kserver "received 'c'.*" 5
sleep 0.3
capture stop >"$WORK/stop"
expect_in "$WORK/stop" "^process $pid: capture stopped$"
feed lines "10.77.0.1 18000"  # after stop: not in the file
wait_for_output lines "18000: ok" 5
sleep 0.3
read_pcap "$WORK/run.pcap" >"$WORK/run.txt"
expect_in "$WORK/run.txt" "snapshot length 96"
expect_in "$WORK/run.txt" "IP 10\.77\.0\.2\.[0-9]+ > 10\.77\.0\.1\.18000: Flags \[S\], seq"
expect_in "$WORK/run.txt" "IP 10\.77\.0\.1\.18000 > 10\.77\.0\.2\.[0-9]+: Flags \[S\.\], seq"
expect_in "$WORK/run.txt" "IP 10\.77\.0\.2\.[0-9]+ > 10\.77\.0\.1\.18000: Flags \[\.\], ack 1,"
syns=$(grep -c "Flags \[S\]," "$WORK/run.txt" || true)
[ "$syns" -eq 1 ] || fail "expected the one SYN of the connect made while capturing, saw $syns"
# Every frame cut at 96 bytes at most (the snap length in the file header).
snaplen=$(od -An -tu4 -j16 -N4 "$WORK/run.pcap" | tr -d ' ')
[ "$snaplen" = 96 ] || fail "pcap header snaplen $snaplen, expected 96"
if capture start /nonexistent/x.pcap >"$WORK/bad.out" 2>&1; then fail "capture to a missing directory started"; fi
expect_in "$WORK/bad.out" "refused: capture: /nonexistent/x\.pcap: No such file or directory"
log "PASS: capture knob and veer capture -p write pcap files tcpdump reads"
