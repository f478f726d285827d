#!/usr/bin/env python3
"""A scripted TCP peer for measuring this machine's kernel.

measure_kernel.sh runs this inside a throwaway network namespace. It makes a
TUN device with the addresses packetdrill uses (local 192.168.0.1, remote
192.0.2.1), plays the remote peer by writing hand-made segments into the TUN
device and reading the kernel's answers from it, and drives the kernel's side
through ordinary sockets. Every segment is printed the way a packetdrill
script writes it: time since the scenario started, direction ('<' into the
kernel, '>' from it), flags, sequence numbers relative to each side's initial
sequence number, window and options (TS values relative to the first one
seen).

    kernel_peer.py SCENARIO...   (see SCENARIOS at the bottom; `all` runs all)

Needs root (TUN device, sysctls) and nothing beyond the Python standard
library.
"""
import errno
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import time

LOCAL = '192.168.0.1'
REMOTE = '192.0.2.1'
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def sysctl(name, value):
    path = '/proc/sys/' + name.replace('.', '/')
    with open(path, 'w') as f:
        f.write(str(value))


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def encode_options(opts):
    out = b''
    for o in opts:
        kind = o[0]
        if kind == 'mss':
            out += struct.pack('!BBH', 2, 4, o[1])
        elif kind == 'sackOK':
            out += b'\x04\x02'
        elif kind == 'nop':
            out += b'\x01'
        elif kind == 'wscale':
            out += struct.pack('!BBB', 3, 3, o[1])
        elif kind == 'TS':
            out += struct.pack('!BBII', 8, 10, o[1], o[2])
        else:
            raise ValueError(kind)
    while len(out) % 4:
        out += b'\x01'
    return out


def decode_options(raw):
    opts, i = [], 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            opts.append(('eol',))
            break
        if kind == 1:
            opts.append(('nop',))
            i += 1
            continue
        length = raw[i + 1]
        body = raw[i + 2:i + length]
        if kind == 2:
            opts.append(('mss', struct.unpack('!H', body)[0]))
        elif kind == 3:
            opts.append(('wscale', body[0]))
        elif kind == 4:
            opts.append(('sackOK',))
        elif kind == 5:
            opts.append(('sack', [struct.unpack('!II', body[j:j + 8])
                                  for j in range(0, len(body), 8)]))
        elif kind == 8:
            opts.append(('TS',) + struct.unpack('!II', body))
        else:
            opts.append(('opt%d' % kind,))
        i += length
    return opts


class Segment:
    def __init__(self, sport, dport, flags, seq, ack, win, opts, payload):
        self.sport, self.dport, self.flags = sport, dport, flags
        self.seq, self.ack, self.win = seq, ack, win
        self.opts, self.payload = opts, payload


class Peer:
    """The remote end: a TUN device the kernel routes 192.0.2.0/24 to."""

    def __init__(self):
        self.fd = os.open('/dev/net/tun', os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack('16sH', b'tun0', IFF_TUN | IFF_NO_PI))
        for cmd in ('ip link set tun0 up',
                    'ip addr add %s/16 dev tun0' % LOCAL,
                    'ip route add 192.0.2.0/24 dev tun0'):
            subprocess.run(cmd.split(), check=True)
        sysctl('net.ipv4.conf.all.rp_filter', 0)
        sysctl('net.ipv4.conf.tun0.rp_filter', 0)
        time.sleep(0.3)
        self.drain()
        self.t0 = time.monotonic()
        self.isn = {}    # (kernel port, peer port) -> the kernel's ISN
        self.ts0 = None  # the kernel's first TSval

    def start(self, title):
        print('== ' + title, flush=True)
        self.drain()
        self.t0 = time.monotonic()
        self.isn = {}
        self.ts0 = None

    def now(self):
        return time.monotonic() - self.t0

    def note(self, text):
        print('%7.3f   %s' % (self.now(), text), flush=True)

    def drain(self):
        while select.select([self.fd], [], [], 0)[0]:
            os.read(self.fd, 65536)

    # --- Output ------------------------------------------------------------
    def show(self, direction, s):
        key = (s.dport, s.sport) if direction == '<' else (s.sport, s.dport)
        kisn = self.isn.get(key, 0)
        flags = ''.join(c for f, c in ((SYN, 'S'), (FIN, 'F'), (RST, 'R'), (PSH, 'P'))
                        if s.flags & f) + ('.' if s.flags & ACK else '')
        if direction == '>':
            seq = (s.seq - kisn) & 0xFFFFFFFF
            ack = s.ack
        else:
            seq = s.seq
            ack = (s.ack - kisn) & 0xFFFFFFFF
        text = '%s %s %d:%d(%d)' % (direction, flags or '-', seq, seq + len(s.payload),
                                    len(s.payload))
        if s.flags & ACK:
            text += ' ack %d' % ack
        text += ' win %d' % s.win
        shown = []
        for o in s.opts:
            if o[0] in ('mss', 'wscale'):
                shown.append('%s %d' % o)
            elif o[0] == 'TS':
                val, ecr = o[1], o[2]
                if direction == '>':
                    if self.ts0 is None:
                        self.ts0 = val
                    val -= self.ts0
                elif self.ts0 is not None and ecr:
                    ecr -= self.ts0
                shown.append('TS val %d ecr %d' % (val, ecr))
            elif o[0] == 'sack':
                shown.append('sack ' + ' '.join('%d:%d' % ((l - kisn) & 0xFFFFFFFF,
                                                           (r - kisn) & 0xFFFFFFFF)
                                                 if direction == '<' else
                                                 '%d:%d' % (l, r) for l, r in o[1]))
            else:
                shown.append(o[0])
        if shown:
            text += ' <' + ','.join(shown) + '>'
        print('%7.3f %s   (ports %d>%d)' % (self.now(), text, s.sport, s.dport), flush=True)

    # --- The wire ----------------------------------------------------------
    def send(self, pport, kport, flags, seq, ack=0, win=65535, opts=(), payload=b''):
        """A segment from the peer's port `pport` to the kernel's `kport`.
        `ack` is relative to the kernel's ISN for that pair."""
        kisn = self.isn.get((kport, pport), 0)
        raw_ack = (ack + kisn) & 0xFFFFFFFF if flags & ACK else 0
        optb = encode_options(list(opts))
        hlen = 20 + len(optb)
        tcp = struct.pack('!HHIIBBHHH', pport, kport, seq & 0xFFFFFFFF, raw_ack, hlen // 4 << 4,
                          flags, win, 0, 0) + optb + payload
        src, dst = socket.inet_aton(REMOTE), socket.inet_aton(LOCAL)
        pseudo = src + dst + struct.pack('!BBH', 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
        self.show('<', Segment(pport, kport, flags, seq, raw_ack, win, list(opts), payload))
        os.write(self.fd, ip + tcp)

    def recv(self, timeout):
        """The kernel's next TCP segment within `timeout` seconds, or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            pkt = os.read(self.fd, 65536)
            if len(pkt) < 20 or pkt[0] >> 4 != 4 or pkt[9] != 6:
                continue
            ihl = (pkt[0] & 15) * 4
            tcp = pkt[ihl:]
            sport, dport, seq, ack, off, flags, win = struct.unpack('!HHIIBBH', tcp[:16])
            hlen = (off >> 4) * 4
            s = Segment(sport, dport, flags, seq, ack, win, decode_options(tcp[20:hlen]),
                        tcp[hlen:])
            if flags & SYN:
                self.isn[(sport, dport)] = seq
            self.show('>', s)
            return s

    def watch(self, seconds):
        """Prints everything the kernel sends for `seconds`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.recv(end - time.monotonic())

    def until(self, t):
        """Prints everything the kernel sends until `t` s into the scenario."""
        self.watch(max(0.0, t - self.now()))

    def kernel_ts(self, seg):
        for o in seg.opts:
            if o[0] == 'TS':
                return o[1]
        return 0


SYN_OPTS = (('mss', 1460), ('sackOK',), ('TS', 100, 0), ('nop',), ('wscale', 7))


def listener(port, backlog, reuse=True):
    s = socket.socket()
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((LOCAL, port))
    s.listen(backlog)
    s.setblocking(False)
    return s


def abort(s):
    """close() with SO_LINGER {1, 0}: a RST, so nothing lingers into the next scenario."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()


def try_accept(p, l):
    try:
        c, addr = l.accept()
        p.note('accept() = a connection from port %d' % addr[1])
        return c
    except BlockingIOError:
        p.note('accept() = -1 EAGAIN')
        return None


def handshake(p, pport, kport=8080, opts=(('mss', 1460),)):
    p.send(pport, kport, SYN, 0, opts=opts)
    synack = p.recv(0.5)
    p.send(pport, kport, ACK, 1, ack=1)
    return synack


# --- Scenarios --------------------------------------------------------------

def backlog(p, syncookies):
    """Accept queue full (listen backlog 0 holds one connection)."""
    sysctl('net.ipv4.tcp_syncookies', syncookies)
    sysctl('net.ipv4.tcp_abort_on_overflow', 0)
    p.start('listen backlog overflow, tcp_syncookies=%d: a SYN while the accept queue is full'
            % syncookies)
    l = listener(8080, 0)
    handshake(p, 50001)                      # fills the queue
    p.watch(0.1)
    p.send(40000, 8080, SYN, 0, opts=(('mss', 1460),))
    p.until(1.0)
    p.send(40000, 8080, SYN, 0, opts=(('mss', 1460),))
    p.until(2.0)
    a = try_accept(p, l)
    p.send(40000, 8080, SYN, 0, opts=(('mss', 1460),))
    p.recv(0.5)
    p.send(40000, 8080, ACK, 1, ack=1)
    p.watch(0.2)
    b = try_accept(p, l)
    for s in (a, b, l):
        if s:
            abort(s)
    p.watch(0.3)

    # The final ACK. With tcp_syncookies=1 a listen(fd, 0) queue takes it;
    # without cookies a second pending request would not fit in the SYN
    # queue (its limit is the backlog too), so listen(fd, 1) and one more
    # connection fill the accept queue instead.
    p.start('listen backlog overflow, tcp_syncookies=%d: the final ACK while the accept queue '
            'is full' % syncookies)
    a = b = None
    l = listener(8081, 0 if syncookies else 1)
    opts = (('mss', 1460), ('sackOK',), ('nop',), ('nop',), ('nop',), ('wscale', 7))
    p.send(40001, 8081, SYN, 0, opts=opts)   # the connection followed
    p.recv(0.5)
    handshake(p, 50002, 8081, opts)          # takes a place in the accept queue
    if not syncookies:
        handshake(p, 50003, 8081, opts)      # and the other one
    p.watch(0.1)
    p.note('(port 40001 sends its final ACK)')
    p.send(40001, 8081, ACK, 1, ack=1)
    synacks = 0
    while p.now() < 16 and synacks < 3:
        s = p.recv(16 - p.now())
        if s and s.dport == 40001 and s.flags & SYN:
            synacks += 1
            p.send(40001, 8081, ACK, 1, ack=1)   # the peer answers every SYN-ACK
            if synacks == 2:
                a = try_accept(p, l)
    p.watch(0.3)
    b = try_accept(p, l)
    c = try_accept(p, l)
    for s in (a, b, c, l):
        if s:
            abort(s)
    p.watch(0.2)

    # The SYN queue's limit is the listen() backlog as well
    # (inet_csk_reqsk_queue_is_full()): with listen(fd, 0) a second pending
    # request overflows it.
    p.start('SYN queue overflow, tcp_syncookies=%d, listen(fd, 0): two pending requests'
            % syncookies)
    l = listener(8082, 0)
    p.send(40002, 8082, SYN, 0, opts=opts)
    p.recv(0.3)
    p.send(50004, 8082, SYN, 0, opts=opts)
    p.watch(0.3)
    p.send(50004, 8082, ACK, 1, ack=1)
    p.watch(0.3)
    abort(l)
    p.watch(0.2)
    sysctl('net.ipv4.tcp_syncookies', 1)


def backlog_syncookies_0(p):
    backlog(p, 0)


def backlog_syncookies_1(p):
    backlog(p, 1)


def simultaneous_open(p):
    p.start('simultaneous open: connect(), the peer\'s SYN crosses ours')
    c = socket.socket()
    c.setblocking(False)
    c.bind((LOCAL, 45000))
    c.connect_ex((REMOTE, 8080))
    syn = p.recv(0.5)
    p.watch(0.1)
    p.send(8080, 45000, SYN, 0, opts=(('mss', 1460), ('sackOK',), ('TS', 700, 0), ('nop',),
                                       ('wscale', 7)))
    p.recv(0.5)
    p.watch(0.1)
    p.send(8080, 45000, SYN | ACK, 0, ack=1,
           opts=(('mss', 1460), ('sackOK',), ('TS', 800, p.kernel_ts(syn)), ('nop',),
                 ('wscale', 7)))
    p.watch(0.3)
    p.note('connect() again: %s; SO_ERROR %d' % (errno.errorcode.get(c.connect_ex((REMOTE, 8080)),
                                                                      'success'),
                                                c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    abort(c)
    p.watch(0.3)

    p.start('simultaneous open, no SYN-ACK from the peer: the SYN-ACK is retransmitted')
    c = socket.socket()
    c.setblocking(False)
    c.bind((LOCAL, 45001))
    c.connect_ex((REMOTE, 8080))
    p.recv(0.5)
    p.watch(0.1)
    p.send(8080, 45001, SYN, 0, opts=(('mss', 1460), ('sackOK',), ('TS', 700, 0), ('nop',),
                                       ('wscale', 7)))
    p.until(8.5)
    abort(c)
    p.watch(0.3)


def simultaneous_close(p):
    p.start('simultaneous close: FIN_WAIT1 receives the peer\'s FIN')
    l = listener(8080, 1)
    handshake(p, 41000)
    a, _ = l.accept()
    l.close()
    p.watch(0.1)
    a.close()
    p.recv(0.5)
    p.watch(0.1)
    p.note('(the peer\'s own FIN, not acknowledging ours)')
    p.send(41000, 8080, FIN | ACK, 1, ack=1)
    p.until(1.0)
    p.note('ss: ' + subprocess.run(['ss', '-tanH', 'sport', '= :8080'], capture_output=True,
                                   text=True).stdout.strip())
    p.until(1.5)
    p.send(41000, 8080, ACK, 2, ack=2)
    p.watch(0.2)
    p.note('ss: ' + subprocess.run(['ss', '-tanoH', 'sport', '= :8080'], capture_output=True,
                                   text=True).stdout.strip())
    p.send(41000, 8080, FIN | ACK, 1, ack=2)   # a retransmitted FIN in TIME_WAIT
    p.watch(0.3)


def time_wait_reuse(p, reuse):
    # A port of its own for each scenario: a TIME_WAIT left by one would
    # be taken over by the next.
    port = 50010 + reuse
    sysctl('net.ipv4.tcp_tw_reuse', reuse)
    sysctl('net.ipv4.ip_local_port_range', '%d %d' % (port, port))
    p.start('TIME_WAIT reuse, tcp_tw_reuse=%d, ip_local_port_range %d %d' % (reuse, port, port))
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex((REMOTE, 8080))
    syn = p.recv(0.5)
    port = syn.sport
    p.send(8080, port, SYN | ACK, 0, ack=1,
           opts=(('mss', 1460), ('sackOK',), ('TS', 700, p.kernel_ts(syn)), ('nop',),
                 ('wscale', 7)))
    p.recv(0.5)
    c.close()
    fin = p.recv(0.5)
    p.send(8080, port, FIN | ACK, 1, ack=2, opts=(('nop',), ('nop',),
                                                  ('TS', 800, p.kernel_ts(fin))))
    p.recv(0.5)
    p.note('TIME_WAIT from here on')
    entered = p.now()
    for t in (0.5, 1.5):
        p.until(entered + t)
        d = socket.socket()
        d.setblocking(False)
        r = d.connect_ex((REMOTE, 8080))
        p.note('connect() to the same peer: %s' % errno.errorcode.get(r, r))
        s = p.recv(0.3)
        if s:
            p.note('... a SYN from port %d, ISN %d above the old snd_nxt' %
                   (s.sport, (s.seq - (syn.seq + 2)) & 0xFFFFFFFF))
        d.close()
        p.watch(0.1)
    sysctl('net.ipv4.ip_local_port_range', '32768 60999')
    sysctl('net.ipv4.tcp_tw_reuse', 2)


def time_wait_reuse_0(p):
    time_wait_reuse(p, 0)


def time_wait_reuse_1(p):
    time_wait_reuse(p, 1)


def time_wait_bind(p):
    sysctl('net.ipv4.tcp_tw_reuse', 0)
    sysctl('net.ipv4.ip_local_port_range', '50012 50012')
    p.start('TIME_WAIT reuse by an explicit bind(), tcp_tw_reuse=0, ip_local_port_range '
            '50012 50012')
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.setblocking(False)
    c.connect_ex((REMOTE, 8080))
    syn = p.recv(0.5)
    port = syn.sport
    p.send(8080, port, SYN | ACK, 0, ack=1,
           opts=(('mss', 1460), ('sackOK',), ('TS', 700, p.kernel_ts(syn)), ('nop',),
                 ('wscale', 7)))
    p.recv(0.5)
    c.close()
    fin = p.recv(0.5)
    p.send(8080, port, FIN | ACK, 1, ack=2, opts=(('nop',), ('nop',),
                                                  ('TS', 800, p.kernel_ts(fin))))
    p.recv(0.5)
    p.note('TIME_WAIT from here on')
    p.until(2.0)
    d = socket.socket()
    d.setblocking(False)
    r = d.connect_ex((REMOTE, 8080))
    p.note('connect() with an ephemeral port: %s' % errno.errorcode.get(r, r))
    d.close()
    for reuse in (False, True):
        d = socket.socket()
        if reuse:
            d.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            d.bind((LOCAL, port))
            p.note('bind(%d) with SO_REUSEADDR=%d: ok' % (port, reuse))
        except OSError as e:
            p.note('bind(%d) with SO_REUSEADDR=%d: %s' % (port, reuse, errno.errorcode[e.errno]))
            d.close()
            continue
        d.setblocking(False)
        r = d.connect_ex((REMOTE, 8080))
        p.note('connect(): %s' % errno.errorcode.get(r, r))
        s = p.recv(0.3)
        if s:
            p.note('... ISN %d above the old one' % ((s.seq - syn.seq) & 0xFFFFFFFF))
        d.close()
    p.watch(0.2)
    sysctl('net.ipv4.ip_local_port_range', '32768 60999')
    sysctl('net.ipv4.tcp_tw_reuse', 2)


def keepalive(p):
    p.start('keepalive: TCP_KEEPIDLE 2, TCP_KEEPINTVL 1, TCP_KEEPCNT 3, the peer silent')
    l = listener(8080, 1)
    handshake(p, 40000)
    a, _ = l.accept()
    l.close()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    p.note('keepalive options set')
    p.until(6.5)
    a.setblocking(False)
    try:
        a.recv(10)
    except OSError as e:
        p.note('recv(): %s' % errno.errorcode[e.errno])
    a.close()

    p.start('keepalive: the same, the peer answering the first two probes')
    l = listener(8081, 1)
    handshake(p, 40001, 8081)
    a, _ = l.accept()
    l.close()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 2)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    a.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    answered = 0
    while p.now() < 12:
        s = p.recv(12 - p.now())
        if s and not s.flags & RST and answered < 2:
            answered += 1
            p.send(40001, 8081, ACK, 1, ack=1)
    a.setblocking(False)
    try:
        a.recv(10)
    except OSError as e:
        p.note('recv(): %s' % errno.errorcode[e.errno])
    a.close()


def zero_window(p):
    p.start('zero window: the peer closes its window, then opens it')
    l = listener(8080, 1)
    p.send(40000, 8080, SYN, 0, opts=(('mss', 1000), ('sackOK',), ('nop',), ('nop',), ('nop',),
                                      ('wscale', 0)))
    p.recv(0.5)
    time.sleep(0.1)
    p.send(40000, 8080, ACK, 1, ack=1, win=65535)
    a, _ = l.accept()
    l.close()
    a.send(b'x' * 1000)
    p.recv(0.5)
    time.sleep(0.1)
    p.send(40000, 8080, ACK, 1, ack=1001, win=0)
    a.send(b'y' * 2000)
    p.note('write of 2000 bytes')
    probes = 0
    while p.now() < 6.5:
        s = p.recv(6.5 - p.now())
        if s:
            probes += 1
            p.send(40000, 8080, ACK, 1, ack=1001, win=0)   # still closed
    p.send(40000, 8080, ACK, 1, ack=1001, win=65535)
    p.watch(0.5)
    abort(a)
    p.watch(0.3)

    p.start('zero window: the peer answers each probe 0.5 s late')
    l = listener(8081, 1)
    p.send(40001, 8081, SYN, 0, opts=(('mss', 1000), ('sackOK',), ('nop',), ('nop',), ('nop',),
                                      ('wscale', 0)))
    p.recv(0.5)
    time.sleep(0.1)
    p.send(40001, 8081, ACK, 1, ack=1, win=65535)
    a, _ = l.accept()
    l.close()
    a.send(b'x' * 1000)
    p.recv(0.5)
    time.sleep(0.1)
    p.send(40001, 8081, ACK, 1, ack=1001, win=0)
    a.send(b'y' * 2000)
    p.note('write of 2000 bytes')
    while p.now() < 7:
        s = p.recv(7 - p.now())
        if s:
            p.watch(0.5)
            p.send(40001, 8081, ACK, 1, ack=1001, win=0)
    abort(a)
    p.watch(0.3)


SCENARIOS = {
    'backlog0': backlog_syncookies_0,
    'backlog1': backlog_syncookies_1,
    'simopen': simultaneous_open,
    'simclose': simultaneous_close,
    'twreuse0': time_wait_reuse_0,
    'twreuse1': time_wait_reuse_1,
    'twbind': time_wait_bind,
    'keepalive': keepalive,
    'zerowindow': zero_window,
}

if __name__ == '__main__':
    names = sys.argv[1:] or ['all']
    if names == ['all']:
        names = list(SCENARIOS)
    peer = Peer()
    for n in names:
        SCENARIOS[n](peer)
