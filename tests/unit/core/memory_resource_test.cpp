// Every allocation a stack makes comes from the memory resource it was given.
// libveer.so gives it the shared arena that forked children share
// (preload/shared_arena.h): anything the stack kept in the private heap
// would be a dangling pointer in every other process.
#include <gtest/gtest.h>

#include <cstring>
#include <memory_resource>
#include <vector>

#include "tests/unit/core/harness.h"
#include "tests/unit/counting_resource.h"

namespace veer::test {
namespace {

using namespace std::chrono_literals;

// Installs `r` as the default resource for the test's lifetime.
struct DefaultResource {
  explicit DefaultResource(std::pmr::memory_resource* r) : old(std::pmr::set_default_resource(r)) {}
  ~DefaultResource() { std::pmr::set_default_resource(old); }
  std::pmr::memory_resource* old;
};

TEST(MemoryResource, ALossyTransferAllocatesOnlyFromTheStacksResource) {
  CountingResource stacks, fallback;
  DefaultResource guard(&fallback);
  {
    SimLink::Options o;
    o.delay = 500us;
    o.loss = 0.03;  // recovery, SACK and the reassembly queue
    o.duplicate = 0.005;
    o.reorder = 0.02;
    o.reorder_delay = 1ms;
    o.seed = 7;
    o.memory = &stacks;
    SimLink link(o);
    Stack& a = link.a();
    Stack& b = link.b();
    auto l = b.tcp_socket().value();
    ASSERT_EQ(b.bind(l, {Ipv4Addr{}, 5001}), 0);
    ASSERT_EQ(b.listen(l, 8), 0);
    // Several connections queue for accept before any is taken.
    std::vector<SocketId> clients;
    for (int i = 0; i < 4; ++i) {
      clients.push_back(a.tcp_socket().value());
      a.connect(clients.back(), {kIpB, 5001}, link.now());
    }
    link.run_for(50ms);
    std::vector<SocketId> servers;
    ASSERT_TRUE(link.run_until_true([&] {
      auto r = b.accept(l, nullptr);
      if (r.ok()) servers.push_back(r.value());
      return servers.size() == clients.size();
    }));
    // What `veer ss` and `veer sysctl` do to a running stack.
    ASSERT_EQ(a.set_congestion_control(clients[0], "reno"), 0);
    core::TcpSettings changed = a.config().tcp;
    changed.fin_timeout_s = 30;
    a.set_tcp_settings(changed);
    size_t seen = 0;
    b.for_each_socket([&](const core::Stack::SocketView&) { ++seen; }, link.now());
    EXPECT_EQ(seen, 5u);
    // 2 MiB on every connection, then close both ends.
    constexpr size_t kBytes = 2u << 20;
    std::vector<std::byte> data(kBytes, std::byte{0x5a}), buf(64 * 1024);
    std::vector<size_t> sent(clients.size()), got(clients.size());
    ASSERT_TRUE(link.run_until_true([&] {
      bool all = true;
      for (size_t i = 0; i < clients.size(); ++i) {
        if (sent[i] < kBytes) {
          auto r = a.send(clients[i], Bytes(data).subspan(sent[i]), link.now());
          if (r.ok()) sent[i] += r.value();
        }
        for (;;) {
          auto r = b.recv(servers[i], buf, link.now());
          if (!r.ok() || r.value() == 0) break;
          got[i] += r.value();
        }
        all &= got[i] == kBytes;
      }
      return all;
    }));
    for (size_t i = 0; i < clients.size(); ++i) {
      a.close(clients[i], link.now());
      b.close(servers[i], link.now());
    }
    b.close(l, link.now());
    link.run_for(120s);  // FIN exchanges, TIME_WAIT
    EXPECT_GT(a.counters().tcp_retrans_segments, 0u);
  }
  EXPECT_GT(stacks.allocations, 0u);
  EXPECT_EQ(stacks.in_use, 0u) << "the stacks freed all they took";
  EXPECT_EQ(fallback.allocations, 0u) << "allocations outside the stack's resource";
}

}  // namespace
}  // namespace veer::test
