#include "core/stack.h"

#include <algorithm>
#include <array>
#include <deque>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/arp_cache.h"
#include "core/tcp/buffer_space.h"
#include "core/tcp/congestion/congestion_factory.h"
#include "core/tcp/connection.h"
#include "core/tcp/isn.h"
#include "core/tcp/syncookie.h"
#include "core/wire/arp.h"
#include "core/wire/checksum.h"
#include "core/wire/ethernet.h"
#include "core/wire/icmp.h"
#include "core/wire/ipv4.h"
#include "core/wire/tcp.h"

namespace veer::core {

namespace {

struct TupleHash {
  size_t operator()(const FourTuple& t) const {
    uint64_t a = (uint64_t(t.local.addr.v) << 32) | t.remote.addr.v;
    uint64_t b = (uint64_t(t.local.port) << 16) | t.remote.port;
    return std::hash<uint64_t>()(a * 0x9e3779b97f4a7c15ULL ^ b);
  }
};

enum class SocketKind : uint8_t { Fresh, Listener, Connection };
// Mirrors struct socket's state for connect()'s repeated-call semantics.
enum class ConnectPhase : uint8_t { None, Connecting, Connected };

struct Socket {
  explicit Socket(std::pmr::memory_resource* m) : accept_queue(m) {}
  // Never copied: a copied pmr container takes the default resource, and
  // the socket table must stay in the stack's own (the shared arena).
  // Without a copy, the table moves its sockets when it grows.
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&&) = default;
  Socket& operator=(Socket&&) = default;
  bool in_use = false;
  uint32_t generation = 0;
  SocketKind kind = SocketKind::Fresh;
  ConnectPhase phase = ConnectPhase::None;
  bool bound = false;
  Endpoint local;
  bool reuse_addr = false;
  bool nodelay = false;
  TcpConnection::Keepalive keepalive;
  int user_timeout_ms = 0;
  int linger_s = -1;                  // SO_LINGER off
  std::array<char, 16> congestion{};  // TCP_CONGESTION, empty: the knob
  uint16_t user_mss = 0;
  // SO_SNDBUF/SO_RCVBUF as stored (doubled), 0 until the program sets them.
  int sndbuf = 0;
  int rcvbuf = 0;
  bool cork = false;
  uint32_t notsent_lowat = 0;  // TCP_NOTSENT_LOWAT, 0: the knob
  int rto_max_ms = 0;          // TCP_RTO_MAX_MS, 0: the knob
  bool oob_inline = false;     // SO_OOBINLINE
  int error = 0;
  bool shut_rd = false;
  bool shut_wr = false;
  TcpConnection* conn = nullptr;
  // Listener state.
  int backlog = 0;
  size_t embryonic = 0;               // children in SYN_RECEIVED
  std::optional<Time> last_overflow;  // when the SYN queue last overflowed
  std::pmr::deque<TcpConnection*> accept_queue;
  uint64_t enqueued = 0;  // connections ever queued for accept (event_count)
};

struct TimerEntry {
  Time at;
  FourTuple tuple;
  uint64_t serial;
  bool operator>(const TimerEntry& o) const { return at > o.at; }
};

// A connection and what the stack keeps about it.
struct ConnRecord {
  TcpConnection* conn = nullptr;
  uint64_t serial = 0;
  std::optional<Time> scheduled;  // earliest heap entry for it
  // Passive children: the listener they belong to until accepted.
  std::optional<SocketId> listener;
  bool queued = false;     // in the listener's accept queue
  bool has_owner = false;  // a socket holds it
};

}  // namespace

struct Stack::Impl : SegmentOutput {
  Impl(const StackConfig& cfg, FrameSink& sink, std::pmr::memory_resource* m)
      : config(cfg),
        sink(sink),
        memory(m),
        arp(config, counters, m),
        sockets(m),
        free_sockets(m),
        conns(m),
        timers(std::greater<TimerEntry>(), std::pmr::vector<TimerEntry>(m)),
        frame(size_t{wire::kEthHeaderLen} + 65535, m),
        scratch(65535, m),
        tcp_generations(1, cfg.tcp, m) {}

  StackConfig config;
  FrameSink& sink;
  std::pmr::memory_resource* memory;
  Counters counters;
  ArpCache arp;
  std::pmr::vector<Socket> sockets;
  std::pmr::vector<uint32_t> free_sockets;
  std::pmr::unordered_map<FourTuple, ConnRecord, TupleHash> conns;
  std::priority_queue<TimerEntry, std::pmr::vector<TimerEntry>, std::greater<TimerEntry>> timers;
  std::pmr::vector<std::byte> frame;    // the frame being built
  std::pmr::vector<std::byte> scratch;  // a segment's payload being built
  uint64_t next_serial = 1;
  uint16_t ip_id = 1;
  TcpStateObserver* state_observer = nullptr;
  Time now{};
  // Every TcpSettings the stack has had, the current one last: a connection
  // keeps a reference to the settings it was made with, so a change through
  // set_tcp_settings() reaches new connections only. A deque never moves
  // what it holds; the few hundred bytes of an old generation stay until
  // the stack goes (changes are rare, by hand).
  std::pmr::deque<TcpSettings> tcp_generations;

  uint16_t local_mss() const { return static_cast<uint16_t>(config.mtu - 40); }
  TcpEnvironment tcp_env() {
    return TcpEnvironment{.settings = tcp_generations.back(),
                          .counters = counters,
                          .output = *this,
                          .local_mss = local_mss(),
                          .scratch = MutableBytes(scratch),
                          .state_observer = state_observer};
  }

  // --- Sockets -------------------------------------------------------------
  Socket* get(SocketId id) {
    if (id.index >= sockets.size()) return nullptr;
    Socket& s = sockets[id.index];
    return s.in_use && s.generation == id.generation ? &s : nullptr;
  }
  SocketId new_socket() {
    uint32_t index;
    if (!free_sockets.empty()) {
      index = free_sockets.back();
      free_sockets.pop_back();
    } else {
      index = static_cast<uint32_t>(sockets.size());
      sockets.emplace_back(memory);
    }
    Socket& s = sockets[index];
    uint32_t gen = s.generation + 1;
    s.~Socket();
    new (&s) Socket(memory);
    s.in_use = true;
    s.generation = gen;
    return SocketId{index, gen};
  }
  void release_socket(SocketId id) {
    Socket& s = sockets[id.index];
    s.in_use = false;
    s.accept_queue.clear();
    free_sockets.push_back(id.index);
  }

  // What a connection takes over from its socket (or, accepted, from its
  // listener: Linux clones the listener's options into the child).
  void configure(TcpConnection& c, const Socket& s, Time t) {
    c.set_nodelay(s.nodelay, t);
    c.set_cork(s.cork, t);
    c.set_reuse_addr(s.reuse_addr);
    c.set_keepalive(s.keepalive, t);
    c.set_user_mss(s.user_mss);
    c.set_notsent_lowat(s.notsent_lowat);
    if (s.rto_max_ms) c.set_rto_max(std::chrono::milliseconds(s.rto_max_ms));
    c.set_urgent_inline(s.oob_inline);
    if (s.sndbuf) c.set_send_buffer(s.sndbuf, true);
    if (s.rcvbuf) c.set_receive_buffer(s.rcvbuf, true);
    if (s.congestion[0]) c.set_congestion_control(s.congestion.data(), memory);
  }

  // --- Connections ---------------------------------------------------------
  // `iss`: the ISN to use instead of RFC 6528's, when a TIME_WAIT 4-tuple
  // is taken over.
  ConnRecord& add_connection(FourTuple tuple, Time t, std::optional<uint32_t> iss_override = {}) {
    uint32_t iss =
        iss_override.value_or(initial_sequence_number(config.secret, tuple.local, tuple.remote, t));
    std::pmr::polymorphic_allocator<TcpConnection> alloc(memory);
    uint32_t ts_offset = config.tcp.timestamps == 1
                             ? timestamp_offset(config.secret, tuple.local.addr, tuple.remote.addr)
                             : 0;
    TcpConnection* c = alloc.new_object<TcpConnection>(tcp_env(), tuple, iss, ts_offset, memory);
    ConnRecord& r = conns[tuple];
    r.conn = c;
    r.serial = next_serial++;
    return r;
  }
  void destroy(ConnRecord& r) {
    std::pmr::polymorphic_allocator<TcpConnection> alloc(memory);
    alloc.delete_object(r.conn);
    r.conn = nullptr;
  }
  // After anything happened to a connection: reschedule its timer, hand a
  // finished handshake to its listener, free it when nothing needs it.
  void after_event(const FourTuple& tuple) {
    auto it = conns.find(tuple);
    if (it == conns.end()) return;
    ConnRecord& r = it->second;
    TcpConnection* c = r.conn;
    if (r.listener && !r.queued) {
      Socket* l = get(*r.listener);
      if (c->state() != TcpState::SynReceived) {
        if (l) --l->embryonic;
        if (c->state() != TcpState::Closed && l) {
          l->accept_queue.push_back(c);
          ++l->enqueued;
          r.queued = true;
        } else {
          r.listener.reset();
        }
      }
    }
    if (c->finished() && !r.has_owner && !r.queued) {
      if (r.listener && !r.queued) {
        if (Socket* l = get(*r.listener)) --l->embryonic;
      }
      destroy(r);
      conns.erase(it);
      return;
    }
    if (auto d = c->deadline(); d && (!r.scheduled || *d < *r.scheduled)) {
      r.scheduled = *d;
      timers.push(TimerEntry{*d, tuple, r.serial});
    }
  }
  TcpConnection* find_live(const FourTuple& t) {
    auto it = conns.find(t);
    if (it == conns.end() || it->second.conn->finished()) return nullptr;
    return it->second.conn;
  }
  Socket* find_listener(Endpoint local) {
    Socket* wildcard = nullptr;
    for (Socket& s : sockets) {
      if (!s.in_use || s.kind != SocketKind::Listener || s.local.port != local.port) continue;
      if (s.local.addr == local.addr) return &s;
      if (s.local.addr.is_any()) wildcard = &s;
    }
    return wildcard;
  }
  SocketId id_of(const Socket& s) const {
    return SocketId{static_cast<uint32_t>(&s - sockets.data()), s.generation};
  }

  // Linux's bind conflict rule (inet_csk_bind_conflict): a port is shared
  // only when both sides set SO_REUSEADDR and the other side is not listening.
  bool port_in_use(Endpoint local, bool reuse, const Socket* self) const {
    auto overlaps = [&](Ipv4Addr a) {
      return a.is_any() || local.addr.is_any() || a == local.addr;
    };
    for (const Socket& s : sockets) {
      if (&s == self || !s.in_use || !s.bound || s.local.port != local.port) continue;
      if (!overlaps(s.local.addr)) continue;
      if (reuse && s.reuse_addr && s.kind != SocketKind::Listener) continue;
      return true;
    }
    for (const auto& [tuple, r] : conns) {
      if (tuple.local.port != local.port || r.conn->finished() || !overlaps(tuple.local.addr))
        continue;
      if (r.has_owner) continue;  // counted through its socket above
      if (reuse && r.conn->reuse_addr()) continue;
      return true;
    }
    return false;
  }

  // tcp_twsk_unique(): a connect() may take over a 4-tuple in TIME_WAIT when
  // the peer sent timestamps (so PAWS keeps old duplicates out) and either
  // the program chose the port itself, or tcp_tw_reuse allows it and the
  // TIME_WAIT began more than tcp_tw_reuse_delay ago (time_after32() on
  // millisecond clocks: strictly after). The new ISN starts beyond anything
  // the old connection used. Returns that ISN.
  std::optional<uint32_t> time_wait_takeover(const ConnRecord& r, bool port_chosen) const {
    const TcpConnection& c = *r.conn;
    if (c.state() != TcpState::TimeWait || r.has_owner || !c.ts_recent_stamp()) return {};
    if (!port_chosen) {
      // 2 means loopback only, and veer serves no loopback: like 0.
      if (config.tcp.tw_reuse != 1) return {};
      using std::chrono::floor;
      using ms = std::chrono::milliseconds;
      if (floor<ms>(now) <= floor<ms>(c.time_wait_entered()) + ms(config.tcp.tw_reuse_delay_ms))
        return {};
    }
    uint32_t isn = c.snd_nxt() + 65535 + 2;
    return isn == 0 ? 1 : isn;
  }

  // RFC 6056 algorithm 3 within ip_local_port_range.
  std::optional<uint16_t> pick_ephemeral(Ipv4Addr local, Endpoint remote) {
    uint32_t low = config.tcp.port_low, high = config.tcp.port_high;
    uint32_t count = high - low + 1;
    uint32_t offset = port_offset(config.secret, local, remote);
    for (uint32_t i = 0; i < count; ++i) {
      uint16_t port = static_cast<uint16_t>(low + (offset + i) % count);
      if (auto it = conns.find(FourTuple{{local, port}, remote}); it != conns.end()) {
        const ConnRecord& r = it->second;
        bool free = r.conn->finished() ? !r.has_owner : time_wait_takeover(r, false).has_value();
        if (!free) continue;
      }
      bool bound = false;
      for (const Socket& s : sockets) {
        if (s.in_use && s.bound && s.local.port == port) {
          bound = true;
          break;
        }
      }
      if (!bound) return port;
    }
    return std::nullopt;
  }

  // --- Output --------------------------------------------------------------
  void send_segment(const FourTuple& tuple, const wire::TcpHeader& h, Bytes payload) override {
    size_t tcp_len = wire::kTcpMinHeaderLen + wire::tcp_options_length(h.options) + payload.size();
    std::byte* ip = frame.data() + wire::kEthHeaderLen;
    wire::emit_tcp(h, payload, tuple.local.addr, tuple.remote.addr,
                   MutableBytes(ip + wire::kIpv4MinHeaderLen, tcp_len));
    send_ip(tuple.local.addr, tuple.remote.addr, wire::kProtoTcp, tcp_len);
  }

  // The IP payload is already at frame[14 + 20]; adds the headers and sends
  // or parks the packet until ARP resolves the next hop.
  void send_ip(Ipv4Addr src, Ipv4Addr dst, uint8_t protocol, size_t payload_len) {
    Ipv4Addr hop = dst;
    if (!config.address.contains(dst)) {
      if (!config.gateway) {
        ++counters.ip_tx_no_route;
        return;
      }
      hop = *config.gateway;
    }
    wire::Ipv4Header ih;
    ih.id = ip_id++;
    ih.protocol = protocol;
    ih.src = src;
    ih.dst = dst;
    std::byte* ip = frame.data() + wire::kEthHeaderLen;
    size_t ip_len = wire::kIpv4MinHeaderLen + payload_len;
    wire::emit_ipv4(ih, payload_len, MutableBytes(ip, ip_len));
    ++counters.ip_tx_packets;
    if (dst == config.address.broadcast()) {
      transmit(MacAddr::broadcast(), wire::kEtherTypeIpv4, ip_len);
      return;
    }
    if (auto mac = arp.lookup(hop, now)) {
      transmit(*mac, wire::kEtherTypeIpv4, ip_len);
      return;
    }
    if (arp.enqueue(hop, Bytes(ip, ip_len), now)) send_arp_request(hop);
  }

  // Sends frame[0 .. 14 + len) with the Ethernet header filled in.
  void transmit(MacAddr dst, uint16_t type, size_t len) {
    wire::emit_ethernet({dst, config.mac, type}, MutableBytes(frame));
    size_t total = wire::kEthHeaderLen + len;
    // Pad to the Ethernet minimum like a NIC would.
    if (total < 60) {
      std::fill(frame.begin() + static_cast<ptrdiff_t>(total), frame.begin() + 60, std::byte{0});
      total = 60;
    }
    ++counters.eth_tx_frames;
    sink.transmit(Bytes(frame.data(), total));
  }

  void send_arp_request(Ipv4Addr target) {
    wire::ArpPacket p{wire::kArpRequest, config.mac, config.address.addr, MacAddr{}, target};
    wire::emit_arp(p, MutableBytes(frame).subspan(wire::kEthHeaderLen));
    ++counters.arp_requests_sent;
    transmit(MacAddr::broadcast(), wire::kEtherTypeArp, wire::kArpLen);
  }

  // --- Input ---------------------------------------------------------------
  bool rx_checksum_trusted = false;  // for the frame input() is handling
  void input(Bytes bytes) {
    ++counters.eth_rx_frames;
    auto eth = wire::parse_ethernet(bytes);
    if (!eth) {
      ++counters.eth_rx_truncated;
      return;
    }
    const MacAddr& dst = eth->header.dst;
    if (dst != config.mac && !dst.is_broadcast()) {
      ++counters.eth_rx_not_for_us;
      return;
    }
    switch (eth->header.ether_type) {
      case wire::kEtherTypeArp:
        arp_input(eth->payload);
        break;
      case wire::kEtherTypeIpv4:
        ip_input(eth->payload);
        break;
      default:
        ++counters.eth_rx_unknown_type;
        break;
    }
  }

  void arp_input(Bytes payload) {
    auto p = wire::parse_arp(payload);
    if (!p) {
      ++counters.arp_rx_malformed;
      return;
    }
    bool for_us = p->target_ip == config.address.addr;
    // RFC 826: update an existing entry, or add one when we are the target.
    if (!p->sender_ip.is_any() && (for_us || arp.lookup(p->sender_ip, now))) {
      arp.learn(p->sender_ip, p->sender_mac, now, [&](MacAddr mac, Bytes packet) {
        std::copy(packet.begin(), packet.end(), frame.begin() + wire::kEthHeaderLen);
        transmit(mac, wire::kEtherTypeIpv4, packet.size());
      });
    }
    if (for_us && p->op == wire::kArpRequest) {
      wire::ArpPacket reply{wire::kArpReply, config.mac, config.address.addr, p->sender_mac,
                            p->sender_ip};
      wire::emit_arp(reply, MutableBytes(frame).subspan(wire::kEthHeaderLen));
      ++counters.arp_requests_answered;
      transmit(p->sender_mac, wire::kEtherTypeArp, wire::kArpLen);
    }
  }

  void ip_input(Bytes payload) {
    ++counters.ip_rx_packets;
    wire::Ipv4Error err{};
    auto ip = wire::parse_ipv4(payload, &err);
    if (!ip) {
      if (err == wire::Ipv4Error::BadChecksum) {
        ++counters.ip_rx_bad_checksum;
      } else {
        ++counters.ip_rx_header_errors;
      }
      return;
    }
    const wire::Ipv4Header& h = ip->header;
    if (h.dst != config.address.addr) {
      ++counters.ip_rx_not_for_us;
      return;
    }
    if (h.is_fragment()) {
      ++counters.ip_rx_fragments_dropped;
      return;
    }
    switch (h.protocol) {
      case wire::kProtoIcmp:
        icmp_input(h, ip->payload);
        break;
      case wire::kProtoTcp:
        tcp_input(h, ip->payload);
        break;
      default:
        ++counters.ip_rx_unknown_protocol;
        break;
    }
  }

  void icmp_input(const wire::Ipv4Header& ih, Bytes payload) {
    ++counters.icmp_rx;
    auto m = wire::parse_icmp(payload);
    if (!m) {
      ++counters.icmp_rx_bad;
      return;
    }
    if (m->type == wire::kIcmpDestUnreachable || m->type == kIcmpTimeExceeded) {
      if (m->type == wire::kIcmpDestUnreachable) ++counters.icmp_dest_unreachable;
      tcp_error(m->body, m->type, m->code, static_cast<uint16_t>(m->rest & 0xffff));
      return;
    }
    if (m->type != wire::kIcmpEchoRequest) return;
    wire::IcmpMessage reply{wire::kIcmpEchoReply, 0, m->rest, m->body};
    std::byte* out = frame.data() + wire::kEthHeaderLen + wire::kIpv4MinHeaderLen;
    size_t len = wire::emit_icmp(reply, MutableBytes(out, wire::kIcmpHeaderLen + m->body.size()));
    ++counters.icmp_echo_replies_sent;
    send_ip(config.address.addr, ih.src, wire::kProtoIcmp, len);
  }

  static constexpr uint8_t kIcmpTimeExceeded = 11;

  // An ICMP error quotes our IP header and the first 8 bytes of our TCP
  // header: ports and sequence number are enough to find the connection.
  void tcp_error(Bytes quoted, uint8_t type, uint8_t code, uint16_t mtu) {
    if (quoted.size() < wire::kIpv4MinHeaderLen + 8) return;
    size_t ihl = size_t(uint8_t(quoted[0]) & 0xf) * 4;
    if (ihl < wire::kIpv4MinHeaderLen || quoted.size() < ihl + 8) return;
    if (uint8_t(quoted[9]) != wire::kProtoTcp) return;
    const std::byte* ip = quoted.data();
    const std::byte* tcp = quoted.data() + ihl;
    auto be32 = [](const std::byte* p) {
      return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) |
             uint32_t(p[3]);
    };
    auto be16 = [](const std::byte* p) { return uint16_t((uint16_t(p[0]) << 8) | uint16_t(p[1])); };
    FourTuple tuple{{Ipv4Addr(be32(ip + 12)), be16(tcp)}, {Ipv4Addr(be32(ip + 16)), be16(tcp + 2)}};
    auto it = conns.find(tuple);
    if (it == conns.end()) return;
    uint32_t seq = be32(tcp + 4);
    bool used = type == kIcmpTimeExceeded
                    ? it->second.conn->on_icmp_time_exceeded(seq, now)
                    : it->second.conn->on_icmp_unreachable(code, seq, mtu, now);
    if (!used) ++counters.icmp_out_of_window;
    after_event(tuple);
  }

  void tcp_input(const wire::Ipv4Header& ih, Bytes payload) {
    wire::TcpError err{};
    auto seg = rx_checksum_trusted ? wire::decode_tcp(payload, &err)
                                   : wire::parse_tcp(payload, ih.src, ih.dst, &err);
    if (!seg) {
      if (err == wire::TcpError::BadChecksum) {
        ++counters.tcp_rx_bad_checksum;
      } else {
        ++counters.tcp_rx_malformed;
      }
      return;
    }
    ++counters.tcp_rx_segments;
    FourTuple tuple{{ih.dst, seg->header.dst_port}, {ih.src, seg->header.src_port}};
    auto it = conns.find(tuple);
    if (it != conns.end() && !it->second.has_owner &&
        it->second.conn->time_wait_accepts_syn(*seg)) {
      if (Socket* l = find_listener(tuple.local)) {
        // A new incarnation of a connection in TIME_WAIT (TCP_TW_SYN):
        // the old one goes, the listener takes the SYN with an ISN beyond it.
        uint32_t isn = it->second.conn->snd_nxt() + 65535 + 2;
        destroy(it->second);
        conns.erase(it);
        listen_input(*l, tuple, *seg, isn == 0 ? 1 : isn);
        return;
      }
    }
    if (it != conns.end() && !it->second.conn->finished()) {
      ConnRecord& r = it->second;
      if (r.listener && !r.queued && r.conn->state() == TcpState::SynReceived &&
          seg->header.has(wire::tcpflag::kAck) && !seg->header.has(wire::tcpflag::kRst)) {
        Socket* l = get(*r.listener);
        if (l && l->accept_queue.size() >= static_cast<size_t>(l->backlog)) {
          ++counters.tcp_listen_overflows;
          if (!config.tcp.abort_on_overflow) {
            // Accept queue full: ignore the final ACK so the handshake is
            // retried (tcp_check_req()'s listen_overflow).
            return;
          }
          // tcp_abort_on_overflow: the client learns at once (a RST for its
          // ACK) and the request is gone (embryonic_reset).
          ++counters.tcp_embryonic_resets;
          reply_reset(tuple, *seg);
          r.conn->drop();
          after_event(tuple);
          return;
        }
      }
      r.conn->on_segment(*seg, now);
      after_event(tuple);
      return;
    }
    if (Socket* l = find_listener(tuple.local)) {
      listen_input(*l, tuple, *seg);
      return;
    }
    // No connection (or only a finished one still held by its socket).
    ++counters.tcp_no_socket;
    reply_reset(tuple, *seg);
  }

  void reply_reset(const FourTuple& tuple, const wire::TcpSegment& seg) {
    if (seg.header.has(wire::tcpflag::kRst)) return;  // never answer a RST
    ++counters.tcp_rst_sent;
    ++counters.tcp_tx_segments;
    send_segment(tuple, reset_for(seg), {});
  }

  // RFC 9293 §3.10.7.2, SEGMENT ARRIVES in LISTEN.
  void listen_input(Socket& l, const FourTuple& tuple, const wire::TcpSegment& seg,
                    std::optional<uint32_t> isn = {}) {
    const wire::TcpHeader& h = seg.header;
    if (h.has(wire::tcpflag::kRst)) return;
    if (h.has(wire::tcpflag::kAck)) {
      if (cookie_ack(l, tuple, seg)) return;
      reply_reset(tuple, seg);
      return;
    }
    if (!h.has(wire::tcpflag::kSyn)) return;
    // tcp_conn_request(): the SYN queue's limit is the listen() backlog, and
    // it is full with more requests than that (inet_csk_reqsk_queue_is_full(),
    // `>` since Linux 6.14); then a cookie, or a drop without them. A SYN
    // taking over a TIME_WAIT 4-tuple skips this. A full accept queue drops
    // the SYN either way.
    const int syncookies = config.tcp.syncookies;
    const size_t max_ack_backlog = static_cast<size_t>(l.backlog - 1);
    const bool syn_queue_full = l.embryonic > max_ack_backlog;
    const bool want_cookie = !isn && (syncookies == 2 || syn_queue_full) && syncookies != 0;
    if (!isn && syn_queue_full && syncookies == 0) {
      ++counters.tcp_req_queue_full_drops;
      return;
    }
    if (l.accept_queue.size() >= static_cast<size_t>(l.backlog)) {
      ++counters.tcp_listen_overflows;
      return;
    }
    // tcp_max_syn_backlog is no queue limit: without cookies, its last
    // quarter is kept for peers proven alive (tcp_peer_is_proven(); veer
    // keeps no per-destination metrics, so none is).
    const auto max_syn_backlog = static_cast<size_t>(std::max(config.tcp.max_syn_backlog, 0));
    if (!want_cookie && !isn && syncookies == 0 &&
        max_syn_backlog < l.embryonic + (max_syn_backlog >> 2)) {
      ++counters.tcp_req_queue_full_drops;
      return;
    }
    if (want_cookie) {
      if (syn_queue_full) l.last_overflow = now;
      send_cookie_synack(l, tuple, seg);
      return;
    }
    auto stale = conns.find(tuple);
    if (stale != conns.end()) {
      // A finished connection still held by a socket keeps its record until
      // the program closes it; the new connection replaces it in the table.
      stale->second.conn->abort(now);
      if (!stale->second.has_owner) {
        destroy(stale->second);
        conns.erase(stale);
      } else {
        return;  // keep it simple: the old socket still owns the tuple
      }
    }
    ConnRecord& r = add_connection(tuple, now, isn);
    r.listener = id_of(l);
    configure(*r.conn, l, now);
    ++l.embryonic;
    r.conn->open_passive(seg, now);
    after_event(tuple);
  }

  // A SYN-ACK whose ISN is a SYN cookie; nothing is kept (tcp_conn_request()
  // with want_cookie). Without timestamps the cookie cannot carry window
  // scaling or SACK, so they are not offered.
  void send_cookie_synack(Socket& l, const FourTuple& tuple, const wire::TcpSegment& syn) {
    const wire::TcpOptions& po = syn.header.options;
    uint16_t mss_used = 536;
    uint16_t our_mss = l.user_mss ? std::min(l.user_mss, local_mss()) : local_mss();
    uint32_t cookie = make_syncookie(config.secret, {tuple.local, tuple.remote}, syn.header.seq,
                                     std::min(po.mss.value_or(536), our_mss), now, &mss_used);
    wire::TcpHeader h;
    h.src_port = tuple.local.port;
    h.dst_port = tuple.remote.port;
    h.seq = cookie;
    h.ack = syn.header.seq + 1;
    h.flags = wire::tcpflag::kSyn | wire::tcpflag::kAck;
    h.options.mss = our_mss;
    bool ts = po.timestamp && config.tcp.timestamps != 0;
    // tcp_openreq_init_rwin() for the listener's receive buffer.
    int rcvbuf = l.rcvbuf ? l.rcvbuf : config.tcp.rmem_default;
    int full = win_from_space(rcvbuf, config.tcp.adv_win_scale);
    bool wscale = po.window_scale && config.tcp.window_scaling && ts;
    InitialWindow iw =
        select_initial_window(full, l.rcvbuf ? static_cast<uint32_t>(std::max(full, 0)) : 0,
                              our_mss - (ts ? 12u : 0u), wscale, config.tcp);
    h.window = static_cast<uint16_t>(std::min(iw.rcv_wnd, 65535u));
    if (ts) {
      CookieOptions co;
      if (po.window_scale && config.tcp.window_scaling)
        co.wscale = std::min<uint8_t>(*po.window_scale, 14);
      co.sack = po.sack_permitted && config.tcp.sack;
      uint32_t offset = config.tcp.timestamps == 1
                            ? timestamp_offset(config.secret, tuple.local.addr, tuple.remote.addr)
                            : 0;
      uint32_t ts_now = static_cast<uint32_t>(now / std::chrono::milliseconds(1)) + offset;
      h.options.timestamp =
          wire::TcpOptions::Timestamp{cookie_timestamp(ts_now, co), po.timestamp->value};
      h.options.sack_permitted = co.sack;
      if (co.wscale != 0xf) h.options.window_scale = iw.wscale;
    }
    ++counters.tcp_syncookies_sent;
    ++counters.tcp_tx_segments;
    send_segment(tuple, h, {});
  }

  // The ACK of a cookie SYN-ACK arrived at a listener with no connection
  // (cookie_v4_check()). Returns true if it opened a connection.
  bool cookie_ack(Socket& l, const FourTuple& tuple, const wire::TcpSegment& seg) {
    const wire::TcpHeader& h = seg.header;
    if (config.tcp.syncookies == 0 || !h.has(wire::tcpflag::kAck) || h.has(wire::tcpflag::kSyn) ||
        h.has(wire::tcpflag::kRst))
      return false;
    // Only right after an overflow (or always, with 2): tcp_synq_no_recent_overflow().
    if (config.tcp.syncookies != 2 &&
        (!l.last_overflow || now - *l.last_overflow > std::chrono::minutes(2)))
      return false;
    auto mss =
        check_syncookie(config.secret, {tuple.local, tuple.remote}, h.seq - 1, h.ack - 1, now);
    if (!mss) {
      ++counters.tcp_syncookies_failed;
      return false;
    }
    if (l.accept_queue.size() >= static_cast<size_t>(l.backlog)) {
      ++counters.tcp_listen_overflows;
      return true;  // dropped: the peer's ACK will come again
    }
    ++counters.tcp_syncookies_recv;
    bool ts = h.options.timestamp && h.options.timestamp->echo && config.tcp.timestamps != 0;
    CookieOptions co = ts ? cookie_options_from_echo(h.options.timestamp->echo) : CookieOptions{};
    ConnRecord& r = add_connection(tuple, now, h.ack - 1);
    configure(*r.conn, l, now);
    r.conn->open_from_cookie(seg, *mss, ts, co.sack,
                             co.wscale == 0xf ? std::nullopt : std::optional<uint8_t>(co.wscale),
                             now);
    l.accept_queue.push_back(r.conn);
    ++l.enqueued;
    r.queued = true;
    r.listener = id_of(l);
    after_event(tuple);
    return true;
  }

  // --- Time ----------------------------------------------------------------
  void poll_timers() {
    while (!timers.empty() && timers.top().at <= now) {
      TimerEntry e = timers.top();
      timers.pop();
      auto it = conns.find(e.tuple);
      if (it == conns.end() || it->second.serial != e.serial) continue;
      ConnRecord& r = it->second;
      if (r.scheduled && *r.scheduled == e.at) r.scheduled.reset();
      if (auto d = r.conn->deadline(); d && *d <= now) r.conn->on_timer(now);
      after_event(e.tuple);
    }
    // Packets whose next hop never answered ARP: a local "host unreachable"
    // for their connection, as Linux's neighbour layer reports it.
    arp.poll(
        now, [&](Ipv4Addr ip) { send_arp_request(ip); },
        [&](Bytes packet) { tcp_error(packet, wire::kIcmpDestUnreachable, 1, 0); });
  }
};

// --- Public API ----------------------------------------------------------------

Stack::Stack(const StackConfig& config, FrameSink& sink, std::pmr::memory_resource* memory)
    : memory_(memory) {
  std::pmr::polymorphic_allocator<Impl> alloc(memory);
  impl_ = alloc.new_object<Impl>(config, sink, memory);
}

Stack::~Stack() {
  for (auto& [tuple, r] : impl_->conns) impl_->destroy(r);
  std::pmr::polymorphic_allocator<Impl> alloc(memory_);
  alloc.delete_object(impl_);
}

void Stack::input(Bytes frame, Time now, bool checksum_trusted) {
  impl_->now = now;
  impl_->rx_checksum_trusted = checksum_trusted;
  impl_->input(frame);
  impl_->rx_checksum_trusted = false;
}

void Stack::poll(Time now) {
  impl_->now = now;
  impl_->poll_timers();
}

std::optional<Time> Stack::next_deadline() const {
  std::optional<Time> d = impl_->arp.next_deadline();
  if (!impl_->timers.empty() && (!d || impl_->timers.top().at < *d)) d = impl_->timers.top().at;
  return d;
}

const StackConfig& Stack::config() const {
  return impl_->config;
}
const Counters& Stack::counters() const {
  return impl_->counters;
}
void Stack::set_state_observer(TcpStateObserver* observer) {
  impl_->state_observer = observer;
}

void Stack::set_tcp_settings(const TcpSettings& settings) {
  impl_->config.tcp = settings;
  impl_->tcp_generations.push_back(settings);
}

Result<SocketId> Stack::tcp_socket() {
  return impl_->new_socket();
}

Errno Stack::bind(SocketId id, Endpoint local) {
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (s->bound || s->kind != SocketKind::Fresh || s->conn) return EINVAL;
  if (!local.addr.is_any() && local.addr != impl_->config.address.addr) return EADDRNOTAVAIL;
  if (local.port == 0) {
    auto port = impl_->pick_ephemeral(local.addr, Endpoint{});
    if (!port) return EADDRINUSE;
    local.port = *port;
  } else if (impl_->port_in_use(local, s->reuse_addr, s)) {
    return EADDRINUSE;
  }
  s->bound = true;
  s->local = local;
  return 0;
}

Errno Stack::listen(SocketId id, int backlog) {
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (s->kind == SocketKind::Connection) return EINVAL;
  if (!s->bound) {
    // Linux autobinds an unbound listener to an ephemeral port.
    if (Errno e = bind(id, Endpoint{}); e) return e;
  }
  // SO_REUSEADDR lets sockets share a port, but only one may listen on it
  // (inet_csk_get_port() is checked again by listen()).
  for (const Socket& o : impl_->sockets) {
    bool overlap = o.local.addr.is_any() || s->local.addr.is_any() || o.local.addr == s->local.addr;
    if (&o != s && o.in_use && o.kind == SocketKind::Listener && o.local.port == s->local.port &&
        overlap)
      return EADDRINUSE;
  }
  // Linux caps the backlog at somaxconn and keeps room for one more
  // (sk_acceptq_is_full() uses >).
  int cap = std::min(std::max(backlog, 0), impl_->config.tcp.somaxconn);
  s->backlog = cap + 1;
  s->kind = SocketKind::Listener;
  return 0;
}

Result<SocketId> Stack::accept(SocketId id, Endpoint* peer) {
  Socket* l = impl_->get(id);
  if (!l) return Result<SocketId>::error(EBADF);
  if (l->kind != SocketKind::Listener) return Result<SocketId>::error(EINVAL);
  if (l->accept_queue.empty()) return Result<SocketId>::error(EAGAIN);
  TcpConnection* c = l->accept_queue.front();
  l->accept_queue.pop_front();
  SocketId child = impl_->new_socket();
  l = impl_->get(id);  // new_socket may have moved the table
  Socket& s = impl_->sockets[child.index];
  s.kind = SocketKind::Connection;
  s.phase = ConnectPhase::Connected;
  s.bound = true;
  s.local = c->tuple().local;
  s.conn = c;
  s.nodelay = l->nodelay;
  s.reuse_addr = l->reuse_addr;
  s.keepalive = l->keepalive;
  s.cork = l->cork;
  s.notsent_lowat = l->notsent_lowat;
  s.rto_max_ms = l->rto_max_ms;
  s.oob_inline = l->oob_inline;
  s.sndbuf = l->sndbuf;
  s.rcvbuf = l->rcvbuf;
  ConnRecord& r = impl_->conns.at(c->tuple());
  r.queued = false;
  r.listener.reset();
  r.has_owner = true;
  if (peer) *peer = c->tuple().remote;
  return child;
}

Errno Stack::connect(SocketId id, Endpoint remote, Time now) {
  impl_->now = now;
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (s->kind == SocketKind::Listener) return EISCONN;
  if (s->conn) {
    TcpState st = s->conn->state();
    if (st == TcpState::SynSent || st == TcpState::SynReceived) return EALREADY;
    if (st != TcpState::Closed) {
      // __inet_stream_connect(): the first call after completion reports 0.
      if (s->phase == ConnectPhase::Connecting) {
        s->phase = ConnectPhase::Connected;
        return 0;
      }
      return EISCONN;
    }
    if (s->phase == ConnectPhase::Connecting) {
      // Failed: report why, once, and allow a fresh attempt.
      int err = s->conn->take_error();
      s->phase = ConnectPhase::None;
      return err ? err : ECONNABORTED;
    }
    if (s->phase == ConnectPhase::Connected) return EISCONN;
  }
  if (remote.addr.is_any() || remote.port == 0) return ECONNREFUSED;
  if (!impl_->config.address.contains(remote.addr) && !impl_->config.gateway) return ENETUNREACH;
  Endpoint local = s->bound ? s->local : Endpoint{impl_->config.address.addr, 0};
  bool port_chosen = local.port != 0;
  if (local.addr.is_any()) local.addr = impl_->config.address.addr;
  if (local.port == 0) {
    auto port = impl_->pick_ephemeral(local.addr, remote);
    if (!port) {
      ++impl_->counters.tcp_ports_exhausted;
      return EADDRNOTAVAIL;
    }
    local.port = *port;
  }
  FourTuple tuple{local, remote};
  std::optional<uint32_t> iss;
  std::optional<std::pair<uint32_t, Time>> ts_recent;  // the TIME_WAIT's, taken over
  if (auto it = impl_->conns.find(tuple); it != impl_->conns.end()) {
    if (!it->second.conn->finished()) {
      iss = impl_->time_wait_takeover(it->second, port_chosen);
      if (!iss) return EADDRNOTAVAIL;
      const TcpConnection& tw = *it->second.conn;
      ts_recent = {tw.ts_recent(), *tw.ts_recent_stamp()};
    } else if (it->second.has_owner) {
      return EADDRNOTAVAIL;
    }
    impl_->destroy(it->second);
    impl_->conns.erase(it);
  }
  if (s->conn) {
    // Release the record of the previous, failed attempt.
    auto old = impl_->conns.find(s->conn->tuple());
    if (old != impl_->conns.end() && old->second.conn == s->conn) {
      old->second.has_owner = false;
      impl_->after_event(s->conn->tuple());
    }
    s->conn = nullptr;
  }
  s->bound = true;
  s->local = local;
  ConnRecord& r = impl_->add_connection(tuple, now, iss);
  r.has_owner = true;
  impl_->configure(*r.conn, *s, now);
  r.conn->set_user_timeout(std::chrono::milliseconds(s->user_timeout_ms));
  s->conn = r.conn;
  s->kind = SocketKind::Connection;
  s->phase = ConnectPhase::Connecting;
  if (ts_recent) r.conn->inherit_ts_recent(ts_recent->first, ts_recent->second);
  r.conn->open_active(now);
  impl_->after_event(tuple);
  return EINPROGRESS;
}

Result<size_t> Stack::send(SocketId id, Bytes data, Time now, bool more, bool oob) {
  impl_->now = now;
  Socket* s = impl_->get(id);
  if (!s) return Result<size_t>::error(EBADF);
  if (!s->conn) return Result<size_t>::error(s->kind == SocketKind::Listener ? ENOTCONN : EPIPE);
  auto r = s->conn->send(data, more, now, oob);
  impl_->after_event(s->conn->tuple());
  return r;
}

Result<size_t> Stack::recv(SocketId id, MutableBytes buf, Time now, bool peek) {
  impl_->now = now;
  Socket* s = impl_->get(id);
  if (!s) return Result<size_t>::error(EBADF);
  if (!s->conn) return Result<size_t>::error(ENOTCONN);
  auto r = s->conn->recv(buf, peek, now);
  impl_->after_event(s->conn->tuple());
  return r;
}

Result<size_t> Stack::recv_urgent(SocketId id, MutableBytes buf, bool peek) {
  Socket* s = impl_->get(id);
  if (!s) return Result<size_t>::error(EBADF);
  // tcp_recvmsg_locked(): a listener is never connected; a fresh socket has
  // no urgent data (tcp_recv_urg() checks that first).
  if (s->kind == SocketKind::Listener) return Result<size_t>::error(ENOTCONN);
  if (!s->conn) return Result<size_t>::error(EINVAL);
  return s->conn->recv_urgent(buf, peek);
}

uint32_t Stack::urgent_marks(SocketId id) const {
  Socket* s = impl_->get(id);
  return s && s->conn ? s->conn->urgent_marks() : 0;
}

bool Stack::at_urgent_mark(SocketId id) const {
  Socket* s = impl_->get(id);
  return s && s->conn && s->conn->at_urgent_mark();
}

Errno Stack::shutdown(SocketId id, Shut how, Time now) {
  impl_->now = now;
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  bool rd = how != Shut::Write, wr = how != Shut::Read;
  if (s->kind == SocketKind::Listener) {
    // inet_shutdown() on a listener: SHUT_RD stops it like close would.
    return rd ? 0 : ENOTCONN;
  }
  if (!s->conn || s->conn->state() == TcpState::Closed) {
    s->shut_rd |= rd;
    s->shut_wr |= wr;
    return ENOTCONN;
  }
  if (rd) s->conn->shutdown_read();
  Errno e = wr ? s->conn->shutdown_write(now) : 0;
  impl_->after_event(s->conn->tuple());
  return e;
}

Errno Stack::close(SocketId id, Time now) {
  impl_->now = now;
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (s->kind == SocketKind::Listener) {
    // inet_csk_listen_stop(): children not yet accepted are reset.
    for (auto& [tuple, r] : impl_->conns) {
      if (r.listener && *r.listener == id) {
        // inet_csk_listen_stop(): requests still in the handshake vanish
        // silently; accepted-but-unclaimed connections are reset.
        if (r.conn->state() == TcpState::SynReceived) {
          r.conn->drop();
        } else {
          r.conn->abort(now);
        }
        r.queued = false;
        r.listener.reset();
      }
    }
    s->accept_queue.clear();
    for (auto it = impl_->conns.begin(); it != impl_->conns.end();) {
      if (it->second.conn->finished() && !it->second.has_owner && !it->second.listener) {
        impl_->destroy(it->second);
        it = impl_->conns.erase(it);
      } else {
        ++it;
      }
    }
  } else if (s->conn) {
    FourTuple tuple = s->conn->tuple();
    if (s->linger_s == 0) {
      // SO_LINGER with a zero time: an abortive close, RST instead of FIN
      // (tcp_close() -> tcp_disconnect()).
      s->conn->abort(now);
    } else {
      s->conn->close(now);
    }
    impl_->conns.at(tuple).has_owner = false;
    impl_->after_event(tuple);
  }
  impl_->release_socket(id);
  return 0;
}

uint32_t Stack::readiness(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s) return ready::kErr | ready::kHup;
  if (s->kind == SocketKind::Listener) return s->accept_queue.empty() ? 0 : ready::kIn;
  if (!s->conn) return ready::kOut | ready::kHup;  // tcp_poll() on a fresh socket
  return s->conn->readiness();
}

int Stack::take_error(SocketId id) {
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (s->error) return std::exchange(s->error, 0);
  return s->conn ? s->conn->take_error() : 0;
}

Errno Stack::set_option(SocketId id, SockOpt opt, int value) {
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  switch (opt) {
    case SockOpt::ReuseAddr:
      s->reuse_addr = value != 0;
      if (s->conn) s->conn->set_reuse_addr(value != 0);
      return 0;
    case SockOpt::NoDelay:
      s->nodelay = value != 0;
      if (s->conn) {
        s->conn->set_nodelay(value != 0, impl_->now);
        impl_->after_event(s->conn->tuple());
      }
      return 0;
    case SockOpt::KeepAlive:
      s->keepalive.on = value != 0;
      break;
    case SockOpt::KeepIdle:
      // do_tcp_setsockopt(): 1..MAX_TCP_KEEPIDLE, 1..MAX_TCP_KEEPINTVL,
      // 1..MAX_TCP_KEEPCNT.
      if (value < 1 || value > 32767) return EINVAL;
      s->keepalive.idle_s = value;
      break;
    case SockOpt::KeepIntvl:
      if (value < 1 || value > 32767) return EINVAL;
      s->keepalive.intvl_s = value;
      break;
    case SockOpt::KeepCnt:
      if (value < 1 || value > 127) return EINVAL;
      s->keepalive.cnt = value;
      break;
    case SockOpt::UserTimeoutMs:
      if (value < 0) return EINVAL;
      s->user_timeout_ms = value;
      if (s->conn) s->conn->set_user_timeout(std::chrono::milliseconds(value));
      return 0;
    case SockOpt::Linger:
      s->linger_s = value < 0 ? -1 : value;
      return 0;
    case SockOpt::MaxSeg:
      // do_tcp_setsockopt(): TCP_MIN_MSS..MAX_TCP_WINDOW, 0 clears it.
      if (value != 0 && (value < 88 || value > 32767)) return EINVAL;
      s->user_mss = static_cast<uint16_t>(value);
      if (s->conn) s->conn->set_user_mss(s->user_mss);
      return 0;
    case SockOpt::SndBuf:
      // sock_setsockopt(): never an error; capped, doubled, locked.
      s->sndbuf = sock_buffer_from_user(value, impl_->config.tcp.core_wmem_max, kSockMinSndbuf);
      if (s->conn) {
        s->conn->set_send_buffer(s->sndbuf, true);
        impl_->after_event(s->conn->tuple());
      }
      return 0;
    case SockOpt::RcvBuf:
      s->rcvbuf = sock_buffer_from_user(value, impl_->config.tcp.core_rmem_max, kSockMinRcvbuf);
      if (s->conn) {
        s->conn->set_receive_buffer(s->rcvbuf, true);
        impl_->after_event(s->conn->tuple());
      }
      return 0;
    case SockOpt::Cork:
      s->cork = value != 0;
      if (s->conn) {
        s->conn->set_cork(value != 0, impl_->now);
        impl_->after_event(s->conn->tuple());
      }
      return 0;
    case SockOpt::NotSentLowat:
      // Any value; Linux keeps it as an unsigned number.
      s->notsent_lowat = static_cast<uint32_t>(value);
      if (s->conn) s->conn->set_notsent_lowat(s->notsent_lowat);
      return 0;
    case SockOpt::OobInline:
      s->oob_inline = value != 0;
      if (s->conn) s->conn->set_urgent_inline(value != 0);
      return 0;
    case SockOpt::RtoMaxMs:
      // do_tcp_setsockopt(): MSEC_PER_SEC..TCP_RTO_MAX_SEC * MSEC_PER_SEC.
      if (value < 1000 || value > 120000) return EINVAL;
      s->rto_max_ms = value;
      if (s->conn) s->conn->set_rto_max(std::chrono::milliseconds(value));
      return 0;
  }
  if (s->conn) {
    s->conn->set_keepalive(s->keepalive, impl_->now);
    impl_->after_event(s->conn->tuple());
  }
  return 0;
  return ENOPROTOOPT;
}

Result<int> Stack::get_option(SocketId id, SockOpt opt) const {
  Socket* s = impl_->get(id);
  if (!s) return Result<int>::error(EBADF);
  switch (opt) {
    case SockOpt::ReuseAddr:
      return s->reuse_addr ? 1 : 0;
    case SockOpt::NoDelay:
      return s->nodelay ? 1 : 0;
    case SockOpt::KeepAlive:
      return s->keepalive.on ? 1 : 0;
    case SockOpt::KeepIdle:
      return s->keepalive.idle_s ? s->keepalive.idle_s : impl_->config.tcp.keepalive_time_s;
    case SockOpt::KeepIntvl:
      return s->keepalive.intvl_s ? s->keepalive.intvl_s : impl_->config.tcp.keepalive_intvl_s;
    case SockOpt::KeepCnt:
      return s->keepalive.cnt ? s->keepalive.cnt : impl_->config.tcp.keepalive_probes;
    case SockOpt::UserTimeoutMs:
      return s->user_timeout_ms;
    case SockOpt::Linger:
      return s->linger_s;
    case SockOpt::MaxSeg:
      if (s->conn) return int{s->conn->maxseg()};
      return s->user_mss ? int{s->user_mss} : 536;
    case SockOpt::SndBuf:
      // sk_sndbuf: the program's (doubled) value, or tcp_wmem[1] as grown.
      if (s->conn) return s->conn->send_buffer();
      return s->sndbuf ? s->sndbuf : impl_->config.tcp.wmem_default;
    case SockOpt::RcvBuf:
      if (s->conn) return s->conn->receive_buffer();
      return s->rcvbuf ? s->rcvbuf : impl_->config.tcp.rmem_default;
    case SockOpt::Cork:
      return s->cork ? 1 : 0;
    case SockOpt::NotSentLowat:
      return static_cast<int>(s->notsent_lowat);
    case SockOpt::OobInline:
      return s->oob_inline ? 1 : 0;
    case SockOpt::RtoMaxMs:
      // icsk_rto_max starts as the knob's value when the socket is made.
      if (s->conn) return static_cast<int>(s->conn->rto_max() / std::chrono::milliseconds(1));
      return s->rto_max_ms ? s->rto_max_ms : impl_->config.tcp.rto_max_ms;
  }
  return Result<int>::error(ENOPROTOOPT);
}

Errno Stack::set_congestion_control(SocketId id, std::string_view name) {
  Socket* s = impl_->get(id);
  if (!s) return EBADF;
  if (!is_available_congestion_control(name) || name.size() >= s->congestion.size()) return ENOENT;
  s->congestion = {};
  name.copy(s->congestion.data(), name.size());
  if (s->conn) s->conn->set_congestion_control(name, impl_->memory);
  return 0;
}

std::string_view Stack::congestion_control(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s) return {};
  if (s->conn) return s->conn->congestion_control();
  if (s->congestion[0]) return std::string_view(s->congestion.data());
  return std::string_view(impl_->config.tcp.congestion_control.data());
}

std::optional<Endpoint> Stack::local_endpoint(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s) return std::nullopt;
  if (s->conn) return s->conn->tuple().local;
  if (s->bound) return s->local;
  return Endpoint{};
}

std::optional<Endpoint> Stack::remote_endpoint(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s || !s->conn) return std::nullopt;
  TcpState st = s->conn->state();
  if (st == TcpState::SynSent || (st == TcpState::Closed && !s->conn->was_established()))
    return std::nullopt;
  return s->conn->tuple().remote;
}

std::optional<TcpState> Stack::state(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s) return std::nullopt;
  if (s->kind == SocketKind::Listener) return TcpState::Listen;
  return s->conn ? s->conn->state() : TcpState::Closed;
}

std::optional<TcpInfo> Stack::tcp_info(SocketId id, Time now) const {
  Socket* s = impl_->get(id);
  if (!s) return std::nullopt;
  if (s->conn) return s->conn->info(now);
  TcpInfo i;
  i.state =
      static_cast<uint8_t>(s->kind == SocketKind::Listener ? TcpState::Listen : TcpState::Closed);
  return i;
}

size_t Stack::bytes_readable(SocketId id) const {
  Socket* s = impl_->get(id);
  return s && s->conn ? s->conn->bytes_readable() : 0;
}

size_t Stack::bytes_unacked(SocketId id) const {
  Socket* s = impl_->get(id);
  return s && s->conn ? s->conn->bytes_unacked() : 0;
}

void Stack::for_each_socket(const std::function<void(const SocketView&)>& f, Time now) const {
  for (const Socket& s : impl_->sockets) {
    if (!s.in_use || s.kind != SocketKind::Listener) continue;
    SocketView v;
    v.state = TcpState::Listen;
    v.local = s.local;
    v.recv_q = static_cast<uint32_t>(s.accept_queue.size());
    v.send_q = static_cast<uint32_t>(s.backlog);
    v.socket = impl_->id_of(s);
    f(v);
  }
  // Each connection's socket, looked up once (a scan per connection made a
  // view of 10000 connections take seconds).
  std::pmr::unordered_map<const TcpConnection*, SocketId> owner(impl_->memory);
  owner.reserve(impl_->sockets.size());
  for (const Socket& s : impl_->sockets)
    if (s.in_use && s.conn) owner.emplace(s.conn, impl_->id_of(s));
  for (const auto& [tuple, r] : impl_->conns) {
    const TcpConnection* c = r.conn;
    if (c->finished()) continue;
    SocketView v;
    v.state = c->state();
    v.local = tuple.local;
    v.remote = tuple.remote;
    v.recv_q = static_cast<uint32_t>(c->bytes_readable());
    v.send_q = static_cast<uint32_t>(c->bytes_unacked());
    v.orphan = !r.has_owner && !r.queued;
    v.timer = c->timer_view();
    v.info = c->info(now);
    if (r.has_owner) {
      if (auto it = owner.find(c); it != owner.end()) v.socket = it->second;
    }
    f(v);
  }
}

std::optional<TcpState> Stack::connection_state(Endpoint local, Endpoint remote) const {
  auto it = impl_->conns.find(FourTuple{local, remote});
  if (it == impl_->conns.end()) return std::nullopt;
  return it->second.conn->state();
}

uint64_t Stack::event_count(SocketId id) const {
  Socket* s = impl_->get(id);
  if (!s) return 0;
  if (s->kind == SocketKind::Listener) return s->enqueued;
  return s->conn ? s->conn->segments_received() : 0;
}

size_t Stack::connection_count() const {
  size_t n = 0;
  for (const auto& [t, r] : impl_->conns) n += r.conn->finished() ? 0 : 1;
  return n;
}

size_t Stack::connections_with_pending_output() const {
  constexpr uint32_t kBusy = state_bit(TcpState::SynSent) | state_bit(TcpState::SynReceived) |
                             state_bit(TcpState::FinWait1) | state_bit(TcpState::Closing) |
                             state_bit(TcpState::LastAck);
  size_t n = 0;
  for (const auto& [t, r] : impl_->conns) {
    TcpState st = r.conn->state();
    if (in_state(st, kBusy) || (st != TcpState::Closed && r.conn->bytes_unacked() > 0)) ++n;
  }
  return n;
}

}  // namespace veer::core
