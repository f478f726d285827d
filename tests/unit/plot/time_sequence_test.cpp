// The series of a time-sequence graph, extracted from capture files written
// by libpcap: exact values for a known exchange.
#include "tools/plot/time_sequence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "tests/unit/plot/pcap_writer.h"

namespace veer::test {
namespace {

using namespace wire::tcpflag;
using plot::FlagMark;

// Times compared in whole microseconds: the file stores them so.
int64_t us(double t) {
  return std::llround(t * 1e6);
}
using Range = std::tuple<int64_t, int64_t, int64_t>;  // time µs, begin, end
using Point = std::tuple<int64_t, int64_t>;           // time µs, seq
using Flag = std::tuple<int64_t, int64_t, uint8_t, bool, bool>;

std::vector<Range> ranges(const std::vector<plot::SeqRange>& v) {
  std::vector<Range> out;
  for (const auto& r : v) out.emplace_back(us(r.time), r.begin, r.end);
  return out;
}
std::vector<Point> points(const std::vector<plot::SeqPoint>& v) {
  std::vector<Point> out;
  for (const auto& p : v) out.emplace_back(us(p.time), p.seq);
  return out;
}
std::vector<Flag> flags(const std::vector<FlagMark>& v) {
  std::vector<Flag> out;
  for (const auto& f : v) out.emplace_back(us(f.time), f.seq, f.flag, f.from_sender, f.repeated);
  return out;
}

// GCC 12 warns about designated initializers that leave out an optional.
plot::Selection number(int n) {
  plot::Selection s;
  s.number = n;
  return s;
}
plot::Selection on_port(uint16_t p) {
  plot::Selection s;
  s.port = p;
  return s;
}
plot::Selection reversed(plot::Selection s = {}) {
  s.reverse = true;
  return s;
}

plot::Capture read(PcapWriter& w) {
  std::string error;
  auto c = plot::read_capture(w.finish(), &error);
  EXPECT_TRUE(c) << error;
  return c ? *c : plot::Capture{};
}

// The client sends 300 bytes; the second segment is lost, SACKed around and
// sent again. The server's window scale is 2.
void write_lossy_transfer(PcapWriter& w, uint32_t client_isn = 1000, uint32_t server_isn = 5000) {
  const uint32_t c = client_isn, s = server_isn;
  auto syn = header(kSyn, c, 0, 64240);
  syn.options.mss = 1460, syn.options.sack_permitted = true, syn.options.window_scale = 7;
  w.add(0, tcp_frame(kClient, kServer, syn));
  auto synack = header(kSyn | kAck, s, c + 1, 65535);
  synack.options.mss = 1460, synack.options.sack_permitted = true, synack.options.window_scale = 2;
  w.add(10000, tcp_frame(kServer, kClient, synack));
  w.add(20000, tcp_frame(kClient, kServer, header(kAck, c + 1, s + 1, 502)));
  w.add(30000, tcp_frame(kClient, kServer, header(kAck | kPsh, c + 1, s + 1, 502), 100));
  w.add(31000, tcp_frame(kClient, kServer, header(kAck | kPsh, c + 101, s + 1, 502), 100));
  w.add(32000, tcp_frame(kClient, kServer, header(kAck | kPsh, c + 201, s + 1, 502), 100));
  w.add(40000, tcp_frame(kServer, kClient, header(kAck, s + 1, c + 101, 1000)));
  auto sack = header(kAck, s + 1, c + 101, 1000);
  sack.options.sack[0] = {c + 201, c + 301}, sack.options.sack_count = 1;
  w.add(41000, tcp_frame(kServer, kClient, sack));
  w.add(50000, tcp_frame(kClient, kServer, header(kAck | kPsh, c + 101, s + 1, 502), 100));
  w.add(60000, tcp_frame(kServer, kClient, header(kAck, s + 1, c + 301, 900)));
  w.add(70000, tcp_frame(kClient, kServer, header(kFin | kAck, c + 301, s + 1, 502)));
  w.add(80000, tcp_frame(kServer, kClient, header(kFin | kAck, s + 1, c + 302, 900)));
  w.add(90000, tcp_frame(kClient, kServer, header(kAck, c + 302, s + 2, 502)));
}

TEST(TimeSequence, HandshakeDataRetransmissionSackAndScaledWindow) {
  PcapWriter w;
  write_lossy_transfer(w);
  plot::Capture cap = read(w);
  EXPECT_EQ(cap.stats.frames, 13u);
  EXPECT_EQ(cap.stats.tcp, 13u);
  EXPECT_EQ(cap.stats.malformed, 0u);
  EXPECT_EQ(cap.stats.bad_checksum, 0u);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0].client, kClient);
  EXPECT_EQ(conns[0].server, kServer);
  EXPECT_EQ(conns[0].bytes_to_server, 400u);  // the retransmission counts
  EXPECT_EQ(conns[0].bytes_to_client, 0u);
  std::string error;
  auto choice = plot::choose_connection(conns, {}, &error);
  ASSERT_TRUE(choice) << error;
  EXPECT_TRUE(choice->from_client) << "the direction with the data";

  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], true);
  EXPECT_EQ(ts.sender, kClient);
  EXPECT_EQ(ts.receiver, kServer);
  EXPECT_TRUE(ts.handshake_seen);
  EXPECT_EQ(ts.sender_wscale, 7);
  EXPECT_EQ(ts.receiver_wscale, 2);
  EXPECT_EQ(ts.window_shift, 2);
  EXPECT_EQ(ts.unique_bytes, 300u);
  EXPECT_EQ(us(ts.duration), 90000);
  EXPECT_EQ(ranges(ts.sent),
            (std::vector<Range>{{30000, 1, 101}, {31000, 101, 201}, {32000, 201, 301}}));
  EXPECT_EQ(ranges(ts.retransmitted), (std::vector<Range>{{50000, 101, 201}}));
  EXPECT_EQ(ranges(ts.sacks), (std::vector<Range>{{41000, 201, 301}}));
  EXPECT_EQ(
      points(ts.acks),
      (std::vector<Point>{{10000, 1}, {40000, 101}, {41000, 101}, {60000, 301}, {80000, 302}}));
  // The SYN-ACK's window is never scaled (RFC 7323 §2.2); the rest are << 2.
  EXPECT_EQ(points(ts.window), (std::vector<Point>{{10000, 1 + 65535},
                                                   {40000, 101 + 4000},
                                                   {41000, 101 + 4000},
                                                   {60000, 301 + 3600},
                                                   {80000, 302 + 3600}}));
  EXPECT_EQ(flags(ts.flags), (std::vector<Flag>{{0, 0, kSyn, true, false},
                                                {10000, 1, kSyn, false, false},
                                                {70000, 301, kFin, true, false},
                                                {80000, 302, kFin, false, false}}));
}

TEST(TimeSequence, ReverseDirectionIsTheServersWithItsOwnBaseAndTheClientsScale) {
  PcapWriter w;
  write_lossy_transfer(w);
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  std::string error;
  auto choice = plot::choose_connection(conns, reversed(), &error);
  ASSERT_TRUE(choice);
  EXPECT_FALSE(choice->from_client);
  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], false);
  EXPECT_EQ(ts.sender, kServer);
  EXPECT_TRUE(ts.sent.empty());
  EXPECT_TRUE(ts.retransmitted.empty());
  EXPECT_EQ(ts.window_shift, 7);
  // The client's ACKs of the server's SYN and FIN, windows 502 << 7.
  EXPECT_EQ(
      points(ts.acks),
      (std::vector<Point>{
          {20000, 1}, {30000, 1}, {31000, 1}, {32000, 1}, {50000, 1}, {70000, 1}, {90000, 2}}));
  EXPECT_EQ(std::get<1>(points(ts.window).back()), 2 + 502 * 128);
}

TEST(TimeSequence, SequenceNumbersUnwrapAcrossTwoToThe32) {
  PcapWriter w;
  write_lossy_transfer(w, 0xffffff00u, 0xfffffff0u);  // the data crosses 0
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 1u);
  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], true);
  EXPECT_EQ(ranges(ts.sent),
            (std::vector<Range>{{30000, 1, 101}, {31000, 101, 201}, {32000, 201, 301}}));
  EXPECT_EQ(ranges(ts.retransmitted), (std::vector<Range>{{50000, 101, 201}}));
  EXPECT_EQ(ranges(ts.sacks), (std::vector<Range>{{41000, 201, 301}}));
}

TEST(TimeSequence, RepeatedSynIsMarkedAndDoesNotOpenAConnection) {
  PcapWriter w;
  auto syn = header(kSyn, 1000, 0, 64240);
  w.add(0, tcp_frame(kClient, kServer, syn));
  w.add(1000000, tcp_frame(kClient, kServer, syn));
  w.add(1010000, tcp_frame(kServer, kClient, header(kRst | kAck, 0, 1001, 0)));
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 1u);
  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], true);
  EXPECT_FALSE(ts.handshake_seen);
  EXPECT_TRUE(ts.acks.empty()) << "an RST's ACK is not an acknowledgement to draw";
  EXPECT_EQ(flags(ts.flags), (std::vector<Flag>{{0, 0, kSyn, true, false},
                                                {1000000, 0, kSyn, true, true},
                                                {1010000, 1, kRst, false, false}}));
}

// Three connections: a small one, a big one, and the small one's 4-tuple
// reused with a new ISN.
TEST(Connections, GroupedByTupleAndIsnAndChosenByDataPortOrNumber) {
  const Endpoint other{Ipv4Addr::of(10, 77, 0, 1), 40400};
  const Endpoint web{Ipv4Addr::of(10, 77, 0, 2), 80};
  PcapWriter w;
  w.add(0, tcp_frame(kClient, kServer, header(kSyn, 1, 0, 1000)));
  w.add(1, tcp_frame(kServer, kClient, header(kSyn | kAck, 50, 2, 1000)));
  w.add(2, tcp_frame(kClient, kServer, header(kAck, 2, 51, 1000), 10));
  w.add(3, tcp_frame(other, web, header(kSyn, 7, 0, 1000)));
  w.add(4, tcp_frame(web, other, header(kSyn | kAck, 70, 8, 1000)));
  w.add(5, tcp_frame(web, other, header(kAck, 71, 8, 1000), 500));
  w.add(6, tcp_frame(other, web, header(kAck, 8, 571, 1000), 20));
  w.add(7, tcp_frame(kClient, kServer, header(kSyn, 90000, 0, 1000)));
  w.add(8, tcp_frame(kServer, kClient, header(kAck, 51, 90001, 1000), 30));
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 3u);
  EXPECT_EQ(conns[0].members, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(conns[1].members, (std::vector<size_t>{3, 4, 5, 6}));
  EXPECT_EQ(conns[1].client, other);
  EXPECT_EQ(conns[1].bytes_to_client, 500u);
  EXPECT_EQ(conns[2].number, 3);
  EXPECT_EQ(conns[2].members, (std::vector<size_t>{7, 8}));

  std::string error;
  auto c = plot::choose_connection(conns, {}, &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->index, 1u) << "the most data";
  EXPECT_FALSE(c->from_client) << "the server sent more";
  c = plot::choose_connection(conns, on_port(18000), &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->index, 2u) << "of the two on port 18000, the one with more data";
  EXPECT_FALSE(c->from_client);
  c = plot::choose_connection(conns, reversed(number(1)), &error);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->index, 0u);
  EXPECT_FALSE(c->from_client);
  EXPECT_FALSE(plot::choose_connection(conns, number(4), &error));
  EXPECT_EQ(error, "no connection 4: the capture holds 3 (1..3, see --list)");
  EXPECT_FALSE(plot::choose_connection(conns, on_port(22), &error));
  EXPECT_EQ(error, "no connection uses port 22 (see --list)");
  EXPECT_FALSE(plot::choose_connection({}, {}, &error));
  EXPECT_EQ(error, "the capture holds no TCP connection");
}

TEST(Connections, SimultaneousOpenIsOneConnection) {
  PcapWriter w;
  w.add(0, tcp_frame(kClient, kServer, header(kSyn, 100, 0, 1000)));
  w.add(1, tcp_frame(kServer, kClient, header(kSyn, 500, 0, 1000)));
  w.add(2, tcp_frame(kClient, kServer, header(kSyn | kAck, 100, 501, 1000)));
  w.add(3, tcp_frame(kServer, kClient, header(kSyn | kAck, 500, 101, 1000)));
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 1u);
  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], true);
  EXPECT_TRUE(ts.handshake_seen);
  EXPECT_EQ(flags(ts.flags), (std::vector<Flag>{{0, 0, kSyn, true, false},
                                                {1, 0, kSyn, false, false},
                                                {2, 0, kSyn, true, true},
                                                {3, 1, kSyn, false, true}}));
}

TEST(TimeSequence, WithoutTheHandshakeTheFirstSequenceNumberIsZeroAndWindowsUnscaled) {
  PcapWriter w;
  w.add(0, tcp_frame(kClient, kServer, header(kAck, 7000, 100, 502), 50));
  w.add(5, tcp_frame(kServer, kClient, header(kAck, 100, 7050, 300)));
  plot::Capture cap = read(w);
  auto conns = plot::find_connections(cap);
  ASSERT_EQ(conns.size(), 1u);
  plot::TimeSequence ts = plot::time_sequence(cap, conns[0], true);
  EXPECT_FALSE(ts.handshake_seen);
  EXPECT_EQ(ranges(ts.sent), (std::vector<Range>{{0, 0, 50}}));
  EXPECT_EQ(points(ts.window), (std::vector<Point>{{5, 350}}));
}

}  // namespace
}  // namespace veer::test
