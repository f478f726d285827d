#!/usr/bin/env bash
# End-to-end benchmark: the same load against the kernel's TCP and against
# veer's, in one run, reported as ratios to the kernel.
#
# usage: sudo bench/e2e.sh [--quick] [--out DIR]
#
# Configurations (each in network namespaces this script makes and removes):
#   kernel    kernel client <-> kernel server over a veth pair between two
#             namespaces (MTU 1500 and 9000)
#   veer-tap  kernel client <-> veer server (`veer run`) over the TAP of
#             `veer net up` (MTU 1500 and 9000)
# Figures:
#   rr1/rr64  request/response of 1 and 64 bytes on one connection, blocking:
#             transactions/s, p50 and p99 latency (bench/progs/tcp_rr.c)
#   bp1       1-byte request/response busy-polling 50 us (the kernel:
#             SO_BUSY_POLL on both ends; veer: net.core.busy_read/busy_poll)
#   bulk      single-stream iperf3 throughput, server side receiving
#   crr       connections/s: connect, 1-byte exchange, close
#   idle      memory per idle connection with 10000 open: the kernel's slab
#             growth per socket (both ends are kernel sockets: / 2N), veer's
#             server process RSS growth per connection (its whole stack)
# Prints a Markdown table and writes it, with an SVG chart of the ratios and
# the machine's description, to bench/results/ (or --out DIR).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VEER_BIN:-$repo/build/bin}"
out_dir="$repo/bench/results"
secs=5
idle_n=10000
busy_us=50
while (($# > 0)); do
  case "$1" in
    --quick) secs=2 idle_n=2000 ;;
    --out)
      out_dir=$2
      shift
      ;;
    *)
      echo "usage: $0 [--quick] [--out DIR]" >&2
      exit 2
      ;;
  esac
  shift
done
[ "$(id -u)" -eq 0 ] || {
  echo "e2e: needs root (network namespaces, TAP devices)" >&2
  exit 1
}
for t in "$BIN/tcp_rr" "$BIN/veer" iperf3 nft; do
  command -v "$t" >/dev/null || {
    echo "e2e: $t is missing: build with scripts/build.sh (bench on) and scripts/install-deps.sh" >&2
    exit 1
  }
done

NS_S="vb-srv-$$" NS_C="vb-cli-$$" NS_T="vb-tap-$$"
WORK="$(mktemp -d /tmp/veer-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "$NS_S" "$NS_C" "$NS_T"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# --- topologies --------------------------------------------------------------
kernel_topology() {  # MTU
  for ns in "$NS_S" "$NS_C"; do ip netns del "$ns" 2>/dev/null || true; done
  ip netns add "$NS_S"
  ip netns add "$NS_C"
  ip link add vb0 netns "$NS_S" type veth peer name vb1 netns "$NS_C"
  ip -n "$NS_S" addr add 10.88.0.1/24 dev vb0
  ip -n "$NS_C" addr add 10.88.0.2/24 dev vb1
  for ns in "$NS_S" "$NS_C"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set dev "$([ "$ns" = "$NS_S" ] && echo vb0 || echo vb1)" mtu "$1" up
  done
}
tap_topology() {  # MTU
  ip netns del "$NS_T" 2>/dev/null || true
  ip netns add "$NS_T"
  ip -n "$NS_T" link set lo up
  ip netns exec "$NS_T" "$BIN/veer" net up -s mtu="$1" >/dev/null
}

# Runs the server command in the background in NS (output in $WORK/server.out)
# and waits for its "listening" line.
start_server() {  # NS CMD...
  local ns=$1
  shift
  : >"$WORK/server.out"
  ip netns exec "$ns" "$@" >"$WORK/server.out" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  for _ in $(seq 100); do
    grep -q "listening\|Server listening" "$WORK/server.out" && return 0
    sleep 0.1
  done
  cat "$WORK/server.out" >&2
  echo "e2e: server did not start: $*" >&2
  exit 1
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

declare -A R  # R[config.metric] = value

# measure CONFIG MTU SERVER_NS CLIENT_NS HOST RUN...  (RUN: how the server runs)
measure() {
  local cfg=$1 mtu=$2 sns=$3 cns=$4 host=$5
  shift 5
  local run=("$@")
  if [ "$mtu" = 1500 ]; then
    log "$cfg: request/response, connections/s"
    start_server "$sns" "${run[@]}" "$BIN/tcp_rr" server 5001
    for size in 1 64; do
      line=$(ip netns exec "$cns" timeout $((secs + 20)) "$BIN/tcp_rr" rr "$host" 5001 "$size" "$secs")
      R[$cfg.rr$size.tps]=$(sed -n 's/.*tps=\([0-9.]*\).*/\1/p' <<<"$line")
      R[$cfg.rr$size.p50]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
      R[$cfg.rr$size.p99]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
    done
    line=$(ip netns exec "$cns" timeout $((secs + 20)) "$BIN/tcp_rr" crr "$host" 5001 "$secs")
    R[$cfg.crr]=$(sed -n 's/.*cps=\([0-9.]*\).*/\1/p' <<<"$line")
    stop_server
    log "$cfg: request/response, busy-polling ${busy_us} us"
    # The kernel: SO_BUSY_POLL on both ends' sockets; veer: its
    # net.core.busy_read/busy_poll knobs in the server (the kernel client
    # busy-polls with SO_BUSY_POLL in both configurations).
    start_server "$sns" env TCP_RR_BUSY_POLL="$busy_us" VEER_BUSY_READ="$busy_us" \
      VEER_BUSY_POLL="$busy_us" "${run[@]}" "$BIN/tcp_rr" server 5001
    line=$(TCP_RR_BUSY_POLL=$busy_us ip netns exec "$cns" timeout $((secs + 20)) \
      "$BIN/tcp_rr" rr "$host" 5001 1 "$secs")
    R[$cfg.bp1.tps]=$(sed -n 's/.*tps=\([0-9.]*\).*/\1/p' <<<"$line")
    R[$cfg.bp1.p50]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
    R[$cfg.bp1.p99]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
    stop_server
    log "$cfg: $idle_n idle connections"
    local slab0 slab1 rss0 rss1
    start_server "$sns" "${run[@]}" "$BIN/tcp_rr" hold 5002
    sleep 0.5
    slab0=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
    rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$(pgrep -n -f "tcp_rr hold 5002")/status")
    coproc IDLE { ip netns exec "$cns" "$BIN/tcp_rr" idle "$host" 5002 "$idle_n"; }
    local ready=""
    read -r -t 120 ready <&"${IDLE[0]}" || true
    [[ "$ready" == "idle ready"* ]] || {
      echo "e2e: $cfg: the idle connections did not open" >&2
      exit 1
    }
    sleep 1
    slab1=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
    rss1=$(awk '/^VmRSS:/ {print $2}' "/proc/$(pgrep -n -f "tcp_rr hold 5002")/status")
    if [ "$cfg" = kernel ]; then
      R[$cfg.idle]=$(((slab1 - slab0) * 1024 / (2 * idle_n)))
    else
      R[$cfg.idle]=$(((rss1 - rss0) * 1024 / idle_n))
    fi
    eval "exec ${IDLE[1]}>&-"
    kill "$IDLE_PID" 2>/dev/null || true
    wait "$IDLE_PID" 2>/dev/null || true
    stop_server
  fi
  log "$cfg: bulk at MTU $mtu"
  start_server "$sns" "${run[@]}" iperf3 -4 -s -p 5201 --forceflush -1
  ip netns exec "$cns" timeout $((secs + 30)) iperf3 -4 -c "$host" -p 5201 -t "$secs" -J \
    >"$WORK/iperf.json" || true
  R[$cfg.bulk$mtu]=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$WORK/iperf.json" 2>/dev/null || echo "")
  stop_server
}

for mtu in 1500 9000; do
  kernel_topology "$mtu"
  measure kernel "$mtu" "$NS_S" "$NS_C" 10.88.0.1 env
  tap_topology "$mtu"
  measure veer-tap "$mtu" "$NS_T" "$NS_T" 10.77.0.2 "$BIN/veer" run -s mtu="$mtu" --
done

# --- report ------------------------------------------------------------------
stamp=$(date +%Y%m%d-%H%M)
mkdir -p "$out_dir"
table="$out_dir/e2e-$stamp.md"
python3 - "$table" "$out_dir/e2e-$stamp.svg" "$secs" "$idle_n" <<EOF
import sys, platform, os
R = {$(for k in "${!R[@]}"; do printf '"%s": "%s", ' "$k" "${R[$k]}"; done)}
table, svg, secs, idle_n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = [
  ("rr1.tps", "1-byte request/response, transactions/s", True),
  ("rr1.p50", "1-byte request/response, p50 latency (us)", False),
  ("rr1.p99", "1-byte request/response, p99 latency (us)", False),
  ("rr64.tps", "64-byte request/response, transactions/s", True),
  ("rr64.p50", "64-byte request/response, p50 latency (us)", False),
  ("rr64.p99", "64-byte request/response, p99 latency (us)", False),
  ("bp1.tps", "1-byte request/response busy-polling 50 us, transactions/s", True),
  ("bp1.p50", "1-byte request/response busy-polling 50 us, p50 (us)", False),
  ("bp1.p99", "1-byte request/response busy-polling 50 us, p99 (us)", False),
  ("bulk1500", "bulk throughput, MTU 1500 (Gbit/s)", True),
  ("bulk9000", "bulk throughput, MTU 9000 (Gbit/s)", True),
  ("crr", "connections/s", True),
  ("idle", "memory per idle connection (bytes)", False),
]
def num(x):
  try: return float(x)
  except (TypeError, ValueError): return None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
lines = [f"# veer vs kernel, end to end ({os.path.basename(table)[4:-3]})", "",
         f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), {int(mem)//1024} MiB, Linux {platform.release()}.",
         f"Each figure from one run of bench/e2e.sh ({secs} s per load, {idle_n} idle connections); "
         "ratio = veer / kernel (above 1 is better for veer where higher is better, below 1 where lower is).", "",
         "| figure | kernel <-> kernel (veth) | kernel client <-> veer server (TAP) | ratio |",
         "|---|---|---|---|"]
ratios = []
for key, text, higher in rows:
  k, v = num(R.get("kernel." + key)), num(R.get("veer-tap." + key))
  ratio = f"{v / k:.2f}" if k and v is not None else "n/a"
  if ratio != "n/a": ratios.append((text, v / k, higher))
  fmt = lambda x: "n/a" if x is None else (f"{x:.0f}" if x >= 100 else f"{x:.2f}")
  lines.append(f"| {text} | {fmt(k)} | {fmt(v)} | {ratio} |")
open(table, "w").write("\n".join(lines) + "\n")
# A horizontal bar chart of the ratios, 1.0 marked.
W, bar, left = 900, 26, 360
H = 40 + bar * len(ratios) + 30
top = max([r for _, r, _ in ratios] + [1.0]) * 1.1
x = lambda r: left + (W - left - 20) * r / top
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">',
       f'<text x="10" y="22" font-size="15">veer / kernel ({os.path.basename(table)[4:-3]})</text>']
for i, (text, r, higher) in enumerate(ratios):
  y = 40 + i * bar
  good = (r >= 1) == higher
  out.append(f'<text x="10" y="{y + 17}">{text}</text>')
  out.append(f'<rect x="{left}" y="{y + 4}" width="{x(r) - left:.1f}" height="{bar - 8}" fill="{"#3a7" if good else "#c54"}"/>')
  out.append(f'<text x="{x(r) + 4:.1f}" y="{y + 17}">{r:.2f}</text>')
out.append(f'<line x1="{x(1):.1f}" y1="34" x2="{x(1):.1f}" y2="{H - 24}" stroke="#000" stroke-dasharray="4 3"/>')
out.append(f'<text x="{x(1) - 8:.1f}" y="{H - 8}">1.0</text></svg>')
open(svg, "w").write("\n".join(out) + "\n")
print("\n".join(lines))
EOF
log "written: $table and ${table%.md}.svg"
