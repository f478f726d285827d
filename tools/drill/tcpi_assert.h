// packetdrill's %{ }% blocks run Python with the fields of the socket's
// struct tcp_info as variables (tcpi_snd_cwnd, tcpi_rtt …), read when the
// block's time comes. The public scripts use them only to assert; this
// evaluates that subset without Python: `assert <condition>[, <message>]`
// statements, one per line or separated by `;`, where a condition compares
// tcpi_* fields and integers (== != < <= > >=), possibly joined by `and`,
// `or` and `not` with parentheses. Anything else is reported as
// unsupported rather than skipped.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/tcp/tcp_info.h"

namespace veer::drill {

struct CodeOutcome {
  enum class Kind : uint8_t { Pass, Fail, Unsupported };
  Kind kind = Kind::Pass;
  std::string what;  // Fail: the assertion and the values; Unsupported: why
};

// The tcpi_* field of that name as Linux's struct tcp_info reports it.
std::optional<long long> tcpi_field(const core::TcpInfo& info, std::string_view name);

CodeOutcome run_tcpi_asserts(std::string_view code, const core::TcpInfo& info);

}  // namespace veer::drill
