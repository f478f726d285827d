"""Unit tests for `veer compare`'s normaliser and differ (tools/compare/compare.py)."""

import io
import struct
import unittest

import compare

PROG, PEER = "10.77.0.2", "10.77.0.1"


def ip_bytes(addr):
    return bytes(int(x) for x in addr.split("."))


def frame(src, dst, sport, dport, seq, ack, flags, win=502, options=b"", payload=b""):
    """An Ethernet/IPv4/TCP frame (checksums left zero: the parser ignores them)."""
    options += b"\x00" * (-len(options) % 4)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (5 + len(options) // 4) << 4,
                      flags, win, 0, 0) + options + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     ip_bytes(src), ip_bytes(dst)) + tcp
    return b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip


def pcap(frames):
    """A pcap (microseconds, Ethernet) of (time, frame) pairs."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    for t, f in frames:
        out += struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)), len(f), len(f)) + f
    return out


SYN_OPTS = (b"\x02\x04\x05\xb4" b"\x04\x02" b"\x08\x0a" + struct.pack("!II", 12345, 0) +
            b"\x01\x03\x03\x07")
TS_OPTS = b"\x01\x01\x08\x0a" + struct.pack("!II", 999, 12345)


def handshake(isn_c, isn_s, port, t=100.0):
    return [
        (t, frame(PROG, PEER, port, 18000, isn_c, 0, 0x02, 64240, SYN_OPTS)),
        (t + 0.001, frame(PEER, PROG, 18000, port, isn_s, isn_c + 1, 0x12, 65160, SYN_OPTS)),
        (t + 0.002, frame(PROG, PEER, port, 18000, isn_c + 1, isn_s + 1, 0x10, 502, TS_OPTS)),
    ]


class NormaliseSegments(unittest.TestCase):
    def normalise(self, frames):
        return compare.normalise_segments(compare.read_pcap(pcap(frames)))

    def test_isns_ports_and_timestamp_values_do_not_show(self):
        a, _ = self.normalise(handshake(1000, 5000, 40000))
        b, _ = self.normalise(handshake(4294967290, 77, 51234))  # wraps around 2^32
        self.assertEqual(a, b)
        self.assertEqual(a[0], "prog>peer S    seq 0 win 64240 len 0 "
                         "[mss 1460,sackOK,TS,nop,wscale 7]")
        self.assertEqual(a[1], "peer>prog S.   seq 0 ack 1 win 65160 len 0 "
                         "[mss 1460,sackOK,TS,nop,wscale 7]")
        self.assertEqual(a[2], "prog>peer .    seq 1 ack 1 win 502 len 0 [nop,nop,TS]")

    def test_data_fin_and_reset(self):
        frames = handshake(1000, 5000, 40000) + [
            (100.01, frame(PROG, PEER, 40000, 18000, 1001, 5001, 0x18, payload=b"abc")),
            (100.02, frame(PROG, PEER, 40000, 18000, 1004, 5001, 0x11)),
            (100.03, frame(PEER, PROG, 18000, 40000, 5001, 0, 0x04, 0)),
        ]
        lines, retrans = self.normalise(frames)
        self.assertEqual(lines[3], "prog>peer P.   seq 1 ack 1 win 502 len 3")
        self.assertEqual(lines[4], "prog>peer F.   seq 4 ack 1 win 502 len 0")
        self.assertEqual(lines[5], "peer>prog R    seq 1 win 0 len 0")
        self.assertEqual(retrans, [])

    def test_retransmissions_are_timed_from_the_first_segment(self):
        syn = frame(PROG, PEER, 40000, 18000, 7, 0, 0x02, 64240, SYN_OPTS)
        lines, retrans = self.normalise([(10.0, syn), (11.0, syn), (13.02, syn)])
        self.assertEqual(len(lines), 3)
        self.assertEqual([text for text, _ in retrans], ["prog>peer S seq 0"] * 2)
        self.assertAlmostEqual(retrans[0][1], 1.0, places=3)
        self.assertAlmostEqual(retrans[1][1], 3.02, places=3)

    def test_sack_blocks_are_relative_to_the_other_sides_isn(self):
        frames = handshake(1000, 5000, 40000) + [
            (100.1, frame(PROG, PEER, 40000, 18000, 1001, 5001, 0x10,
                          options=b"\x01\x01\x05\x0a" + struct.pack("!II", 6449, 7897))),
        ]
        lines, _ = self.normalise(frames)
        self.assertIn("[nop,nop,sack 1449:2897]", lines[-1])

    def test_connections_are_numbered_when_there_are_several(self):
        lines, _ = self.normalise(handshake(1, 2, 40000) + handshake(9, 9, 40001, 101.0))
        self.assertTrue(lines[0].startswith("#1 prog>peer S "))
        self.assertTrue(lines[3].startswith("#2 prog>peer S "))

    def test_a_syn_taking_a_4_tuple_over_is_a_new_connection(self):
        lines, _ = self.normalise(handshake(1000, 5000, 40000) +
                                  handshake(1000 + 65549, 9, 40000, 101.0))
        self.assertEqual(lines[3], "#2 prog>peer S    seq 0 win 64240 len 0 "
                         "[mss 1460,sackOK,TS,nop,wscale 7] (4-tuple of #1, seq +65549)")
        self.assertTrue(lines[4].startswith("#2 peer>prog S.   seq 0 ack 1 "))


class States(unittest.TestCase):
    RAW = "\n".join([
        "@ 10.0", "prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000",
        "@ 10.1", "prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000",
        "@ 10.2", "prog FIN-WAIT-1 0 0 10.77.0.2:40000 10.77.0.1:18000",  # seen once
        "@ 10.3", "prog TIME-WAIT 0 0 10.77.0.2:40000 10.77.0.1:18000",
        "peer TIME-WAIT 0 0 10.77.0.1:18000 10.77.0.2:40000",
        "@ 10.4", "prog TIME-WAIT 0 0 10.77.0.2:40000 10.77.0.1:18000",
        "peer TIME-WAIT 0 0 10.77.0.1:18000 10.77.0.2:40000",
    ])

    def test_only_states_seen_twice_count_with_their_first_time(self):
        states = compare.read_states(self.RAW, start=9.9)
        self.assertEqual([s for s, _ in states],
                         ["prog ESTAB | peer -", "prog TIME-WAIT | peer TIME-WAIT"])
        self.assertAlmostEqual(states[0][1], 0.1)
        self.assertAlmostEqual(states[1][1], 0.4)

    def test_no_socket_at_all_before_the_first_or_after_the_last_is_no_state(self):
        raw = "\n".join([
            "@ 1.0", "@ 1.1",
            "@ 1.2", "prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000",
            "@ 1.3", "prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000",
            "@ 1.4", "@ 1.5", "@ 1.6",
            "@ 1.7", "prog ESTAB 0 0 10.77.0.2:40001 10.77.0.1:18000",
            "@ 1.8", "prog ESTAB 0 0 10.77.0.2:40001 10.77.0.1:18000",
            "@ 1.9", "@ 2.0",
        ])
        states = compare.read_states(raw, start=1.0)
        # Between two connections, nothing is a state; at either end it is not.
        self.assertEqual([s for s, _ in states],
                         ["prog ESTAB | peer -", "prog - | peer -", "prog ESTAB | peer -"])

    def test_veer_ss_keeps_this_programs_sockets_only(self):
        raw = "\n".join([
            "@ 1.0",
            'prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000 users:(("tcp-steps",pid=42,fd=3))',
            'prog ESTAB 0 0 10.77.0.2:40001 10.77.0.1:18000 users:(("other",pid=7,fd=3))',
            "prog TIME-WAIT 0 0 10.77.0.2:50000 10.77.0.1:18000",
            "prog TIME-WAIT 0 0 10.77.0.2:50001 10.77.0.1:18000",
            "@ 1.1",
            'prog ESTAB 0 0 10.77.0.2:40000 10.77.0.1:18000 users:(("tcp-steps",pid=42,fd=3))',
            'prog ESTAB 0 0 10.77.0.2:40001 10.77.0.1:18000 users:(("other",pid=7,fd=3))',
            "prog TIME-WAIT 0 0 10.77.0.2:50000 10.77.0.1:18000",
            "prog TIME-WAIT 0 0 10.77.0.2:50001 10.77.0.1:18000",
        ])
        captured = {("10.77.0.2:50000", "10.77.0.1:18000")}
        states = compare.read_states(raw, "42", captured)
        self.assertEqual([s for s, _ in states], ["prog ESTAB,TIME-WAIT | peer -"])


class BriefStates(unittest.TestCase):
    def test_a_state_sampled_in_one_run_only_is_noted_when_brief(self):
        def raw(states):
            lines = []
            for k, st in enumerate(states):
                lines += ["@ %.1f" % (1 + k / 10), "prog %s 0 0 a b" % st]
            return "\n".join(lines)

        kernel = compare.read_states(raw(["LISTEN"] * 4 + ["ESTAB"] * 5), start=1.0)
        brief = compare.read_states(raw(["LISTEN"] * 4 + ["SYN-RECV"] * 2 + ["ESTAB"] * 3),
                                    start=1.0)
        long = compare.read_states(raw(["LISTEN"] * 2 + ["SYN-RECV"] * 5 + ["ESTAB"] * 2),
                                   start=1.0)
        run = {"segments": [], "retrans": [], "prog": [], "peer": []}
        unexpected, known = compare.compare_runs(dict(run, states=kernel),
                                                 dict(run, states=brief), io.StringIO())
        self.assertEqual(unexpected, [])
        self.assertEqual(len(known), 1)
        unexpected, _ = compare.compare_runs(dict(run, states=kernel),
                                             dict(run, states=long), io.StringIO())
        self.assertEqual(len(unexpected), 1)


class Differ(unittest.TestCase):
    def run_of(self, segments=(), prog=(), retrans=()):
        return {"segments": list(segments), "retrans": list(retrans), "states": [],
                "prog": list(prog), "peer": []}

    def test_equal_runs_match(self):
        run = self.run_of(["prog>peer S    seq 0 win 64240 len 0"],
                          [("connect = -1 ECONNREFUSED", 0.0)])
        unexpected, known = compare.compare_runs(run, run, io.StringIO())
        self.assertEqual((unexpected, known), ([], []))

    def test_crossing_segments_may_come_in_either_order(self):
        a = self.run_of(["prog>peer .    seq 5 ack 2 win 502 len 0", "peer>prog F.   seq 2 ack 5"])
        b = self.run_of(["peer>prog F.   seq 2 ack 5", "prog>peer .    seq 5 ack 2 win 502 len 0"])
        self.assertEqual(compare.compare_runs(a, b, io.StringIO())[0], [])

    def test_results_and_times_within_tolerance(self):
        k = self.run_of(prog=[("connect = -1 ETIMEDOUT", 3.0)])
        self.assertEqual(compare.compare_runs(
            k, self.run_of(prog=[("connect = -1 ETIMEDOUT", 3.25)]), io.StringIO())[0], [])
        self.assertEqual(len(compare.compare_runs(
            k, self.run_of(prog=[("connect = -1 ETIMEDOUT", 3.5)]), io.StringIO())[0]), 1)
        self.assertEqual(len(compare.compare_runs(
            k, self.run_of(prog=[("connect = -1 ECONNREFUSED", 3.0)]), io.StringIO())[0]), 1)

    def test_sleeps_and_the_peers_connect_to_a_starting_program(self):
        # A sleep's duration is the scheduler's: not compared.
        k = self.run_of(prog=[("sleep:0.5 = 0", 0.68)])
        v = self.run_of(prog=[("sleep:0.5 = 0", 0.50)])
        self.assertEqual(compare.compare_runs(k, v, io.StringIO())[0], [])
        # ...but its result is.
        v = self.run_of(prog=[("sleep:0.5 = -1 EINTR", 0.50)])
        self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)
        # The peer's connect() waits for the program to be up: 350 ms.
        def peer(took):
            run = self.run_of()
            run["peer"] = [("connect:10.77.0.2:18009 = 0", took)]
            return run
        self.assertEqual(compare.compare_runs(peer(0.0), peer(0.17), io.StringIO())[0], [])
        self.assertEqual(len(compare.compare_runs(peer(0.0), peer(1.0), io.StringIO())[0]), 1)
        # The program's own connect() keeps the usual tolerance.
        k = self.run_of(prog=[("connect:10.77.0.1:18001 = 0", 0.0)])
        v = self.run_of(prog=[("connect:10.77.0.1:18001 = 0", 0.17)])
        self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)

    def test_retransmission_times(self):
        k = self.run_of(retrans=[("prog>peer S seq 0", 1.0), ("prog>peer S seq 0", 2.0)])
        v = self.run_of(retrans=[("prog>peer S seq 0", 1.04), ("prog>peer S seq 0", 3.0)])
        unexpected, _ = compare.compare_runs(k, v, io.StringIO())
        self.assertEqual([d[0] for d in unexpected], ["retransmissions"])

    def test_documented_differences_do_not_fail(self):
        k = self.run_of(["prog>peer .    seq 1 ack 1 win 502 len 0 [nop,nop,TS]"])
        v = self.run_of(["prog>peer .    seq 1 ack 1 win 512 len 0 [nop,nop,TS]"])
        unexpected, known = compare.compare_runs(k, v, io.StringIO())
        self.assertEqual(unexpected, [])
        self.assertEqual(len(known), 1)
        # Nor is anything else that differs along with the window.
        k = self.run_of(["prog>peer .    seq 1 ack 1 win 502 len 1448 [nop,nop,TS]"])
        v = self.run_of(["prog>peer P.   seq 1 ack 1 win 512 len 1448 [nop,nop,TS]"])
        self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)
        # In a SYN the window is not excused.
        k = self.run_of(["prog>peer S    seq 0 win 64240 len 0"])
        v = self.run_of(["prog>peer S    seq 0 win 65535 len 0"])
        self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)

    def test_windows_once_data_flows(self):
        # A non-zero window, either way: the program's (rcv_ssthresh ramp)
        # and the kernel peer's (skb truesize over a veth or a TAP).
        for line in ("prog>peer .    seq 3001 ack 949 win %d len 0 [nop,nop,TS]",
                     "peer>prog .    seq 1 ack 1897 win %d len 0 [nop,nop,TS]"):
            k, v = self.run_of([line % 525]), self.run_of([line % 505])
            unexpected, known = compare.compare_runs(k, v, io.StringIO())
            self.assertEqual((unexpected, len(known)), ([], 1))
            # A zero window is not excused, nor anything else that differs.
            k, v = self.run_of([line % 67]), self.run_of([line % 0])
            self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)
        k = self.run_of(["peer>prog .    seq 1 ack 1897 win 67 len 0"])
        v = self.run_of(["peer>prog .    seq 1 ack 2845 win 70 len 0"])
        self.assertEqual(len(compare.compare_runs(k, v, io.StringIO())[0]), 1)

    def test_tolerance(self):
        self.assertTrue(compare.within_tolerance(0.0, 0.05))
        self.assertFalse(compare.within_tolerance(0.0, 0.06))
        self.assertTrue(compare.within_tolerance(5.0, 5.5))
        self.assertFalse(compare.within_tolerance(5.0, 5.6))


class LooseAckClock(unittest.TestCase):
    SYN = "prog>peer S    seq 0 win 64240 len 0 [mss 1460,sackOK,TS,nop,wscale 7]"
    FIN = "prog>peer F.   seq 4345 ack 1 win 502 len 0 [nop,nop,TS]"

    def data(self, seq, win=502, flags="."):
        return "prog>peer %-4s seq %d ack 1 win %d len 1448 [nop,nop,TS]" % (flags, seq, win)

    def ack(self, ack, sack=""):
        opts = "nop,nop,TS" + (",nop,nop,sack " + sack if sack else "")
        return "peer>prog .    seq 1 ack %d win 70 len 0 [%s]" % (ack, opts)

    def test_interleaving_and_coalescing_do_not_count(self):
        # Both runs lose the second segment; one retransmits it before its
        # last new segment, the other after, and the peers ACK differently.
        a = [self.SYN, self.data(1), self.data(1449), self.data(2897, 512), self.ack(1449),
             self.ack(1449, "2897:4345"), self.data(1449), self.ack(4345), self.FIN]
        b = [self.SYN, self.data(1), self.ack(1449), self.data(1449), self.data(2897),
             self.ack(1449, "2897:4345"), self.ack(1449, "2897:4345"), self.data(1449),
             self.ack(2897, "2897:4345"), self.ack(4345), self.FIN]
        la, lb = compare.loose_ack_clock(a), compare.loose_ack_clock(b)
        self.assertIn("peer>prog SACK hole 1449:2897", la)
        self.assertIn("peer>prog last pure ACK 4345", la)
        self.assertEqual(compare.compare_runs(self.as_run(la), self.as_run(lb),
                                              io.StringIO())[0], [])

    def test_an_extra_retransmission_and_dsack_count(self):
        a = [self.SYN, self.data(1), self.ack(1449), self.FIN]
        b = [self.SYN, self.data(1), self.ack(1449), self.data(1), self.ack(1449, "1:1449"),
             self.FIN]
        lb = compare.loose_ack_clock(b)
        self.assertIn("peer>prog D-SACK 1:1449", lb)
        unexpected, _ = compare.compare_runs(self.as_run(compare.loose_ack_clock(a)), self.as_run(lb),
                                             io.StringIO())
        self.assertEqual(len(unexpected), 2)

    def test_scenario_setting(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".scn") as f:
            f.write('DESCRIPTION="x"\nACK_CLOCK=loose\n')
            f.flush()
            self.assertEqual(compare.scenario_setting(f.name, "ACK_CLOCK"), "loose")
            self.assertEqual(compare.scenario_setting(f.name, "OTHER"), "")
        self.assertEqual(compare.scenario_setting(None, "ACK_CLOCK"), "")

    @staticmethod
    def as_run(segments):
        return {"segments": segments, "retrans": [], "states": [], "prog": [], "peer": []}


if __name__ == "__main__":
    unittest.main()
