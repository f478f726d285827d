#!/bin/bash
# Measures, on this machine's kernel, the behaviours our own conformance
# scripts (scripts/*.pkt) assert, so each script can say where its numbers
# come from. Not part of ctest: it takes about 4 minutes of real time.
#
# The first scenarios run on loopback with raw sockets; the rest play the
# peer on a TUN device (kernel_peer.py: listen backlog and SYN queue
# overflow, simultaneous open and close, TIME_WAIT reuse, keepalive,
# zero-window probing) and print each segment as a packetdrill script
# writes it.
#
#   sudo tests/conformance/measure_kernel.sh
#
# Everything happens inside a throwaway network namespace (its loopback and
# a TUN device); nothing outside it is touched. Needs python3, tcpdump, nft, ss
# and /dev/net/tun.
set -euo pipefail

if [[ ${1:-} != --inside ]]; then
  ns=veer-measure-$$
  ip netns add "$ns"
  trap 'ip netns del "$ns"' EXIT
  ip netns exec "$ns" "$0" --inside
  exit
fi

ip link set lo up

echo "== SYN to a closed port (127.0.0.1:9)"
tcpdump -i lo -n -tt -c 2 'tcp port 9' 2>/dev/null &
sleep 0.5
python3 -c "
import socket
try: socket.create_connection(('127.0.0.1', 9))
except OSError as e: print('connect:', e)"
wait

echo "== SYN-ACK retransmissions, tcp_synack_retries=5 (the SYN-ACKs are dropped before TCP sees them)"
sysctl -q net.ipv4.tcp_synack_retries=5
nft add table inet veer_measure
nft add chain inet veer_measure in '{ type filter hook input priority 0; }'
nft add rule inet veer_measure in ip daddr 127.0.0.2 tcp dport 40000 drop
python3 -c "
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', 8080)); l.listen(5); time.sleep(70)" &
sleep 0.5
tcpdump -i lo -n -tt 'tcp port 8080' 2>/dev/null >/tmp/veer-measure-synack.$$ &
dump=$!
sleep 0.5
python3 - <<'PY'
# One SYN <mss 1460> from 127.0.0.2:40000, from a raw socket: no kernel
# socket owns that port, and nft drops the SYN-ACKs, so nobody answers them.
import socket, struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst = '127.0.0.2', '127.0.0.1'
tcp = struct.pack('!HHIIBBHHH', 40000, 8080, 1000, 0, 6 << 4, 0x02, 65535, 0, 0)
tcp += struct.pack('!BBH', 2, 4, 1460)
pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp))
tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
r.bind((src, 0))
r.sendto(tcp, (dst, 0))
PY
sleep 66
kill $dump
wait $dump 2>/dev/null || true
awk 'NF && !t0 { t0 = $1 } NF { printf "%8.3f s  %s\n", $1 - t0, $0 }' /tmp/veer-measure-synack.$$
rm -f /tmp/veer-measure-synack.$$
nft delete table inet veer_measure
wait

echo "== orphaned FIN_WAIT2 with tcp_fin_timeout=5, then TIME_WAIT"
sysctl -q net.ipv4.tcp_fin_timeout=5
python3 - <<'PY'
import socket, subprocess, time

def state(port):
    out = subprocess.run(['ss', '-tanH', '-o', 'sport', '= :%d' % port],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else 'gone'

def watch(port, t0, limit):
    last = None
    while time.time() - t0 < limit:
        s = state(port)
        if s != last:
            print('  %6.2f s: %s' % (time.time() - t0, s))
            last = s
        time.sleep(0.05)

# FIN_WAIT2: we close; the peer ACKs our FIN but never closes its side.
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(('127.0.0.1', 9001)); l.listen(1)
c = socket.socket(); c.bind(('127.0.0.1', 9101)); c.connect(('127.0.0.1', 9001))
peer, _ = l.accept()
t0 = time.time(); c.close()
print('FIN_WAIT2 (client port 9101), from close():'); watch(9101, t0, 8)

# TIME_WAIT: we close first, then the peer closes.
l2 = socket.socket(); l2.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l2.bind(('127.0.0.1', 9002)); l2.listen(1)
c = socket.socket(); c.bind(('127.0.0.1', 9102)); c.connect(('127.0.0.1', 9002))
peer2, _ = l2.accept()
c.close(); time.sleep(0.05)
t0 = time.time(); peer2.close()
print('TIME_WAIT (client port 9102), from the peer\'s FIN:'); watch(9102, t0, 62)
PY

echo "== the scenarios kernel_peer.py plays against a TUN peer"
python3 "$(dirname "$0")/kernel_peer.py" all
