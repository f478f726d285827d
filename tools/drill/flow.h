// packetdrill's "socket under test": the connection a script's packets
// belong to, with the two views of it. Scripts write sequence numbers
// relative to the initial ones (the stack's ISN appears as 0, so its first
// data byte is 1) and TS values as they like; the live connection has the
// stack's real ISN and clock. A Flow maps inbound script packets to live
// segments and outbound live segments back to script space, learning the
// stack's ISN from its SYN or SYN-ACK (packetdrill's socket.h and
// run_packet.c, read for their facts).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/drill/ast.h"
#include "tools/drill/segment.h"

namespace veer::drill {

class Flow {
 public:
  enum class State : uint8_t {
    Init,                   // socket() called
    PassiveListening,       // listen() called
    PassivePacketReceived,  // a first inbound packet made this a passive child
    PassiveSynAckSent,
    PassiveSynAckAcked,
    ActiveConnecting,  // connect() called
    ActiveSynSent,     // the script's `> S` is being matched
    ActiveSynAcked,
  };

  State state = State::Init;
  // Live addresses (what goes on the wire); script addresses are implicit.
  Endpoint live_local;
  Endpoint live_remote;
  uint32_t script_local_isn = 0;
  uint32_t live_local_isn = 0;
  uint32_t remote_isn = 0;  // the peer's ISN: the script's, used live as is

  // --- Inbound (script → live) -------------------------------------------------
  // The live segment for an inbound script packet. Fails (error set) when an
  // echoed TS value cannot be related to any TS value the stack sent.
  std::optional<Segment> to_live(const PacketSpec& p, bool ecr_scaled, std::string* error) const;

  // --- Outbound (live → script) ------------------------------------------------
  // Does this live segment belong to the flow, and go out from the stack?
  bool is_outbound(const Segment& s) const;
  // Connecting, matching a `> S`: is this the stack's SYN to our peer? If so,
  // learns the stack's port and ISN.
  bool claim_syn(const Segment& s);
  // seq, ack and SACK blocks into script space (tcp_convert_seq_number()).
  void seq_to_script(Segment& s) const;
  // TSval into script space, remembering which live TSval a script TSval
  // stands for (map_outbound_live_packet()). `script_tsval`: the script's
  // TSval for this packet, when it lists a timestamp.
  void ts_to_script(Segment& s, std::optional<uint32_t> script_tsval);

 private:
  std::map<uint32_t, uint32_t> ts_map_;  // script TSval → live TSval
  bool found_first_ts_ = false;
  uint32_t first_script_ts_ = 0;
  uint32_t first_live_ts_ = 0;
};

// All flows of a run, and which one is under test: packetdrill follows one
// socket at a time, the latest created, or the passive child a listener's
// first inbound packet made.
//
// A packet with explicit ports (`< 50001>8080 S ...`, packetdrill's
// opt_port_info) belongs to the flow with those live ports instead; an
// inbound SYN with ports no flow has starts a side flow, a passive child
// that does not become the socket under test. packetdrill maps such packets
// with the socket under test's sequence numbers, so it cannot follow a
// second connection; the runner gives each side flow its own mapping, which
// is what lets a script fill a listener's accept queue with one connection
// while it follows another. Side-flow ports are live ports: keep them clear
// of the runner's own remote ports (40000 upward).
class FlowTable {
 public:
  Flow* add() {
    all_.push_back(std::make_unique<Flow>());
    under_test_ = all_.back().get();
    return under_test_;
  }
  Flow* add_side() {
    all_.push_back(std::make_unique<Flow>());
    return all_.back().get();
  }
  Flow* under_test() const { return under_test_; }
  // The flow whose live ports are these (the newest, if several were).
  Flow* find(uint16_t local_port, uint16_t remote_port) const {
    for (auto it = all_.rbegin(); it != all_.rend(); ++it) {
      const Flow& f = **it;
      if (f.live_local.port == local_port && f.live_remote.port == remote_port) return it->get();
    }
    return nullptr;
  }

 private:
  std::vector<std::unique_ptr<Flow>> all_;
  Flow* under_test_ = nullptr;
};

}  // namespace veer::drill
