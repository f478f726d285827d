#!/usr/bin/env bash
# End-to-end benchmark: the same load against the kernel's TCP and against
# veer's, in one run, reported as ratios to the kernel.
#
# usage: sudo bench/e2e.sh [--quick] [--out DIR]
#
# Configurations (each in network namespaces this script makes and removes):
#   kernel         kernel client <-> kernel server over a veth pair between two
#                  namespaces (MTU 1500 and 9000)
#   veer-tap       kernel client <-> veer server (`veer run`) over the TAP of
#                  `veer net up` (MTU 1500 and 9000)
#   veer-xdp       kernel client <-> veer server over AF_XDP: the veth pair of
#                  `veer net up --xdp` (veer's socket on one end, the kernel on
#                  the other; copy mode, veth has no zero-copy). MTU 1500 and
#                  9000 (XDP multi-buffer; where the kernel has none, the 9000
#                  cell is n/a with veer's reason)
#   veer-veer-xdp  veer client <-> veer server (both under `veer run`), each on
#                  AF_XDP at one end of a veth pair between two namespaces,
#                  neither end with a kernel address. MTU 1500 and 9000, as above
# Figures:
#   rr1/rr64  request/response of 1 and 64 bytes on one connection, blocking:
#             transactions/s, p50 and p99 latency (bench/progs/tcp_rr.c)
#   bp1       1-byte request/response busy-polling 50 us (a kernel end:
#             SO_BUSY_POLL on its socket; a veer end: net.core.busy_read and
#             busy_poll)
#   bulk      single-stream iperf3 throughput, server side receiving
#   crr       connections/s: connect, 1-byte exchange, close
#   idle      memory per idle connection with 10000 open: the kernel's slab
#             growth per socket (both ends are kernel sockets: / 2N), veer's
#             server process RSS growth per connection (its whole stack; in
#             veer-veer-xdp the veer client holds its own on top)
# Prints a Markdown table (one column per configuration, a ratio to the kernel
# beside each veer one, a numbered note under it for every n/a) and writes it,
# with an SVG chart of the ratios (grouped bars, log scale) and the machine's
# description, to bench/results/ (or --out DIR).
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

NS_S="vb-srv-$$" NS_C="vb-cli-$$" NS_T="vb-tap-$$" NS_X="vb-xdp-$$" NS_VA="vb-va-$$" NS_VB="vb-vb-$$"
WORK="$(mktemp -d /tmp/veer-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for ns in "$NS_S" "$NS_C" "$NS_T" "$NS_X" "$NS_VA" "$NS_VB"; do
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
# veer on AF_XDP with the kernel as its peer, as the integration tests'
# IT_DEVICE=xdp runs have it: `veer net up --xdp` makes the veth pair
# vx0 <-> vx0-k in one namespace, veer's socket on vx0 (no kernel address),
# the kernel at 10.77.0.1 on vx0-k; the kernel client runs there too.
xdp_topology() {  # MTU
  # Called as an if's condition, where set -e does not stop it: each step
  # returns on failure.
  ip netns del "$NS_X" 2>/dev/null || true
  ip netns add "$NS_X" || return
  ip -n "$NS_X" link set lo up || return
  ip netns exec "$NS_X" "$BIN/veer" net up --xdp -s device=xdp:vx0 -s mtu="$1" >/dev/null
}
# veer to veer on AF_XDP: a veth pair vxa <-> vxb between two namespaces,
# neither end with a kernel address; the veer server's socket on vxa
# (10.66.0.2), the veer client's on vxb (10.66.0.3). Each veer computes its
# own checksums, so the offloads `veer net up --xdp` turns off for a kernel
# sender do not matter here.
veer_pair_topology() {  # MTU
  for ns in "$NS_VA" "$NS_VB"; do ip netns del "$ns" 2>/dev/null || true; done
  ip netns add "$NS_VA" || return
  ip netns add "$NS_VB" || return
  ip link add vxa netns "$NS_VA" type veth peer name vxb netns "$NS_VB" || return
  ip -n "$NS_VA" link set lo up || return
  ip -n "$NS_VB" link set lo up || return
  ip -n "$NS_VA" link set dev vxa mtu "$1" up || return
  ip -n "$NS_VB" link set dev vxb mtu "$1" up
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
# Waits up to SECONDS for PID (a child) to exit, then kills it.
wait_gone() {  # PID SECONDS
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

declare -A R  # R[config.metric] = value
declare -A NOTE  # NOTE[config.metric] = why that figure is n/a

# measure CONFIG MTU SERVER_NS CLIENT_NS HOST: how the server and the client
# run comes from the arrays SERVER_RUN and CLIENT_RUN (a command prefix: env
# for the kernel, `veer run ... --` for veer).
measure() {
  local cfg=$1 mtu=$2 sns=$3 cns=$4 host=$5
  local run=("${SERVER_RUN[@]}") crun=("${CLIENT_RUN[@]}")
  if [ "$mtu" = 1500 ]; then
    log "$cfg: request/response, connections/s"
    start_server "$sns" "${run[@]}" "$BIN/tcp_rr" server 5001
    for size in 1 64; do
      line=$(ip netns exec "$cns" timeout $((secs + 20)) "${crun[@]}" "$BIN/tcp_rr" rr "$host" 5001 "$size" "$secs")
      R[$cfg.rr$size.tps]=$(sed -n 's/.*tps=\([0-9.]*\).*/\1/p' <<<"$line")
      R[$cfg.rr$size.p50]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
      R[$cfg.rr$size.p99]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
    done
    line=$(ip netns exec "$cns" timeout $((secs + 20)) "${crun[@]}" "$BIN/tcp_rr" crr "$host" 5001 "$secs")
    R[$cfg.crr]=$(sed -n 's/.*cps=\([0-9.]*\).*/\1/p' <<<"$line")
    stop_server
    log "$cfg: request/response, busy-polling ${busy_us} us"
    # The kernel: SO_BUSY_POLL on both ends' sockets; veer: its
    # net.core.busy_read/busy_poll knobs (a kernel client busy-polls with
    # SO_BUSY_POLL, a veer client with the knobs).
    local busy=(env TCP_RR_BUSY_POLL="$busy_us" VEER_BUSY_READ="$busy_us" VEER_BUSY_POLL="$busy_us")
    start_server "$sns" "${busy[@]}" "${run[@]}" "$BIN/tcp_rr" server 5001
    line=$(ip netns exec "$cns" timeout $((secs + 20)) "${busy[@]}" "${crun[@]}" \
      "$BIN/tcp_rr" rr "$host" 5001 1 "$secs")
    R[$cfg.bp1.tps]=$(sed -n 's/.*tps=\([0-9.]*\).*/\1/p' <<<"$line")
    R[$cfg.bp1.p50]=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
    R[$cfg.bp1.p99]=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
    stop_server
    log "$cfg: $idle_n idle connections"
    local slab0 slab1 rss0 rss1
    # Every prefix execs (ip netns exec, env, veer run): SERVER_PID is tcp_rr.
    start_server "$sns" "${run[@]}" "$BIN/tcp_rr" hold 5002
    sleep 0.5
    slab0=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
    rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
    coproc IDLE { exec ip netns exec "$cns" "${crun[@]}" "$BIN/tcp_rr" idle "$host" 5002 "$idle_n"; }
    local ready=""
    read -r -t 120 ready <&"${IDLE[0]}" || true
    [[ "$ready" == "idle ready"* ]] || {
      echo "e2e: $cfg: the idle connections did not open" >&2
      exit 1
    }
    sleep 1
    slab1=$(awk '/^Slab:/ {print $2}' /proc/meminfo)
    rss1=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
    if [ "$cfg" = kernel ]; then
      R[$cfg.idle]=$(((slab1 - slab0) * 1024 / (2 * idle_n)))
    else
      R[$cfg.idle]=$(((rss1 - rss0) * 1024 / idle_n))
    fi
    # The client exits when its standard input closes (a veer client after
    # closing its connections): wait for that, so that no veer process still
    # holds the device when the next one starts.
    local client_pid=$IDLE_PID
    eval "exec ${IDLE[1]}>&-"
    wait_gone "$client_pid" 15
    stop_server
  fi
  log "$cfg: bulk at MTU $mtu"
  start_server "$sns" "${run[@]}" iperf3 -4 -s -p 5201 --forceflush -1
  ip netns exec "$cns" timeout $((secs + 30)) "${crun[@]}" iperf3 -4 -c "$host" -p 5201 -t "$secs" -J \
    >"$WORK/iperf.json" || true
  R[$cfg.bulk$mtu]=$(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))' "$WORK/iperf.json" 2>/dev/null || echo "")
  stop_server
}

for mtu in 1500 9000; do
  kernel_topology "$mtu"
  SERVER_RUN=(env) CLIENT_RUN=(env)
  measure kernel "$mtu" "$NS_S" "$NS_C" 10.88.0.1
  tap_topology "$mtu"
  SERVER_RUN=("$BIN/veer" run -s mtu="$mtu" --) CLIENT_RUN=(env)
  measure veer-tap "$mtu" "$NS_T" "$NS_T" 10.77.0.2
done
# A configuration whose topology or AF_XDP socket cannot be made here (no
# XDP support, no CAP_BPF) gets n/a in every cell with the reason, and the
# run goes on.
xdp_unavailable() {  # CONFIG MTU REASON
  local metric metrics=(bulk"$2")
  [ "$2" != 1500 ] || metrics+=(rr1.tps rr1.p50 rr1.p99 rr64.tps rr64.p50 rr64.p99 bp1.tps
    bp1.p50 bp1.p99 crr idle)
  for metric in "${metrics[@]}"; do
    NOTE[$1.$metric]="$1 could not run here at MTU $2: $3"
  done
  log "$1 (MTU $2): skipped: $3"
}
# Whether a veer server opens its AF_XDP socket in NS (veer opens the device
# at the first listen); if not, sets WHY to veer's complaint.
xdp_probe() {  # NS RUN...
  local ns=$1 pid
  shift
  ip netns exec "$ns" "$@" "$BIN/tcp_rr" hold 5009 >"$WORK/probe.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do
    grep -q listening "$WORK/probe.out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  grep -q listening "$WORK/probe.out" && return 0
  WHY=$(grep -m1 -i error "$WORK/probe.out" | sed 's/^veer\[[0-9]*\] error: //' || true)
  WHY=${WHY:-the veer server did not start on AF_XDP}
  return 1
}

# MTU 9000 over AF_XDP needs XDP multi-buffer (xdp_multi_buffer, on by
# default); a kernel or driver without it fails the probe, with veer's reason.
for mtu in 1500 9000; do
  SERVER_RUN=("$BIN/veer" run -s device=xdp:vx0 -s mtu="$mtu" --) CLIENT_RUN=(env)
  if ! xdp_topology "$mtu" 2>"$WORK/topology.err"; then
    xdp_unavailable veer-xdp "$mtu" "veer net up --xdp failed: $(head -1 "$WORK/topology.err")"
  elif ! xdp_probe "$NS_X" "${SERVER_RUN[@]}"; then
    xdp_unavailable veer-xdp "$mtu" "$WHY"
  else
    measure veer-xdp "$mtu" "$NS_X" "$NS_X" 10.77.0.2
  fi
  SERVER_RUN=("$BIN/veer" run -s device=xdp:vxa -s address=10.66.0.2/24 -s gateway=none -s mtu="$mtu" --)
  CLIENT_RUN=("$BIN/veer" run -s device=xdp:vxb -s address=10.66.0.3/24 -s gateway=none -s mtu="$mtu" --)
  if ! veer_pair_topology "$mtu" 2>"$WORK/topology.err"; then
    xdp_unavailable veer-veer-xdp "$mtu" "the veth pair could not be made: $(head -1 "$WORK/topology.err")"
  elif ! xdp_probe "$NS_VA" "${SERVER_RUN[@]}"; then
    xdp_unavailable veer-veer-xdp "$mtu" "$WHY"
  else
    measure veer-veer-xdp "$mtu" "$NS_VA" "$NS_VB" 10.66.0.2
  fi
done

# --- report ------------------------------------------------------------------
stamp=$(date +%Y%m%d-%H%M)
mkdir -p "$out_dir"
table="$out_dir/e2e-$stamp.md"
for k in "${!R[@]}"; do printf '%s\t%s\n' "$k" "${R[$k]}"; done >"$WORK/figures.tsv"
for k in "${!NOTE[@]}"; do printf '%s\t%s\n' "$k" "${NOTE[$k]}"; done >"$WORK/notes.tsv"
python3 - "$table" "$out_dir/e2e-$stamp.svg" "$secs" "$idle_n" "$WORK/figures.tsv" "$WORK/notes.tsv" <<'EOF'
import sys, platform, os, math
table, svg, secs, idle_n, figures, notes = sys.argv[1:7]
def tsv(path):
  return dict(l.rstrip("\n").split("\t", 1) for l in open(path) if "\t" in l)
R, NOTE = tsv(figures), tsv(notes)
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
# The veer configurations, each against the kernel's figure, with its bar colour.
configs = [("veer-tap", "veer TAP", "#3b75af"),
           ("veer-xdp", "veer XDP", "#e08a1e"),
           ("veer-veer-xdp", "veer<->veer XDP", "#7b57a8")]
def num(x):
  try: return float(x)
  except (TypeError, ValueError): return None
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "?")
lines = [f"# veer vs kernel, end to end ({os.path.basename(table)[4:-3]})", "",
         f"Machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), {int(mem)//1024} MiB, Linux {platform.release()}.",
         f"Each figure from one run of bench/e2e.sh ({secs} s per load, {idle_n} idle connections); "
         "ratio = veer / kernel (above 1 is better for veer where higher is better, below 1 where lower is).",
         "kernel: kernel client <-> kernel server over a veth pair; veer TAP: kernel client <-> veer "
         "server over the TAP of `veer net up`; veer XDP: kernel client <-> veer server over AF_XDP "
         "(copy mode) on a veth pair (`veer net up --xdp`); veer<->veer XDP: veer client <-> veer "
         "server, each on AF_XDP at one end of a veth pair.", "",
         "| figure | kernel | " + " | ".join(f"{name} | ratio" for _, name, _ in configs) + " |",
         "|---" * (2 + 2 * len(configs)) + "|"]
fmt = lambda x: f"{x:.0f}" if x >= 100 else f"{x:.2f}"
rfmt = lambda r: f"{r:.2f}" if r >= 0.01 else f"{r:.1g}"
why = []  # the notes under the table, numbered
def na(key):
  reason = NOTE.get(key, "no figure from this run (the measurement failed: see the log)")
  if reason not in why: why.append(reason)
  return f"n/a [{why.index(reason) + 1}]"
ratios = []  # (text, higher, [ratio or None per config])
for key, text, higher in rows:
  k = num(R.get("kernel." + key))
  cells = [fmt(k) if k is not None else na("kernel." + key)]
  rs = []
  for cfg, _, _ in configs:
    v = num(R.get(f"{cfg}.{key}"))
    r = v / k if k and v is not None else None
    rs.append(r)
    cells += [fmt(v) if v is not None else na(f"{cfg}.{key}"), rfmt(r) if r is not None else "n/a"]
  if any(r is not None for r in rs): ratios.append((text, higher, rs))
  lines.append(f"| {text} | " + " | ".join(cells) + " |")
for i, w in enumerate(why):
  lines += ["", f"[{i + 1}] {w}"]
open(table, "w").write("\n".join(lines) + "\n")
# Grouped horizontal bars: one group per figure, one bar per veer
# configuration, on a log scale from 1.0 (right: veer's figure is the larger,
# left: the smaller), so that 0.1 and 10 are as far from 1.0; the value is
# green where veer is better than the kernel, red where worse.
W, bar, gap, left, head = 980, 13, 12, 430, 58
group = bar * len(configs) + gap
H = head + group * len(ratios) + 34
shown = [r for _, _, rs in ratios for r in rs if r]
lo = max(min(shown + [0.5]) / 1.3, 0.01)
hi = min(max(shown + [2.0]) * 1.3, 100.0)
x = lambda r: left + 40 + (W - left - 100) * (math.log10(min(max(r, lo), hi)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="13">',
       f'<text x="10" y="22" font-size="15">veer / kernel ({os.path.basename(table)[4:-3]}), log scale</text>']
lx = 10
for _, name, colour in configs:
  out.append(f'<rect x="{lx}" y="34" width="14" height="12" fill="{colour}"/>')
  out.append(f'<text x="{lx + 19}" y="45">{name.replace("<", "&lt;").replace(">", "&gt;")}</text>')
  lx += 30 + 8 * len(name)
for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 2, 5, 10, 20, 50, 100):
  if lo <= t <= hi:
    out.append(f'<line x1="{x(t):.1f}" y1="{head - 6}" x2="{x(t):.1f}" y2="{H - 24}" stroke="#ddd"/>')
    out.append(f'<text x="{x(t):.1f}" y="{H - 8}" font-size="11" text-anchor="middle" fill="#666">{t:g}</text>')
for i, (text, higher, rs) in enumerate(ratios):
  y = head + i * group
  out.append(f'<text x="10" y="{y + bar * len(configs) / 2 + 5:.1f}">{text}</text>')
  for j, (r, (_, _, colour)) in enumerate(zip(rs, configs)):
    yb = y + j * bar
    if r is None:
      out.append(f'<text x="{x(1) + 4:.1f}" y="{yb + bar - 2}" font-size="11" fill="#888">n/a</text>')
      continue
    good = (r >= 1) == higher
    x0, x1 = sorted((x(1), x(r)) if r > 0 else (x(lo), x(1)))
    out.append(f'<rect x="{x0:.1f}" y="{yb + 1}" width="{max(x1 - x0, 1):.1f}" height="{bar - 2}" fill="{colour}"/>')
    tx, anchor = (x1 + 4, "start") if r >= 1 else (x0 - 4, "end")
    out.append(f'<text x="{tx:.1f}" y="{yb + bar - 2}" font-size="11" text-anchor="{anchor}" fill="{"#2a7" if good else "#c33"}">{rfmt(r)}</text>')
out.append(f'<line x1="{x(1):.1f}" y1="{head - 6}" x2="{x(1):.1f}" y2="{H - 24}" stroke="#000" stroke-dasharray="4 3"/>')
out.append(f'<text x="{x(1):.1f}" y="{H - 8}" text-anchor="middle">1.0</text></svg>')
open(svg, "w").write("\n".join(out) + "\n")
print("\n".join(lines))
EOF
log "written: $table and ${table%.md}.svg"
