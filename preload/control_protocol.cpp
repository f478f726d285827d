#include "preload/control_protocol.h"

#include "core/config/registry.h"

namespace veer::preload {
namespace {

// The next line of `text` (without its newline), advancing `text`.
std::string_view next_line(std::string_view& text) {
  size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
  return line;
}

// Shown in errors about a peer's text: short, and printable.
std::string shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 40) out += "...";
  return out;
}

// The header line; false, with `*error`, for another protocol or version.
bool take_header(std::string_view& text, std::string* error) {
  if (text.find('\0') != std::string_view::npos) {
    *error = "the message holds a NUL byte";
    return false;
  }
  std::string_view header = next_line(text);
  if (header == kControlHeader) return true;
  if (header.starts_with("veer-control ")) {
    *error = "the peer speaks " + shown(header) + ", this veer speaks " +
             std::string(kControlHeader) + " (mixed veer versions?)";
  } else {
    *error = "not a veer control message (starts with '" + shown(header) + "')";
  }
  return false;
}

}  // namespace

std::string control_socket_path(int pid) {
  return "/dev/shm/veer." + std::to_string(pid) + std::string(kControlSuffix);
}

std::optional<Assignment> split_assignment(std::string_view text, std::string* error) {
  if (text.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos) {
    *error = "'" + shown(text) + "' holds a newline or NUL";
    return std::nullopt;
  }
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    *error = "'" + std::string(text) + "' is not KEY=VALUE";
    return std::nullopt;
  }
  return Assignment{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::string encode_request(const ControlRequest& request) {
  std::string out = std::string(kControlHeader) + "\n";
  if (request.verb == ControlRequest::Verb::Show) return out + "show\n";
  out += "set\n";
  for (const auto& [key, value] : request.assignments) out += key + "=" + value + "\n";
  return out;
}

std::optional<ControlRequest> decode_request(std::string_view text, std::string* error) {
  if (!take_header(text, error)) return std::nullopt;
  std::string_view verb = next_line(text);
  ControlRequest request;
  if (verb == "show") {
    if (!text.empty()) {
      *error = "show takes nothing after it";
      return std::nullopt;
    }
    return request;
  }
  if (verb != "set") {
    *error = "unknown request '" + shown(verb) + "' (show, set)";
    return std::nullopt;
  }
  request.verb = ControlRequest::Verb::Set;
  while (!text.empty()) {
    auto assignment = split_assignment(next_line(text), error);
    if (!assignment) return std::nullopt;
    request.assignments.push_back(std::move(*assignment));
  }
  if (request.assignments.empty()) {
    *error = "set names no KEY=VALUE";
    return std::nullopt;
  }
  return request;
}

std::string encode_reply(const ControlReply& reply) {
  return std::string(kControlHeader) + "\n" + (reply.ok ? "ok\n" : "error\n") + reply.body;
}

std::optional<ControlReply> decode_reply(std::string_view text, std::string* error) {
  if (!take_header(text, error)) return std::nullopt;
  std::string_view status = next_line(text);
  if (status != "ok" && status != "error") {
    *error = "unknown reply status '" + shown(status) + "'";
    return std::nullopt;
  }
  return ControlReply{status == "ok", std::string(text)};
}

std::optional<config::ConfigError> apply_at_run_time(config::Config& config,
                                                     const std::vector<Assignment>& assignments) {
  config::Config next = config;
  for (const auto& [key, value] : assignments) {
    const config::Knob* knob = config::find_knob(key);
    if (knob && !config::settable_at_run_time(*knob)) {
      return config::ConfigError{key +
                                 " cannot change in a running process: it is fixed when the "
                                 "stack starts (set it with `veer run -s " +
                                 key + "=...` or in a config file)"};
    }
    if (auto err = next.set(key, value, config::Origin::at_run_time())) return err;
  }
  if (auto err = next.check_consistency()) return err;
  config = std::move(next);
  return std::nullopt;
}

std::string describe_knobs(const config::Config& config, const std::vector<std::string>& names) {
  std::string out;
  auto line = [&](std::string_view name) {
    out += std::string(name) + " = " + config.get_text(name) + "  # " +
           config.origin(name).describe() + "\n";
  };
  if (names.empty()) {
    for (const config::Knob& knob : config::knobs()) line(knob.name);
  } else {
    for (const std::string& name : names) {
      if (config::find_knob(name)) line(name);
    }
  }
  return out;
}

}  // namespace veer::preload
