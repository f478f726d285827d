#include "tools/ss_format.h"

#include <array>
#include <cstdio>

#include "core/tcp/tcp_info.h"
#include "core/types.h"

namespace veer::tools {
namespace {

// Linux's numbering: 1 ESTABLISHED … 11 CLOSING.
constexpr std::array<std::string_view, 12> kNames = {
    "UNKNOWN",   "ESTAB",  "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
    "TIME-WAIT", "UNCONN", "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING"};
constexpr std::array<std::string_view, 12> kWords = {
    "",          "established", "syn-sent",   "syn-recv", "fin-wait-1", "fin-wait-2",
    "time-wait", "closed",      "close-wait", "last-ack", "listening",  "closing"};

constexpr uint32_t bit(int state) {
  return 1u << state;
}
constexpr uint32_t kAll = 0xffe;  // states 1..11

std::string endpoint(uint32_t addr, uint16_t port, bool wildcard_port) {
  std::string s = Ipv4Addr(addr).to_string() + ":";
  return s + (wildcard_port && port == 0 ? "*" : std::to_string(port));
}

std::string_view timer_name(uint8_t kind) {
  using K = core::TcpTimerView::Kind;
  switch (static_cast<K>(kind)) {
    case K::Retransmit:
      return "on";
    case K::Persist:
      return "persist";
    case K::Keepalive:
      return "keepalive";
    case K::TimeWait:
      return "timewait";
    case K::Off:
      break;
  }
  return "off";
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

std::string_view ss_state_name(uint8_t state) {
  return state < kNames.size() ? kNames[state] : kNames[0];
}

std::optional<uint32_t> ss_state_filter(std::string_view word) {
  for (size_t i = 1; i < kWords.size(); ++i)
    if (kWords[i] == word) return bit(static_cast<int>(i));
  if (word == "all") return kAll;
  if (word == "connected") return kAll & ~(bit(10) | bit(7));
  if (word == "synchronized") return kAll & ~(bit(10) | bit(7) | bit(2));
  return std::nullopt;
}

uint32_t ss_default_states() {
  return kAll & ~(bit(10) | bit(7) | bit(6) | bit(3));
}

uint32_t ss_listening_states() {
  return bit(10);
}

std::string ss_ms_timer(int64_t timeout) {
  if (timeout < 0) timeout = 0;
  int64_t secs = timeout / 1000;
  int64_t minutes = secs / 60;
  secs %= 60;
  int64_t msecs = timeout % 1000;
  std::string out;
  if (minutes) {
    msecs = 0;
    out += std::to_string(minutes) + "min";
    if (minutes > 9) secs = 0;
  }
  if (secs) {
    if (secs > 9) msecs = 0;
    out += std::to_string(secs) + (msecs ? "." : "sec");
  }
  if (msecs) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03lldms", static_cast<long long>(msecs));
    out += buf;
  }
  if (out.empty()) out = "0ms";
  return out;
}

std::string ss_header(const SsOptions& o) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-10s %6s %6s %22s %-22s%s", "State", "Recv-Q", "Send-Q",
                "Local Address:Port", "Peer Address:Port", o.process ? " Process" : "");
  return buf;
}

std::string ss_line(const preload::ViewSocket& s, const SsProcess& p, const SsOptions& o,
                    int64_t elapsed_ms) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%-10s %6u %6u %22s %-22s",
                std::string(ss_state_name(s.state)).c_str(), s.recv_q, s.send_q,
                endpoint(s.local_addr, s.local_port, true).c_str(),
                endpoint(s.remote_addr, s.remote_port, true).c_str());
  std::string line = buf;
  if (o.process && !s.orphan) {
    line += " users:((\"" + std::string(p.name) + "\",pid=" + std::to_string(p.pid);
    if (s.fd >= 0) line += ",fd=" + std::to_string(s.fd);
    line += "))";
  }
  if (o.timers && s.timer != 0) {
    line += " timer:(" + std::string(timer_name(s.timer)) + "," +
            ss_ms_timer(s.timer_ms - elapsed_ms) + "," + std::to_string(s.timer_count) + ")";
  }
  if (o.info && s.has_info) {
    std::string i = "\n\t";
    if (s.options & core::kTcpiOptTimestamps) i += " ts";
    if (s.options & core::kTcpiOptSack) i += " sack";
    if (s.options & core::kTcpiOptWscale)
      i += " wscale:" + std::to_string(s.snd_wscale) + "," + std::to_string(s.rcv_wscale);
    char m[220];
    std::snprintf(m, sizeof m, " rto:%u rtt:%.3f/%.3f mss:%u rcvmss:%u cwnd:%u", s.rto_us / 1000,
                  s.rtt_us / 1000.0, s.rttvar_us / 1000.0, s.snd_mss, s.rcv_mss, s.snd_cwnd);
    i += m;
    if (s.snd_ssthresh < 0x7fffffff) i += " ssthresh:" + std::to_string(s.snd_ssthresh);
    i += " bytes_acked:" + std::to_string(s.bytes_acked) +
         " bytes_received:" + std::to_string(s.bytes_received) +
         " retrans:" + std::to_string(s.retrans) + "/" + std::to_string(s.total_retrans);
    // As ss(8) prints them: each only when not zero.
    if (s.rcv_rtt_us) {
      std::snprintf(m, sizeof m, " rcv_rtt:%.3f", s.rcv_rtt_us / 1000.0);
      i += m;
    }
    if (s.rcv_space) i += " rcv_space:" + std::to_string(s.rcv_space);
    if (s.rcv_ssthresh) i += " rcv_ssthresh:" + std::to_string(s.rcv_ssthresh);
    if (s.snd_wnd) i += " snd_wnd:" + std::to_string(s.snd_wnd);
    line += i;
  }
  return line;
}

std::string ss_json(const preload::ViewSocket& s, const SsProcess& p, int64_t elapsed_ms) {
  std::string j = "{\"state\":\"" + std::string(ss_state_name(s.state)) + "\"";
  j += ",\"recv_q\":" + std::to_string(s.recv_q) + ",\"send_q\":" + std::to_string(s.send_q);
  j += ",\"local\":\"" + endpoint(s.local_addr, s.local_port, true) + "\"";
  j += ",\"peer\":\"" + endpoint(s.remote_addr, s.remote_port, true) + "\"";
  j += ",\"pid\":" + std::to_string(p.pid) + ",\"program\":\"" + json_escape(p.name) + "\"";
  j += ",\"fd\":" + std::to_string(s.fd) + ",\"orphan\":" + (s.orphan ? "true" : "false");
  if (s.timer != 0) {
    j += ",\"timer\":{\"name\":\"" + std::string(timer_name(s.timer)) +
         "\",\"ms\":" + std::to_string(std::max<int64_t>(0, s.timer_ms - elapsed_ms)) +
         ",\"count\":" + std::to_string(s.timer_count) + "}";
  }
  if (s.has_info) {
    j += ",\"info\":{\"rtt_us\":" + std::to_string(s.rtt_us) +
         ",\"rttvar_us\":" + std::to_string(s.rttvar_us) +
         ",\"rto_us\":" + std::to_string(s.rto_us) + ",\"mss\":" + std::to_string(s.snd_mss) +
         ",\"cwnd\":" + std::to_string(s.snd_cwnd) +
         ",\"ssthresh\":" + std::to_string(s.snd_ssthresh) +
         ",\"retrans\":" + std::to_string(s.total_retrans) +
         ",\"bytes_acked\":" + std::to_string(s.bytes_acked) +
         ",\"bytes_received\":" + std::to_string(s.bytes_received) +
         ",\"rcv_rtt_us\":" + std::to_string(s.rcv_rtt_us) +
         ",\"rcv_space\":" + std::to_string(s.rcv_space) +
         ",\"rcv_ssthresh\":" + std::to_string(s.rcv_ssthresh) +
         ",\"snd_wnd\":" + std::to_string(s.snd_wnd) + "}";
  }
  return j + "}";
}

}  // namespace veer::tools
