#include "tools/drill/lexer.h"

#include <cctype>
#include <cstdlib>

namespace veer::drill {
namespace {

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}
bool is_digit(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) != 0;
}

class Lexer {
 public:
  Lexer(std::string_view s, std::vector<Token>* out) : s_(s), out_(out) {}

  bool run(LexError* error) {
    while (skip_space_and_comments(error)) {
      if (pos_ >= s_.size()) {
        push(Tok::End, "");
        return true;
      }
      if (!token(error)) return false;
    }
    return false;
  }

 private:
  char at(size_t i) const { return i < s_.size() ? s_[i] : '\0'; }

  void push(Tok kind, std::string text, int line = 0) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line ? line : line_;
    out_->push_back(std::move(t));
  }

  void advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < s_.size(); ++i, ++pos_) {
      if (s_[pos_] == '\n') ++line_;
    }
  }

  bool fail(LexError* error, int line, std::string message) {
    *error = LexError{line, std::move(message)};
    return false;
  }

  // False only on an unterminated /* comment.
  bool skip_space_and_comments(LexError* error) {
    for (;;) {
      char c = at(pos_);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance(1);
      } else if (c == '/' && at(pos_ + 1) == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') advance(1);
      } else if (c == '/' && at(pos_ + 1) == '*') {
        int start = line_;
        size_t end = s_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) return fail(error, start, "unterminated /* comment");
        advance(end + 2 - pos_);
      } else {
        return true;
      }
    }
  }

  // Text up to the closing delimiter; advances past it.
  bool delimited(std::string_view close, Tok kind, LexError* error, const char* what) {
    int start = line_;
    size_t open_len = kind == Tok::Code ? 2 : 1;
    size_t end = s_.find(close, pos_ + open_len);
    if (end == std::string_view::npos)
      return fail(error, start, std::string("unterminated ") + what);
    std::string text(s_.substr(pos_ + open_len, end - pos_ - open_len));
    if (kind == Tok::Code) {
      size_t b = text.find_first_not_of(" \t");
      size_t e = text.find_last_not_of(" \t");
      text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
    }
    advance(end + close.size() - pos_);
    push(kind, std::move(text), start);
    return true;
  }

  // Digits, maybe a fraction or a dotted quad. `neg` when a '-' precedes.
  void number(bool neg) {
    size_t start = pos_;
    if (neg) advance(1);
    if (at(pos_) == '0' && (at(pos_ + 1) == 'x' || at(pos_ + 1) == 'X') &&
        std::isxdigit(static_cast<unsigned char>(at(pos_ + 2)))) {
      size_t e = pos_ + 2;
      while (std::isxdigit(static_cast<unsigned char>(at(e)))) ++e;
      std::string text(s_.substr(start, e - start));
      advance(e - pos_);
      push(Tok::Hex, text);
      out_->back().value = static_cast<int64_t>(std::strtoull(text.c_str() + 2, nullptr, 16));
      return;
    }
    size_t e = pos_;
    while (is_digit(at(e))) ++e;
    // A dotted quad (option values such as --local_ip=192.168.0.1).
    size_t q = e;
    int dots = 0;
    while (dots < 3 && at(q) == '.' && is_digit(at(q + 1))) {
      ++q;
      while (is_digit(at(q))) ++q;
      ++dots;
    }
    if (dots == 3 && !neg) {
      std::string text(s_.substr(start, q - start));
      advance(q - pos_);
      push(Tok::Ipv4, text);
      return;
    }
    // A fraction needs digits after the dot, so "0...0.2" is 0, ..., 0.2.
    if (at(e) == '.' && is_digit(at(e + 1))) {
      ++e;
      while (is_digit(at(e))) ++e;
      std::string text(s_.substr(start, e - start));
      advance(e - pos_);
      push(Tok::Float, text);
      out_->back().real = std::strtod(text.c_str(), nullptr);
      return;
    }
    // Digits glued to letters make a word (flex's longest match).
    if (is_word_char(at(e)) && !neg) {
      while (is_word_char(at(e))) ++e;
      std::string text(s_.substr(start, e - start));
      advance(e - pos_);
      push(Tok::Word, text);
      return;
    }
    std::string text(s_.substr(start, e - start));
    advance(e - pos_);
    push(Tok::Integer, text);
    out_->back().value = std::strtoll(text.c_str(), nullptr, 10);
  }

  bool token(LexError* error) {
    char c = at(pos_);
    if (c == '"') return delimited("\"", Tok::String, error, "string");
    if (c == '`') return delimited("`", Tok::BackQuoted, error, "backquoted command");
    if (c == '%' && at(pos_ + 1) == '{') return delimited("}%", Tok::Code, error, "%{ code }%");
    if (c == '.' && at(pos_ + 1) == '.' && at(pos_ + 2) == '.') {
      advance(3);
      push(Tok::Ellipsis, "...");
      return true;
    }
    if (c == '-' && at(pos_ + 1) == '-' && is_word_char(at(pos_ + 2))) {
      size_t e = pos_ + 2;
      while (is_word_char(at(e))) ++e;
      std::string name(s_.substr(pos_ + 2, e - pos_ - 2));
      advance(e - pos_);
      push(Tok::Option, name);
      return true;
    }
    if (is_digit(c)) {
      number(false);
      return true;
    }
    if (c == '-' && is_digit(at(pos_ + 1))) {
      number(true);
      return true;
    }
    if (c == '.' && is_digit(at(pos_ + 1))) {
      size_t e = pos_ + 1;
      while (is_digit(at(e))) ++e;
      std::string text(s_.substr(pos_, e - pos_));
      advance(e - pos_);
      push(Tok::Float, text);
      out_->back().real = std::strtod(text.c_str(), nullptr);
      return true;
    }
    if (is_word_char(c)) {
      size_t e = pos_;
      while (is_word_char(at(e))) ++e;
      std::string text(s_.substr(pos_, e - pos_));
      advance(e - pos_);
      push(Tok::Word, text);
      return true;
    }
    push(Tok::Punct, std::string(1, c));
    advance(1);
    return true;
  }

  std::string_view s_;
  std::vector<Token>* out_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace

bool lex(std::string_view source, std::vector<Token>* out, LexError* error) {
  out->clear();
  return Lexer(source, out).run(error);
}

}  // namespace veer::drill
