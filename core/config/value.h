// Checking one knob's value against its kind and range. Pure: text in, a
// canonical value or the reason for refusing it out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/registry.h"

namespace veer::config {

struct CheckedValue {
  // The value as veer stores and prints it: surrounding whitespace removed,
  // lists separated by one space, addresses in dotted/colon form.
  std::string canonical;
  // Why the value is refused, ending in "(accepted: ...)"; empty optional if
  // the value is good.
  std::optional<std::string> problem;
};

// Lists (IntTriple, PortRange) may separate their numbers with whitespace, as
// /proc/sys and sysctl.conf do, or with commas, which needs no quoting inside
// VEER_SYSCTL: "net.ipv4.ip_local_port_range=40000,40100".
CheckedValue check_value(const Knob& knob, std::string_view value);

// The whitespace- or comma-separated words of `text`.
std::vector<std::string_view> split_list(std::string_view text);

// A decimal integer spanning all of `text` ("-3", "42"); no sign '+', no
// spaces, no hex.
std::optional<int64_t> parse_int(std::string_view text);

// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

}  // namespace veer::config
