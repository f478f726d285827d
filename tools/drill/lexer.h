// Tokens of the packetdrill script language (after packetdrill's lexer.l:
// free-form, whitespace and newlines separate tokens, // and /* */ comments).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace veer::drill {

enum class Tok : uint8_t {
  Integer,     // 42, -1 (a minus sign glued to the digits)
  Hex,         // 0x2
  Float,       // 0.100, .1 (a dot followed by digits)
  Ipv4,        // 192.168.0.1 (option values)
  Word,        // S, socket, SOL_SOCKET, ack …
  Option,      // --tolerance_usecs (text without the dashes)
  String,      // "text" (text without the quotes)
  BackQuoted,  // `command` (text without the backquotes)
  Code,        // %{ python }% (text without the delimiters, trimmed)
  Ellipsis,    // ...
  Punct,       // one character: < > . , ( ) [ ] { } = | + * ~ : - ; and others
  End,
};

struct Token {
  Tok kind = Tok::End;
  std::string text;   // as described per kind above
  int64_t value = 0;  // Integer and Hex
  double real = 0;    // Float
  int line = 0;       // 1-based line of the token's first character
  bool is(char c) const { return kind == Tok::Punct && text.size() == 1 && text[0] == c; }
  bool is_word(std::string_view w) const { return kind == Tok::Word && text == w; }
};

struct LexError {
  int line = 0;
  std::string message;
};

// Splits a whole script into tokens, ending with one End token. Returns
// false and fills *error on an unterminated string, comment or code block.
bool lex(std::string_view source, std::vector<Token>* out, LexError* error);

}  // namespace veer::drill
