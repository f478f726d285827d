#include "core/config/suggest.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/config/registry.h"

namespace veer::config {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view last_component(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// Whether `longer` is `shorter` with words in front: "tcp_syn_retries" and
// "syn_retries", "NET_CORE_SOMAXCONN" and "SOMAXCONN".
bool ends_with_words(std::string_view longer, std::string_view shorter) {
  return longer.size() > shorter.size() && longer.ends_with(shorter) &&
         longer[longer.size() - shorter.size() - 1] == '_';
}

// Keeps the closest candidate seen so far; the first wins a tie, so the
// table's order decides. A misspelling may be one edit per five characters
// of the shorter word, at least one: "gatway" and "net.ipv4.tcp_syn_retry"
// count, "FOO" for "LOG" does not.
class Closest {
 public:
  explicit Closest(std::string_view word) : word_(word) {}
  void consider(std::string_view spelled, std::string_view meant) {
    size_t allowed = std::max<size_t>(1, std::min(word_.size(), spelled.size()) / 5);
    size_t d = edit_distance(word_, spelled);
    if (d <= allowed && d < best_) {
      best_ = d;
      found_ = std::string(meant);
    }
  }
  std::optional<std::string> result() const { return found_; }

 private:
  std::string_view word_;
  size_t best_ = SIZE_MAX;
  std::optional<std::string> found_;
};

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table: i-2, i-1, i.
  std::vector<size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> suggest_key(std::string_view key) {
  // Linux's short form, the right name under the wrong directory, or the
  // name missing its first words.
  std::string_view tail = last_component(key);
  for (const Knob& k : knobs()) {
    if (k.sysctl && last_component(k.name) == tail) return std::string(k.name);
  }
  for (const Knob& k : knobs()) {
    if (ends_with_words(last_component(k.name), tail)) return std::string(k.name);
  }
  Closest closest(key);
  for (const Knob& k : knobs()) {
    closest.consider(k.name, k.name);
    if (k.sysctl) closest.consider(last_component(k.name), k.name);
  }
  return closest.result();
}

std::optional<std::string> suggest_env(std::string_view var) {
  std::vector<std::string> names;
  for (const Knob& k : knobs()) names.push_back(env_name(k));
  for (std::string_view reserved : kReservedEnv) names.emplace_back(reserved);

  // VEER_NET_IPV4_TCP_SYN_RETRIES (the sysctl path spelled out) or
  // VEER_SYN_RETRIES (words missing). The most specific match wins.
  constexpr size_t kPrefix = 5;  // "VEER_"
  std::string_view own = var.starts_with("VEER_") ? var.substr(kPrefix) : var;
  const std::string* best = nullptr;
  for (const std::string& name : names) {
    std::string_view candidate = std::string_view(name).substr(kPrefix);
    if ((ends_with_words(own, candidate) || ends_with_words(candidate, own)) &&
        (!best || name.size() > best->size())) {
      best = &name;
    }
  }
  if (best) return *best;

  Closest closest(var);
  for (const std::string& name : names) closest.consider(name, name);
  return closest.result();
}

}  // namespace veer::config
