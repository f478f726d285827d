// `veer ss` without the I/O: state names and filters, ss(8)'s timer format,
// and one socket's line (text or JSON), so the unit tests can check them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "preload/view_format.h"

namespace veer::tools {

// ss's name for a state in Linux's numbering (ESTAB, TIME-WAIT …).
std::string_view ss_state_name(uint8_t state);

// A bit per state (1 << Linux's number). nullopt for an unknown word.
// Accepts ss's words: established, syn-sent, syn-recv, fin-wait-1,
// fin-wait-2, time-wait, closed, close-wait, last-ack, listening, closing,
// and the groups all, connected, synchronized.
std::optional<uint32_t> ss_state_filter(std::string_view word);
// What ss shows without -a or -l: every state but LISTEN, CLOSE, TIME-WAIT
// and SYN-RECV.
uint32_t ss_default_states();
uint32_t ss_listening_states();

// ss's print_ms_timer(): 200ms, 1.200ms, 59sec, 2min3sec …
std::string ss_ms_timer(int64_t ms);

struct SsOptions {
  bool timers = false;   // -o
  bool info = false;     // -i
  bool process = false;  // -p
};

struct SsProcess {
  std::string_view name;
  int pid = 0;
};

// One socket as `ss -tan` prints it (plus -o, -p, -i parts), without the
// newline; `elapsed_ms` is how old the view is.
std::string ss_line(const preload::ViewSocket& s, const SsProcess& p, const SsOptions& o,
                    int64_t elapsed_ms);
// The same socket as one JSON object.
std::string ss_json(const preload::ViewSocket& s, const SsProcess& p, int64_t elapsed_ms);
std::string ss_header(const SsOptions& o);

// `s` inside a JSON string: quotes and backslashes escaped, control
// characters dropped.
std::string json_escape(std::string_view s);

}  // namespace veer::tools
