// The packetdrill grammar (packetdrill's parser.y, read for its facts),
// as a recursive-descent parser from tokens to a Script.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tools/drill/ast.h"

namespace veer::drill {

struct ParseError {
  int line = 0;
  std::string message;
};

// Parses a whole script. On a syntax error returns nullopt and fills *error.
// Syntax that packetdrill has and the runner does not implement becomes an
// UnsupportedSpec event rather than an error.
std::optional<Script> parse_script(std::string_view source, const std::string& path,
                                   ParseError* error);

}  // namespace veer::drill
