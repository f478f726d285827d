#include "tools/drill/executor.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <ostream>
#include <sstream>

#include "core/wire/tcp.h"
#include "tools/drill/flow.h"
#include "tools/drill/matcher.h"
#include "tools/drill/packet_format.h"
#include "tools/drill/parser.h"
#include "tools/drill/stack_host.h"
#include "tools/drill/syscalls.h"
#include "tools/drill/sysctls.h"
#include "tools/drill/tcpi_assert.h"
#include "tools/drill/timing.h"

namespace veer::drill {
namespace {

using namespace wire::tcpflag;
using std::chrono::seconds;

// How far past an expected time the runner keeps moving the clock to see
// when (or whether) something happens, for a message that says when.
constexpr Time kLookAhead = seconds(120);
// A call the script does not mark as blocking but that blocks anyway holds
// up the script, as in packetdrill's main thread; this long at most.
constexpr Time kBlockedCallLimit = seconds(3600);

class Executor {
 public:
  Executor(const Script& s, RunOptions o, std::ostream* trace)
      : s_(s), opt_(std::move(o)), trace_(trace), calls_(opt_, flows_) {}

  Outcome run() {
    if (auto o = configure()) return *o;
    for (const Event& e : s_.events) {
      if (auto o = run_event(e)) return *o;
    }
    if (auto o = finish_in_flight()) return *o;
    if (s_.cleanup_command) {
      CommandPlan plan = plan_command(s_.cleanup_command->command);
      if (!plan.unsupported.empty()) {
        Outcome o = Outcome::unsupported(plan.unsupported);
        o.line = s_.cleanup_line;
        return o;
      }
    }
    return Outcome::pass();
  }

 private:
  // --- Setup -------------------------------------------------------------------

  std::optional<Outcome> configure() {
    config::Origin origin = config::Origin::from_file(s_.path, 0);
    auto set = [&](const char* key, const std::string& value) -> std::optional<Outcome> {
      if (auto err = config_.set(key, value, origin))
        return Outcome::fail("runner configuration: " + err->message);
      return std::nullopt;
    };
    Ipv4Prefix local{opt_.local_ip, prefix_length(opt_.netmask)};
    if (auto o = set("address", local.to_string())) return o;
    if (auto o = set("gateway", gateway_for(opt_).to_string())) return o;
    if (auto o = set("mtu", std::to_string(opt_.mtu))) return o;
    if (auto err = config_.check_consistency())
      return Outcome::fail("runner configuration: " + err->message);
    for (const std::string& kv : opt_.sysctls) {
      size_t eq = kv.find('=');
      SysctlAssignment a{kv.substr(0, eq), kv.substr(eq + 1), false};
      std::string why = apply_sysctl(config_, a, config::Origin::from_env("--sysctl"));
      if (!why.empty()) return Outcome::unsupported("--sysctl " + kv + ": " + why);
    }
    if (s_.init_command) {
      if (auto o = apply_command(s_.init_command->command, s_.init_line)) return o;
    }
    rebuild_stack();
    return std::nullopt;
  }

  // Sysctls from a backquoted command into the configuration.
  std::optional<Outcome> apply_command(const std::string& command, int line) {
    CommandPlan plan = plan_command(command);
    auto at = [&](Outcome o) {
      o.line = line;
      o.line_text = s_.line_text(line);
      return o;
    };
    if (!plan.unsupported.empty()) return at(Outcome::unsupported(plan.unsupported));
    for (const SysctlAssignment& a : plan.sets) {
      std::string why = apply_sysctl(config_, a, config::Origin::from_file(s_.path, line));
      if (!why.empty()) return at(Outcome::unsupported(why));
    }
    return std::nullopt;
  }

  void rebuild_stack() {
    core::StackConfig sc = config_.stack_config();
    // A fixed secret: the same ISNs and ports on every run of a script.
    for (size_t i = 0; i < sc.secret.size(); ++i) sc.secret[i] = static_cast<uint8_t>(0x5a + i);
    Time now = host_ ? host_->now() : StackHost::kEpoch;
    host_ = std::make_unique<StackHost>(sc);
    host_->set_now(now);
    calls_.attach(host_.get());
  }

  // --- Events ------------------------------------------------------------------

  std::optional<Outcome> run_event(const Event& e) {
    auto* pkt = std::get_if<PacketSpec>(&e.action);
    bool inbound = pkt && pkt->inbound;
    std::optional<int64_t> syscall_end;
    if (auto* sc = std::get_if<SyscallSpec>(&e.action)) syscall_end = sc->end_usecs;
    if (!last_event_us_ && e.time.usecs != 0 && e.time.type != EventTime::Type::Any)
      return fail(e, "the first event must be at time 0", "", "");
    if (last_event_us_ && last_absolute_ && !e.time.relative() &&
        e.time.type != EventTime::Type::Any && e.time.usecs < *last_event_us_) {
      return fail(e,
                  "time goes backward in the script, from " + format_usecs(*last_event_us_) +
                      " to " + format_usecs(e.time.usecs),
                  "", "");
    }
    std::optional<int64_t> anchor;
    if (inbound && last_inbound_) anchor = last_event_us_;
    ResolvedTime t = resolve_time(e.time, syscall_end, host_->now_usecs(), anchor);
    trace("line " + std::to_string(e.line) + " @" + format_usecs(host_->now_usecs()) + ": " +
          s_.line_text(e.line));

    std::optional<Outcome> out;
    if (pkt) {
      out = inbound ? run_inbound(e, *pkt, t) : run_outbound(e, *pkt, t);
    } else if (auto* sc = std::get_if<SyscallSpec>(&e.action)) {
      out = run_syscall(e, *sc, t);
    } else if (auto* cmd = std::get_if<CommandSpec>(&e.action)) {
      out = run_command(e, *cmd, t);
    } else if (auto* code = std::get_if<CodeSpec>(&e.action)) {
      out = run_code(e, *code, t);
    } else if (auto* u = std::get_if<UnsupportedSpec>(&e.action)) {
      out = unsupported(e, u->what);
    }
    if (!out && failure_) out = failure_;
    last_event_us_ = t.usecs;
    last_absolute_ = !e.time.relative() && e.time.type != EventTime::Type::Any;
    last_inbound_ = inbound;
    return out;
  }

  // Waits for the event's time, then checks the clock did not pass it.
  std::optional<Outcome> reach(const Event& e, const ResolvedTime& t, const char* what) {
    advance_to(StackHost::from_usecs(t.usecs));
    if (failure_) return failure_;
    std::string late =
        check_time(t, t.usecs, t.end_usecs, host_->now_usecs(), last_event_us_, tolerance(), what);
    if (!late.empty()) return fail(e, late, "", "");
    return std::nullopt;
  }

  // The flow an explicit-ports packet names (FlowTable). An inbound SYN
  // with ports no flow has starts a side flow.
  Flow* flow_with_ports(const PacketSpec& p, std::string* why) {
    const PacketSpec::Ports& ports = *p.ports;
    uint16_t local = p.inbound ? ports.dst : ports.src;
    uint16_t remote = p.inbound ? ports.src : ports.dst;
    if (Flow* f = flows_.find(local, remote)) return f;
    if (p.inbound && (p.flags & kSyn) && !(p.flags & kAck)) {
      Flow* f = flows_.add_side();
      f->state = Flow::State::PassivePacketReceived;
      f->live_remote = {opt_.remote_ip, remote};
      f->live_local = {opt_.local_ip, local};
      f->remote_isn = p.seq;
      return f;
    }
    *why = "no connection has the ports " + std::to_string(ports.src) + ">" +
           std::to_string(ports.dst) + " (a flow of its own starts with an inbound SYN)";
    return nullptr;
  }

  std::optional<Outcome> run_inbound(const Event& e, const PacketSpec& p, const ResolvedTime& t) {
    if (auto o = reach(e, t, "inbound packet")) return o;
    Flow* flow = flows_.under_test();
    if (p.ports) {
      std::string why;
      flow = flow_with_ports(p, &why);
      if (!flow) return fail(e, why, "", "");
    } else if (!flow || flow->state == Flow::State::PassiveListening) {
      // handle_listen_for_script_packet(): a listener's first packet makes
      // a child connection the script follows from now on.
      flow = flows_.add();
      flow->state = Flow::State::PassivePacketReceived;
      flow->live_remote = {opt_.remote_ip, next_remote_port_++};
      flow->live_local = {opt_.local_ip, opt_.bind_port};
      flow->remote_isn = p.seq;
    } else if (flow->state == Flow::State::PassiveSynAckSent && (p.flags & kAck)) {
      flow->state = Flow::State::PassiveSynAckAcked;
    } else if (flow->state == Flow::State::ActiveSynSent && (p.flags & kSyn) && (p.flags & kAck)) {
      flow->state = Flow::State::ActiveSynAcked;
      flow->remote_isn = p.seq;
    }
    std::string why;
    auto live = flow->to_live(p, opt_.tcp_ts_ecr_scaled, &why);
    if (!live) return fail(e, why, "", "");
    // A segment longer than the MSS goes in whole: packetdrill injects it with
    // a GSO size of --mss, and Linux's receive path takes such a packet as
    // one segment, as it would a GRO-merged one.
    trace("  < " + format_segment(*live) + " (live)");
    host_->inject(build_tcp_frame(*live, StackHost::kPeerMac, host_->mac()));
    retry_in_flight();
    return failure_;
  }

  std::optional<Outcome> run_outbound(const Event& e, const PacketSpec& p, const ResolvedTime& t) {
    Flow* flow = flows_.under_test();
    if (p.ports) {
      std::string why;
      flow = flow_with_ports(p, &why);
      if (!flow) return fail(e, why, "", "");
    }
    if (!flow) return fail(e, "no socket the outbound packet could come from", "", "");
    const bool synack = (p.flags & kSyn) && (p.flags & kAck);
    if (flow->state == Flow::State::PassivePacketReceived && synack) {
      flow->script_local_isn = p.seq;
    } else if (flow->state == Flow::State::ActiveConnecting && (p.flags & kSyn) && !synack) {
      flow->state = Flow::State::ActiveSynSent;
      flow->script_local_isn = p.seq;
    }
    Time limit =
        t.type == EventTime::Type::Any
            ? host_->now() + seconds(600)
            : StackHost::from_usecs((t.range() ? t.end_usecs : t.usecs) + tolerance_at(t.usecs)) +
                  kLookAhead;
    std::vector<Segment> frags;
    uint32_t total = 0;
    std::string expected = format_packet(p);
    do {
      std::string why;
      auto seg = next_outbound(*flow, limit, &why);
      if (failure_) return failure_;
      if (!seg) {
        if (!why.empty()) return fail(e, why, expected, "");
        std::string got = frags.empty()
                              ? "nothing was sent"
                              : format_segment(merge_fragments(frags)) + " and then nothing more";
        return fail(e, "expected packet was not sent", expected,
                    got + " (waited until " + format_usecs(StackHost::to_usecs(limit)) + " s)");
      }
      if (flow->state == Flow::State::PassivePacketReceived && synack && frags.empty()) {
        flow->state = Flow::State::PassiveSynAckSent;
        flow->live_local_isn = seg->seq;
      }
      flow->seq_to_script(*seg);
      trace("  > " + format_segment(*seg) + " @" + format_usecs(StackHost::to_usecs(seg->at)));
      if (!frags.empty()) {
        std::string bad = check_fragment(frags.back(), *seg, total, p.payload);
        if (!bad.empty()) return fail(e, bad, expected, format_segment(*seg));
      }
      total += seg->payload;
      frags.push_back(*seg);
    } while (total < p.payload && !opt_.strict_segments);
    Segment actual = merge_fragments(frags);
    std::optional<uint32_t> script_ts;
    if (p.options) {
      for (const auto& o : *p.options)
        if (o.kind == TcpOptionSpec::Kind::Timestamp) script_ts = o.value;
    }
    flow->ts_to_script(actual, script_ts);
    int64_t at = StackHost::to_usecs(actual.at);
    std::string got = format_segment(actual) + " at " + format_usecs(at) + " s";
    MatchSettings ms{opt_.tcp_ts_tick_usecs, opt_.tolerance_usecs};
    std::string diff = compare_outbound(p, actual, ms);
    if (!diff.empty()) return fail(e, diff, expected, got);
    std::string late =
        check_time(t, t.usecs, t.end_usecs, at, last_event_us_, tolerance(), "outbound packet");
    if (!late.empty()) return fail(e, late, expected, got);
    return std::nullopt;
  }

  // The next segment the stack sends on `flow`, moving the clock up to
  // `limit` for it. Other traffic is ignored, as packetdrill's sniffer does.
  std::optional<Segment> next_outbound(Flow& flow, Time limit, std::string* error) {
    for (;;) {
      auto& q = host_->sent();
      while (!q.empty()) {
        SentFrame f = std::move(q.front());
        q.pop_front();
        auto seg = decode_tcp_frame(f.bytes, error);
        if (!error->empty()) return std::nullopt;
        if (!seg) continue;
        seg->at = f.at;
        if (flow.is_outbound(*seg) || flow.claim_syn(*seg)) return seg;
        trace("  (ignored, not the socket under test) " + format_segment(*seg));
      }
      if (failure_ || !step(limit)) return std::nullopt;
    }
  }

  std::optional<Outcome> run_syscall(const Event& e, const SyscallSpec& sc, const ResolvedTime& t) {
    // run_system_call_event(): a call waits for the one in flight to finish.
    if (auto o = finish_in_flight()) return o;
    if (auto o = reach(e, t, "system call start")) return o;
    CallStep step_result = calls_.start(sc);
    if (step_result.kind == CallStep::Kind::Blocked) {
      if (t.syscall_end_usecs) {
        in_flight_ = InFlight{&e, t};
        return std::nullopt;
      }
      // Not marked blocking, but blocks: the script waits for it.
      Time limit = host_->now() + kBlockedCallLimit;
      while (step_result.kind == CallStep::Kind::Blocked) {
        if (!step(limit)) {
          return fail(e, sc.name + "() blocked and nothing is left that could complete it",
                      "a return", "still blocked");
        }
        step_result = calls_.retry();
      }
    }
    if (auto o = call_outcome(e, step_result)) return o;
    if (t.syscall_end_usecs) return check_return_time(e, t);
    return std::nullopt;
  }

  std::optional<Outcome> call_outcome(const Event& e, const CallStep& s) {
    switch (s.kind) {
      case CallStep::Kind::Passed:
      case CallStep::Kind::Blocked:
        return std::nullopt;
      case CallStep::Kind::Mismatch:
        return fail(e, s.what + " differs", s.expected, s.actual);
      case CallStep::Kind::Unsupported:
        return unsupported(e, s.what);
      case CallStep::Kind::Error:
        return fail(e, s.what, "", "");
    }
    return std::nullopt;
  }

  std::optional<Outcome> check_return_time(const Event& e, const ResolvedTime& t) {
    ResolvedTime end = t;
    std::string late = check_time(end, *t.syscall_end_usecs, 0, host_->now_usecs(), t.usecs,
                                  tolerance(), "system call return");
    if (!late.empty()) return fail(e, late, "", "");
    return std::nullopt;
  }

  std::optional<Outcome> run_command(const Event& e, const CommandSpec& cmd,
                                     const ResolvedTime& t) {
    if (auto o = reach(e, t, "command")) return o;
    CommandPlan plan = plan_command(cmd.command);
    if (!plan.unsupported.empty()) return unsupported(e, plan.unsupported);
    if (plan.sets.empty()) return std::nullopt;
    if (calls_.has_sockets() || flows_.under_test()) {
      return unsupported(e,
                         "changing sysctls while sockets exist (the stack has no runtime "
                         "reconfiguration)");
    }
    if (auto o = apply_command(cmd.command, e.line)) return o;
    rebuild_stack();
    return std::nullopt;
  }

  // packetdrill reads TCP_INFO from the socket under test when a %{ }%
  // block's time comes, and runs the block with its fields.
  std::optional<Outcome> run_code(const Event& e, const CodeSpec& code, const ResolvedTime& t) {
    if (auto o = reach(e, t, "code")) return o;
    auto sock = calls_.socket_of(flows_.under_test());
    if (!sock) return fail(e, "%{ }% block with no socket under test", "", "");
    auto info = host_->stack().tcp_info(*sock, host_->now());
    if (!info) return fail(e, "%{ }% block: the socket under test is gone", "", "");
    CodeOutcome r = run_tcpi_asserts(code.code, *info);
    switch (r.kind) {
      case CodeOutcome::Kind::Pass:
        return std::nullopt;
      case CodeOutcome::Kind::Fail:
        return fail(e, "assertion failed: " + r.what, "", "");
      case CodeOutcome::Kind::Unsupported:
        return unsupported(e, r.what);
    }
    return std::nullopt;
  }

  // --- The blocking call in flight -------------------------------------------------

  struct InFlight {
    const Event* event;
    ResolvedTime time;
  };

  void retry_in_flight() {
    if (!in_flight_ || failure_) return;
    CallStep s = calls_.retry();
    if (s.kind == CallStep::Kind::Blocked) return;
    InFlight f = *in_flight_;
    in_flight_.reset();
    if (auto o = call_outcome(*f.event, s)) {
      failure_ = o;
    } else if (auto late = check_return_time(*f.event, f.time)) {
      failure_ = late;
    }
  }

  std::optional<Outcome> finish_in_flight() {
    if (!in_flight_) return failure_;
    int64_t end = *in_flight_->time.syscall_end_usecs;
    Time limit = StackHost::from_usecs(end + tolerance_at(end)) + kLookAhead;
    while (in_flight_ && !failure_ && step(limit)) {
    }
    if (failure_) return failure_;
    if (in_flight_) {
      const Event& e = *in_flight_->event;
      return fail(
          e, "blocking call did not return by " + format_usecs(StackHost::to_usecs(limit)) + " s",
          "a return at " + format_usecs(end) + " s", "still blocked");
    }
    return std::nullopt;
  }

  // --- Time --------------------------------------------------------------------

  // To the next stack deadline (or the call in flight's), if it is at or
  // before `limit`: fires it and retries the call in flight.
  bool step(Time limit) {
    std::optional<Time> d = host_->next_deadline();
    if (auto cd = calls_.deadline(); cd && (!d || *cd < *d)) d = cd;
    if (!d || *d > limit) return false;
    Time t = std::max(*d, host_->now());
    if (t == last_step_) {
      // A deadline that polling does not clear would spin forever.
      if (++same_step_ > 100000) {
        failure_ = Outcome::fail("the stack keeps asking to be polled at " +
                                 format_usecs(StackHost::to_usecs(t)) + " s");
        return false;
      }
    } else {
      same_step_ = 0;
      last_step_ = t;
    }
    host_->poll_at(t);
    retry_in_flight();
    return !failure_;
  }

  void advance_to(Time target) {
    while (!failure_ && step(target)) {
    }
    host_->set_now(target);
    retry_in_flight();
  }

  Tolerance tolerance() const { return Tolerance{opt_.tolerance_usecs, opt_.tolerance_percent}; }
  long tolerance_at(int64_t expected) const {
    long tol = opt_.tolerance_usecs;
    if (last_event_us_) {
      auto dynamic =
          static_cast<long>(opt_.tolerance_percent / 100.0 * double(expected - *last_event_us_));
      tol = std::max(tol, dynamic);
    }
    return tol;
  }

  // --- Outcomes ----------------------------------------------------------------

  Outcome fail(const Event& e, std::string reason, std::string expected, std::string actual) {
    Outcome o = Outcome::fail(std::move(reason));
    o.line = e.line;
    o.line_text = s_.line_text(e.line) + (e.last_line > e.line ? " …" : "");
    o.expected = std::move(expected);
    o.actual = std::move(actual);
    o.at_usecs = host_ ? host_->now_usecs() : 0;
    return o;
  }

  Outcome unsupported(const Event& e, std::string what) {
    Outcome o = Outcome::unsupported(std::move(what));
    o.line = e.line;
    o.line_text = s_.line_text(e.line);
    return o;
  }

  void trace(const std::string& line) {
    if (trace_) *trace_ << line << "\n";
  }

  const Script& s_;
  RunOptions opt_;
  std::ostream* trace_;
  config::Config config_;
  std::unique_ptr<StackHost> host_;
  FlowTable flows_;
  SyscallRunner calls_;
  std::optional<InFlight> in_flight_;
  std::optional<Outcome> failure_;  // a call in flight failed while something else ran
  std::optional<int64_t> last_event_us_;
  bool last_absolute_ = false;
  bool last_inbound_ = false;
  uint16_t next_remote_port_ = 40000;
  Time last_step_{};
  int same_step_ = 0;
};

}  // namespace

Outcome run_script(const Script& script, const std::vector<CliOption>& cli, std::ostream* trace) {
  RunOptions opt;
  // Options in the script first, then the command line's, which win.
  for (const OptionLine& o : script.options) {
    std::string err = apply_option(opt, o.name, o.value);
    if (err.empty()) continue;
    Outcome out = err.rfind("unsupported: ", 0) == 0 ? Outcome::unsupported(err.substr(13))
                                                     : Outcome::fail(err);
    out.line = o.line;
    out.line_text = script.line_text(o.line);
    return out;
  }
  for (const CliOption& o : cli) {
    std::string err = apply_option(opt, o.name, o.value);
    if (!err.empty()) return Outcome::fail("command line: " + err);
  }
  if (opt.verbose && !trace) trace = &std::clog;
  return Executor(script, opt, trace).run();
}

Outcome run_file(const std::string& path, const std::vector<CliOption>& cli, std::ostream* trace) {
  std::ifstream in(path);
  if (!in) return Outcome::fail("cannot read the script");
  std::stringstream text;
  text << in.rdbuf();
  ParseError err;
  auto script = parse_script(text.str(), path, &err);
  if (!script) {
    Outcome o = Outcome::fail("parse error: " + err.message);
    o.line = err.line;
    std::string source = text.str();
    size_t start = 0;
    for (int n = 1; start <= source.size(); ++n) {
      size_t nl = source.find('\n', start);
      if (nl == std::string::npos) nl = source.size();
      if (n == err.line) o.line_text = source.substr(start, nl - start);
      start = nl + 1;
    }
    return o;
  }
  return run_script(*script, cli, trace);
}

}  // namespace veer::drill
