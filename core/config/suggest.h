// "Did you mean ...?" for unknown keys and variables. A typo in a knob name
// must not silently leave the default in place, and the refusal is more
// useful when it names the knob that was probably meant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace veer::config {

// The knob name `key` was probably meant as: a sysctl given by its last
// component ("tcp_syn_retries", "net.ipv6.tcp_syn_retries") or a name a few
// edits away ("net.ipv4.tcp_syn_retry").
std::optional<std::string> suggest_key(std::string_view key);

// The variable `var` was probably meant as, among the knobs' variables and
// the reserved ones: a sysctl spelled in full ("VEER_NET_IPV4_TCP_SYN_RETRIES")
// or a name a few edits away ("VEER_SYN_RETRIES").
std::optional<std::string> suggest_env(std::string_view var);

// Optimal string alignment distance: insertions, deletions, substitutions and
// swaps of adjacent characters each cost 1. Case-insensitive.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace veer::config
