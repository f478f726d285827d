// The state observer hears every transition of a connection, in order, with
// its 4-tuple: what VEER_LOG=debug prints.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/tcp/connection.h"
#include "tests/unit/core/harness.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;
using namespace wire::tcpflag;
using core::TcpState;

struct RecordingObserver : core::TcpStateObserver {
  std::vector<std::string> seen;
  void state_changed(const core::FourTuple& t, TcpState from, TcpState to) override {
    seen.push_back(t.local.to_string() + " > " + t.remote.to_string() + " " +
                   std::string(core::kernel_state_name(from)) + " -> " +
                   std::string(core::kernel_state_name(to)));
  }
};

TEST(TcpStateObserver, PassiveOpenAndPassiveClose) {
  PeerHarness h;
  RecordingObserver obs;
  h.stack().set_state_observer(&obs);
  auto l = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().bind(l, {Ipv4Addr{}, 18000}), 0);
  ASSERT_EQ(h.stack().listen(l, 5), 0);
  auto syn = peer_header(40312, 18000, kSyn, 1000, 0, 65535);
  syn.options.mss = 1460;
  h.inject(syn);
  auto synack = h.next_segment();
  ASSERT_TRUE(synack);
  const uint32_t iss = synack->tcp.seq;
  h.advance(10ms);
  h.inject(peer_header(40312, 18000, kAck, 1001, iss + 1, 65535));
  auto c = h.stack().accept(l, nullptr);
  ASSERT_TRUE(c.ok());
  h.inject(peer_header(40312, 18000, kFin | kAck, 1001, iss + 1, 65535));
  ASSERT_EQ(h.stack().close(c.value(), h.now()), 0);
  auto fin = h.next_segment();
  while (fin && !fin->has(kFin)) fin = h.next_segment();
  ASSERT_TRUE(fin);
  h.inject(peer_header(40312, 18000, kAck, 1002, fin->tcp.seq + 1, 65535));
  const std::string t = "10.77.0.2:18000 > 10.77.0.1:40312 ";
  EXPECT_EQ(obs.seen, (std::vector<std::string>{
                          t + "CLOSE -> SYN_RECV",
                          t + "SYN_RECV -> ESTABLISHED",
                          t + "ESTABLISHED -> CLOSE_WAIT",
                          t + "CLOSE_WAIT -> LAST_ACK",
                          t + "LAST_ACK -> CLOSE",
                      }));
}

TEST(TcpStateObserver, ActiveOpenActiveCloseAndTimeWaitExpiry) {
  PeerHarness h;
  RecordingObserver obs;
  h.stack().set_state_observer(&obs);
  auto s = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
  auto syn = h.next_segment();
  ASSERT_TRUE(syn);
  const uint16_t port = syn->tcp.src_port;
  const uint32_t iss = syn->tcp.seq;
  h.advance(3ms);
  h.inject(peer_header(80, port, kSyn | kAck, 7000, iss + 1, 29200));
  ASSERT_EQ(h.stack().state(s), TcpState::Established);
  ASSERT_EQ(h.stack().close(s, h.now()), 0);
  auto fin = h.next_segment();
  while (fin && !fin->has(kFin)) fin = h.next_segment();
  ASSERT_TRUE(fin);
  h.inject(peer_header(80, port, kAck, 7001, iss + 2, 29200));
  h.inject(peer_header(80, port, kFin | kAck, 7001, iss + 2, 29200));
  h.advance(61s);  // TIME_WAIT is 60 s, as Linux's
  const std::string t = "10.77.0.2:" + std::to_string(port) + " > 10.77.0.1:80 ";
  EXPECT_EQ(obs.seen, (std::vector<std::string>{
                          t + "CLOSE -> SYN_SENT",
                          t + "SYN_SENT -> ESTABLISHED",
                          t + "ESTABLISHED -> FIN_WAIT1",
                          t + "FIN_WAIT1 -> FIN_WAIT2",
                          t + "FIN_WAIT2 -> TIME_WAIT",
                          t + "TIME_WAIT -> CLOSE",
                      }));
}

TEST(TcpStateObserver, NoObserverIsTheDefaultAndUnsetStopsReports) {
  PeerHarness h;
  RecordingObserver obs;
  h.stack().set_state_observer(&obs);
  h.stack().set_state_observer(nullptr);
  auto s = h.stack().tcp_socket().value();
  ASSERT_EQ(h.stack().connect(s, {kIpB, 80}, h.now()), EINPROGRESS);
  EXPECT_TRUE(obs.seen.empty());
}

}  // namespace
}  // namespace veer::test
