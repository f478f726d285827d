#!/usr/bin/env python3
"""The normaliser and differ behind `veer compare`.

Reads two run directories (kernel, veer) written by compare.sh — peer.pcap
(captured at the peer), states.raw (ss / veer ss samples), prog.out and
peer.out (tcp-steps' lines) — normalises them so that what may differ
between two correct runs does not (ISNs, ports, timestamp values, absolute
times), prints them side by side and ends with MATCH or the differences.
Standard library only.
"""

import argparse
import difflib
import io
import re
import struct
import sys

PROG_ADDR = "10.77.0.2"
PEER_ADDR = "10.77.0.1"
# Times compare equal within 10% or 50 ms, whichever is larger.
REL_TOLERANCE = 0.10
ABS_TOLERANCE = 0.05


# The peer's connect() to the program's listener completes once the program
# is up, which under `veer run` (configuration, the engine; a sanitizer's
# start-up in CI) takes longer: within 350 ms, well under the 1 s of a SYN
# retransmission that a real difference would show.
STARTUP_ABS_TOLERANCE = 0.35


# States are sampled every 100 ms (and must be seen twice): their times
# compare within 10% or 300 ms.
STATE_ABS_TOLERANCE = 0.3


def within_tolerance(a, b, absolute=ABS_TOLERANCE):
    return abs(a - b) <= max(absolute, REL_TOLERANCE * max(abs(a), abs(b)))


# --- capture ------------------------------------------------------------


class Segment:
    __slots__ = ("t", "src", "dst", "sport", "dport", "seq", "ack", "flags",
                 "win", "options", "length")


def read_pcap(data):
    """Returns the TCP/IPv4 segments of a pcap (Ethernet link type)."""
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    else:
        endian = ">"
        magic = struct.unpack(">I", data[:4])[0]
    frac = 1e-9 if magic == 0xA1B23C4D else 1e-6
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    segments = []
    off = 24
    while off + 16 <= len(data):
        sec, sub, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        seg = parse_frame(frame, linktype)
        if seg is not None:
            seg.t = sec + sub * frac
            segments.append(seg)
    return segments


def parse_frame(frame, linktype=1):
    if linktype == 1:
        if len(frame) < 14 or frame[12:14] != b"\x08\x00":
            return None
        ip = frame[14:]
    elif linktype in (101, 228):  # raw IPv4
        ip = frame
    else:
        return None
    if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
        return None
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total]
    if len(tcp) < 20:
        return None
    seg = Segment()
    seg.src = ".".join(str(b) for b in ip[12:16])
    seg.dst = ".".join(str(b) for b in ip[16:20])
    seg.sport, seg.dport, seg.seq, seg.ack = struct.unpack("!HHII", tcp[:12])
    doff = (tcp[12] >> 4) * 4
    seg.flags = tcp[13]
    seg.win = struct.unpack("!H", tcp[14:16])[0]
    seg.options = parse_options(tcp[20:doff])
    seg.length = total - ihl - doff
    return seg


def parse_options(raw):
    """Returns [(kind, value)]: values for MSS, wscale and SACK blocks."""
    out = []
    i = 0
    while i < len(raw):
        kind = raw[i]
        if kind == 0:
            out.append(("eol", None))
            break
        if kind == 1:
            out.append(("nop", None))
            i += 1
            continue
        if i + 1 >= len(raw) or raw[i + 1] < 2:
            break
        size = raw[i + 1]
        body = raw[i + 2:i + size]
        if kind == 2 and len(body) == 2:
            out.append(("mss", struct.unpack("!H", body)[0]))
        elif kind == 3 and len(body) == 1:
            out.append(("wscale", body[0]))
        elif kind == 4:
            out.append(("sackOK", None))
        elif kind == 5:
            blocks = [struct.unpack("!II", body[j:j + 8]) for j in range(0, len(body) - 7, 8)]
            out.append(("sack", blocks))
        elif kind == 8:
            out.append(("TS", None))  # values differ between any two runs
        else:
            out.append(("opt%d" % kind, None))
        i += size
    return out


FLAG_LETTERS = [(0x01, "F"), (0x02, "S"), (0x04, "R"), (0x08, "P"), (0x20, "U"),
                (0x40, "E"), (0x80, "W")]


def flag_string(flags):
    s = "".join(letter for bit, letter in FLAG_LETTERS if flags & bit)
    return s + "." if flags & 0x10 else s or "none"


def normalise_segments(segments):
    """Returns (lines, retransmissions): one line per segment with relative
    seq/ack, and the times (from the first segment) of retransmissions."""
    conns = {}  # frozenset of endpoints -> index
    isn = {}  # (conn, sender endpoint) -> isn
    highest = {}  # (conn, sender endpoint) -> highest relative end sent
    lines, retrans = [], []
    t0 = segments[0].t if segments else 0.0
    # A connection is a 4-tuple until a SYN with a new sequence number opens
    # another on it (TIME-WAIT taken over by tcp_tw_reuse or bind()).
    syns = {}
    count = 0
    for s in segments:
        if s.flags & 0x12 == 0x02:
            syns.setdefault(frozenset(((s.src, s.sport), (s.dst, s.dport))), set()).add(s.seq)
    several = len({frozenset(((s.src, s.sport), (s.dst, s.dport))) for s in segments}) > 1 \
        or any(len(v) > 1 for v in syns.values())
    for seg in segments:
        a, b = (seg.src, seg.sport), (seg.dst, seg.dport)
        key = frozenset((a, b))
        takeover = ""
        if key not in conns or (seg.flags & 0x12 == 0x02 and (conns[key], a) in isn
                                and seg.seq != isn[(conns[key], a)]):
            if key in conns:
                takeover = " (4-tuple of #%d, seq +%d)" % (
                    conns[key], (seg.seq - isn[(conns[key], a)]) % 2**32)
            count += 1
            conns[key] = count
        c = conns[key]
        if (c, a) not in isn:
            isn[(c, a)] = seg.seq
        rel_seq = (seg.seq - isn[(c, a)]) % 2**32
        if seg.flags & 0x10 and (c, b) in isn:
            rel_ack = (seg.ack - isn[(c, b)]) % 2**32
        elif seg.flags & 0x10:
            rel_ack = "?"
        else:
            rel_ack = None
        who = "prog>peer" if seg.src == PROG_ADDR else "peer>prog"
        opts = []
        for kind, value in seg.options:
            if kind == "sack":
                base = isn.get((c, b), 0)
                value = " ".join("%d:%d" % ((l - base) % 2**32, (r - base) % 2**32)
                                 for l, r in value)
                opts.append("sack " + value)
            elif value is not None:
                opts.append("%s %s" % (kind, value))
            else:
                opts.append(kind)
        line = "%s%s %-4s seq %d" % ("#%d " % c if several else "", who,
                                     flag_string(seg.flags), rel_seq)
        if rel_ack is not None:
            line += " ack %s" % rel_ack
        line += " win %d len %d" % (seg.win, seg.length)
        if opts:
            line += " [%s]" % ",".join(opts)
        line += takeover
        # A retransmission sends sequence space (data, SYN, FIN) again.
        span = seg.length + (1 if seg.flags & 0x02 else 0) + (1 if seg.flags & 0x01 else 0)
        if span and not seg.flags & 0x04:
            top = highest.get((c, a))
            if top is not None and rel_seq < top:
                retrans.append((who + " " + flag_string(seg.flags) + " seq %d" % rel_seq,
                                seg.t - t0))
            highest[(c, a)] = max(top or 0, rel_seq + span)
        lines.append(line)
    return lines, retrans


# --- socket states --------------------------------------------------------


# (state, first seen) -> seconds it was seen for, filled by read_states().
BRIEF_STATES = {}
# A state seen in one run only, for at most this long, is within the
# sampling's resolution (two or three samples): noted, not a difference.
BRIEF_STATE_SECONDS = 0.35


EMPTY_SAMPLE = "prog - | peer -"


def read_states(text, prog_pid=None, tuples=(), start=None):
    """Returns the sequence of distinct stable samples: each a string such as
    'prog ESTAB | peer ESTAB,LISTEN' with the time it was first seen (from
    `start`, the program's start). A sample must repeat in two consecutive
    samplings (100 ms apart) to count: a state shorter than that may or may
    not be seen in either run."""
    samples = []
    times = []
    current = None
    owned = set()
    for line in text.splitlines():
        if line.startswith("@"):
            if current is not None:
                samples.append(current)
            current = {"prog": [], "peer": []}
            times.append(float(line.split()[1]))
            continue
        if current is None:
            continue
        fields = line.split()
        if len(fields) < 6:
            continue
        side, state, local, remote = fields[0], fields[1], fields[4], fields[5]
        if side == "prog" and prog_pid is not None:
            # `veer ss` lists every veer process on the host: keep this
            # program's sockets, and those it no longer owns (orphans,
            # TIME-WAIT) by their addresses, as owned before or as captured.
            if re.search(r"pid=%s[,)]" % prog_pid, line):  # ",fd=" once accepted
                owned.add((local, remote))
            elif "users:" in line or ((local, remote) not in owned
                                      and (local, remote) not in tuples):
                continue
        current[side].append(state)
    if current is not None:
        samples.append(current)
    rendered = ["prog %s | peer %s" % (",".join(sorted(s["prog"])) or "-",
                                       ",".join(sorted(s["peer"])) or "-") for s in samples]
    t0 = start if start is not None else (times[0] if times else 0.0)
    stable = []
    last_seen = {}
    for i in range(1, len(rendered)):
        if rendered[i] == rendered[i - 1] and (not stable or stable[-1][0] != rendered[i]):
            first = i - 1
            while first > 0 and rendered[first - 1] == rendered[i]:
                first -= 1
            stable.append((rendered[i], max(0.0, times[first] - t0)))
            last_seen[len(stable) - 1] = times[i]
        elif stable and rendered[i] == stable[-1][0]:
            last_seen[len(stable) - 1] = times[i]
    # How long each was seen, to tell a brief state sampled in one run only.
    BRIEF_STATES.update({(text, round(t, 3)): last_seen[k] - t0 - t
                         for k, (text, t) in enumerate(stable)})
    # No socket at all before the first one exists or after the last one
    # went is not a state: how long a run shows it depends only on how fast
    # the programs start and stop (slower under a sanitizer).
    while stable and stable[0][0] == EMPTY_SAMPLE:
        stable.pop(0)
    while stable and stable[-1][0] == EMPTY_SAMPLE:
        stable.pop()
    return stable


# --- program output ---------------------------------------------------------

VEER_LOG_RE = re.compile(r"^veer\[\d+\] (warn|info|debug): ")
CALL_RE = re.compile(r"^(?P<call>.*?) \((?P<took>[0-9.]+)s\)$")


def read_calls(text):
    """Returns [(call and result, seconds taken or None)]."""
    calls = []
    for line in text.splitlines():
        if VEER_LOG_RE.match(line):
            continue  # veer's own log (e.g. the exit linger's warning), not a call
        m = CALL_RE.match(line.strip())
        if m:
            calls.append((m.group("call"), float(m.group("took"))))
        elif line.strip():
            calls.append((line.strip(), None))
    return calls


# --- side by side -------------------------------------------------------------


def side_by_side(title, left, right, out, width=62, show=None):
    """Prints two lists aligned; returns the differing pairs. `show`, if
    given, is a pair of lists to print in place of the compared texts."""
    show_left, show_right = show or (left, right)
    out.write("\n== %s\n%-*s   %s\n" % (title, width, "kernel", "veer"))
    diffs = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                out.write("%-*s   %s\n" % (width, show_left[i1 + k], show_right[j1 + k]))
            continue
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            l = left[i1 + k] if i1 + k < i2 else ""
            r = right[j1 + k] if j1 + k < j2 else ""
            out.write("%-*s ! %s\n" % (width, show_left[i1 + k] if l else "",
                                        show_right[j1 + k] if r else ""))
            diffs.append((l, r))
    return diffs


def compare_timed(title, left, right, out, width=62, absolute=ABS_TOLERANCE, startup=()):
    """Like side_by_side for (text, seconds) pairs: texts must be equal and
    times within the tolerance; calls starting with a prefix in `startup`
    within STARTUP_ABS_TOLERANCE."""
    def shown(items):
        fmt = "%s (%.2fs)" if absolute == ABS_TOLERANCE else "%.1fs %s"
        return [t if took is None else fmt % ((t, took) if absolute == ABS_TOLERANCE else (took, t))
                for t, took in items]

    diffs = side_by_side(title, [t for t, _ in left], [t for t, _ in right], out, width,
                         (shown(left), shown(right)))
    texts_equal = [t for t, _ in left] == [t for t, _ in right]
    if texts_equal:
        for (text, a), (_, b) in zip(left, right):
            # The peer's accept() waits for the program to start, which
            # takes longer under `veer run` (configuration, the engine).
            if text.startswith("accept ="):
                continue
            # A scenario's sleep paces the programs; how long it took is the
            # scheduler's (a loaded CI host), not the stack's.
            if text.startswith("sleep:"):
                continue
            tolerance = STARTUP_ABS_TOLERANCE if text.startswith(tuple(startup)) else absolute
            if a is not None and b is not None and not within_tolerance(a, b, tolerance):
                diffs.append(("%s at %.2fs" % (text, a), "%s at %.2fs" % (text, b)))
    return diffs


def load_run(path):
    def read(name, mode="r"):
        try:
            with open("%s/%s" % (path, name), mode) as f:
                return f.read()
        except FileNotFoundError:
            return b"" if "b" in mode else ""

    pid = read("prog.pid").strip() or None
    captured = read_pcap(read("peer.pcap", "rb"))
    segments, retrans = normalise_segments(captured)
    tuples = {("%s:%d" % (s.src, s.sport), "%s:%d" % (s.dst, s.dport))
              for s in captured if s.src == PROG_ADDR}
    return {
        "segments": segments,
        "retrans": [("%s" % text, t) for text, t in retrans],
        "states": read_states(read("states.raw"), pid, tuples,
                              float(read("start").strip() or 0) or None),
        "prog": read_calls(read("prog.out")),
        "peer": read_calls(read("peer.out")),
    }


# Differences from Linux that every scenario shows, each explained in the
# README ("Differences from Linux"); a difference matching one is listed as
# documented and does not fail the comparison.
KNOWN_DIFFERENCES = [
    # After the handshake Linux offers rcv_ssthresh (the SYN's 64240, 502 in
    # units of 128) and grows it as data arrives (tcp_grow_window); veer
    # offers the receive buffer's free space from the start (512).
    (r"kernel '(#\d+ )?prog>peer [^S]* win 5(0\d|10) len .*/ veer '.* win 512 len ",
     "window after the handshake: Linux 502 or 510 (rcv_ssthresh), veer 512 (buffer space)"),
    # Linux's RST from close() with SO_LINGER 0 carries the receive window
    # (tcp_send_active_reset through tcp_transmit_skb); veer's says 0.
    (r"prog>peer R\.  .* win 502 len 0 .*/ veer '.* R\.  .* win 0 len 0",
     "window of an abortive RST: Linux the receive window, veer 0"),
]


WIN_RE = re.compile(r" win (\d+) ")


def window_only(l, r):
    """For two segment lines that differ only in a non-zero window (not on a
    SYN): why that is documented, else None."""
    if not l or not r or WIN_RE.sub(" win W ", l) != WIN_RE.sub(" win W ", r):
        return None
    wl, wr = WIN_RE.search(l), WIN_RE.search(r)
    if not wl or not wr or "0" in (wl.group(1), wr.group(1)) or " S" in l.split(" seq ")[0]:
        return None
    if direction(l) == "prog>peer":
        # README, "Differences from Linux": veer offers the buffer's free
        # space; Linux grows rcv_ssthresh with the truesize of what arrives.
        return ("the program's receive window once data flows: Linux's rcv_ssthresh ramp "
                "(truesize), veer's free buffer space")
    # The peer is the same kernel in both runs, but its rcv_ssthresh grows
    # with the truesize of the skbs its link delivers: a veth hands over the
    # sender's skbs, the TAP builds its own.
    return "the kernel peer's receive window: skb truesize over a veth vs a TAP"


def scenario_expected(path):
    """The scenario's EXPECT_DIFF lines: regular expressions that a
    documented difference (kernel or veer side) matches."""
    expected = []
    if not path:
        return expected
    with open(path) as f:
        text = f.read()
    m = re.search(r"^EXPECT_DIFF=\"(.*?)\"", text, re.S | re.M)
    if m:
        expected = [l.strip() for l in m.group(1).splitlines() if l.strip()]
    return expected


def scenario_setting(path, name):
    """A NAME="value" (or NAME=value) line of the scenario, or ""."""
    if not path:
        return ""
    with open(path) as f:
        m = re.search(r'^%s="?([^"\n]*)"?' % name, f.read(), re.M)
    return m.group(1).strip() if m else ""


SEG_RE = re.compile(r"^(#\d+ )?(\S+) (\S+)\s+seq (\d+)(?: ack (\d+))?.* len (\d+)(?: \[(.*)\])?$")


def loose_ack_clock(segments):
    """For a scenario whose ACK clock races (ACK_CLOCK=loose): how new data
    and retransmissions interleave, and which ACKs the peer coalesces,
    depend on when each ACK arrives, and differ between two runs of the
    kernel itself. What does not: the program's segments as a set (each
    retransmission once), the segments that open and close (in order), the
    holes the peer's SACK blocks reported, any D-SACK, and the last ACK."""
    kept, data, holes, dsacks, last_ack = [], [], set(), set(), {}
    for line in segments:
        m = SEG_RE.match(line)
        if not m:
            kept.append(line)
            continue
        conn, who, flags, seq, ack, length, opts = m.groups()
        conn = conn or ""
        if flags in (".", "P.") and int(length) > 0 and who == "prog>peer":
            data.append(WIN_RE.sub(" win W ", line))
            continue
        if flags == "." and int(length) == 0 and ack is not None:
            ack = int(ack)
            last_ack[(conn, who)] = ack
            blocks = []
            for opt in (opts or "").split(","):
                if opt.startswith("sack "):
                    for b in opt[5:].split():
                        left, right = (int(x) for x in b.split(":"))
                        blocks.append((left, right))
            if blocks and blocks[0][1] <= ack:
                dsacks.add("%s%s D-SACK %d:%d" % (conn, who, blocks[0][0], blocks[0][1]))
                blocks = blocks[1:]
            edge = ack
            for left, right in sorted(blocks):
                if left > edge:
                    holes.add((conn, who, edge, left))
                edge = max(edge, right)
            continue
        kept.append(line)
    data.sort(key=lambda l: (int(SEG_RE.match(l).group(4)), l))
    out = kept + data
    out += ["%s%s SACK hole %d:%d" % hole for hole in sorted(holes)]
    out += sorted(dsacks)
    out += ["%s%s last pure ACK %d" % (c, w, v) for (c, w), v in sorted(last_ack.items())]
    return out


def direction(line):
    """The direction of a normalised segment line ("#2 prog>peer S ...")."""
    words = line.split(" ", 2)
    return words[1] if words[0].startswith("#") else words[0]


def compare_runs(kernel, veer, out, expected=()):
    """Prints the report; returns (unexpected, expected) difference lists."""
    diffs = []
    notes = []
    # Segments that cross on the wire may be captured in either order, so
    # each direction is compared on its own; the interleaved view is shown.
    side_by_side("segments at the peer", kernel["segments"], veer["segments"], out)
    for who in ("prog>peer", "peer>prog"):
        left = [l for l in kernel["segments"] if direction(l) == who]
        right = [l for l in veer["segments"] if direction(l) == who]
        found = side_by_side("segments " + who, left, right, io.StringIO())
        diffs += [("segments " + who, l, r) for l, r in found]
    title = "socket states (sampled; seconds from the program's start)"
    found = compare_timed(title, kernel["states"], veer["states"], out,
                          absolute=STATE_ABS_TOLERANCE)
    brief = [s for run in (kernel, veer) for s in run["states"]
             if BRIEF_STATES.get((s[0], round(s[1], 3)), 1e9) <= BRIEF_STATE_SECONDS]
    brief_texts = {s for s, _ in brief}
    for l, r in found:
        if (not l and r in brief_texts) or (not r and l in brief_texts):
            notes.append("a state seen briefly (under %.2f s) in one run only: %s"
                         % (BRIEF_STATE_SECONDS, l or r))
        else:
            diffs.append(("socket states", l, r))
    for title, key, startup in (("program: calls, results and time taken", "prog", ()),
                                ("peer: calls, results and time taken", "peer", ("connect:",))):
        found = compare_timed(title, kernel[key], veer[key], out, startup=startup)
        diffs += [(title.split(":")[0], l, r) for l, r in found]
    out.write("\n== retransmissions (seconds from the first segment)\n")
    kr, vr = kernel["retrans"], veer["retrans"]
    for i in range(max(len(kr), len(vr))):
        l = "%s at %.3f" % kr[i] if i < len(kr) else ""
        r = "%s at %.3f" % vr[i] if i < len(vr) else ""
        ok = (i < len(kr) and i < len(vr) and kr[i][0] == vr[i][0]
              and within_tolerance(kr[i][1], vr[i][1]))
        out.write("%-62s %s %s\n" % (l, " " if ok else "!", r))
        if not ok:
            diffs.append(("retransmissions", l, r))
    unexpected, known = [], list(notes)
    for d in diffs:
        text = "%s: kernel '%s' / veer '%s'" % d
        if d[0].startswith("segments "):
            # A segment is excused only if all but its window is the same.
            same = bool(d[1] and d[2]) and (WIN_RE.sub(" win W ", d[1]) ==
                                              WIN_RE.sub(" win W ", d[2]))
            why = [why for pattern, why in KNOWN_DIFFERENCES if same and re.search(pattern, text)]
            if not why and window_only(d[1], d[2]):
                why.append(window_only(d[1], d[2]))
        else:
            why = [why for pattern, why in KNOWN_DIFFERENCES if re.search(pattern, text)]
        why += ["documented in the scenario: " + e for e in expected if re.search(e, text)]
        if why:
            known.append(why[0])
        else:
            unexpected.append(d)
    return unexpected, known


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario")
    ap.add_argument("kernel_dir")
    ap.add_argument("veer_dir")
    args = ap.parse_args(argv)
    kernel, veer = load_run(args.kernel_dir), load_run(args.veer_dir)
    if scenario_setting(args.scenario, "ACK_CLOCK") == "loose":
        for run in (kernel, veer):
            run["segments"] = loose_ack_clock(run["segments"])
    unexpected, known = compare_runs(kernel, veer, sys.stdout,
                                     scenario_expected(args.scenario))
    print()
    for why in sorted(set(known)):
        print("documented difference (%d segments or lines): %s" % (known.count(why), why))
    if unexpected:
        print("DIFFERENCES: %d" % len(unexpected))
        for title, l, r in unexpected:
            print("  %s: kernel '%s' / veer '%s'" % (title, l, r))
        return 1
    print("MATCH" + (" (with %d documented differences)" % len(known) if known else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
