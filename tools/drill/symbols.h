// Named constants a script may use (SOL_SOCKET, O_NONBLOCK, POLLOUT,
// EINPROGRESS …) with Linux's values, as packetdrill's symbols_linux.c
// provides them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace veer::drill {

// The value of a constant, if the runner knows it.
std::optional<long long> symbol_value(std::string_view name);
// The errno value behind "EINPROGRESS" and friends.
std::optional<int> errno_value(std::string_view name);
// "EINPROGRESS" for EINPROGRESS; "errno N" for values without a name.
std::string errno_name(int err);
// The socket option's name for messages ("SO_LINGER"), or "level L option N".
std::string sockopt_name(int level, int name);

}  // namespace veer::drill
