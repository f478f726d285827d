// Syscall arguments as values: integers from numbers, named constants and
// ORs of them; packetdrill's [N] for a pointer to an integer; iovec arrays.
#pragma once

#include <string>

#include "tools/drill/ast.h"

namespace veer::drill {

// An integer argument: a number, a named constant, an OR of them, htons(N).
bool eval_int(const Expr& e, long long* out, std::string* why);
// [N]: a pointer to an integer in packetdrill's notation.
bool eval_bracketed(const Expr& e, long long* out, std::string* why);
// The bytes [{..., 100}, {..., 200}] describe (readv/writev, msg_iov).
bool iov_total(const Expr& list, size_t* total, std::string* why);

}  // namespace veer::drill
