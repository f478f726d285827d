#include "tools/drill/parser.h"

#include <cmath>
#include <stdexcept>

#include "core/wire/tcp.h"
#include "tools/drill/lexer.h"

namespace veer::drill {
namespace {

// Thrown inside the parser only, caught by parse_script().
struct SyntaxError {
  int line;
  std::string message;
};
// Known syntax the runner does not implement: skip the event, report it.
struct NotImplemented {
  std::string what;
};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& toks) : t_(toks) {}

  void script(Script* out) {
    while (peek().kind == Tok::Option) out->options.push_back(option());
    if (peek().kind == Tok::BackQuoted) {
      out->init_line = peek().line;
      out->init_command = CommandSpec{next().text};
    }
    while (peek().kind != Tok::End) {
      if (peek().kind == Tok::BackQuoted) {
        // A command without a time is the cleanup command, and the last thing.
        out->cleanup_line = peek().line;
        out->cleanup_command = CommandSpec{next().text};
        if (peek().kind != Tok::End) error(peek().line, "only the last command may omit its time");
        break;
      }
      if (peek().kind == Tok::Option) error(peek().line, "options must come before the events");
      out->events.push_back(event());
    }
  }

 private:
  const Token& peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, t_.size() - 1);
    return t_[i];
  }
  const Token& next() {
    const Token& t = t_[pos_];
    if (pos_ + 1 < t_.size()) ++pos_;
    last_line_ = t.line;
    return t;
  }
  [[noreturn]] void error(int line, std::string message) { throw SyntaxError{line, message}; }
  [[noreturn]] void error_here(const std::string& expected) {
    const Token& t = peek();
    std::string got = t.kind == Tok::End ? "end of script" : "'" + t.text + "'";
    error(t.line, "expected " + expected + ", found " + got);
  }
  void expect(char c) {
    if (!peek().is(c)) error_here(std::string("'") + c + "'");
    next();
  }
  int64_t integer(const char* what) {
    if (peek().kind != Tok::Integer && peek().kind != Tok::Hex) error_here(what);
    return next().value;
  }
  uint32_t u32(const char* what) {
    int64_t v = integer(what);
    if (v < 0 || v > 0xffffffffLL) error(last_line_, std::string(what) + " out of range");
    return static_cast<uint32_t>(v);
  }
  uint16_t u16(const char* what) {
    int64_t v = integer(what);
    if (v < 0 || v > 0xffff) error(last_line_, std::string(what) + " out of range");
    return static_cast<uint16_t>(v);
  }

  OptionLine option() {
    OptionLine o;
    o.line = peek().line;
    o.name = next().text;
    if (peek().is('=')) {
      next();
      const Token& v = peek();
      if (v.kind == Tok::End || v.kind == Tok::Option) error_here("an option value");
      std::string value = next().text;
      // --define=NAME=value
      if (peek().is('=') && peek(1).kind != Tok::End) {
        next();
        value += "=" + next().text;
      }
      o.value = value;
    }
    return o;
  }

  // Seconds (integer or fraction) as microseconds.
  int64_t time() {
    const Token& t = peek();
    if (t.kind == Tok::Integer) {
      if (t.value < 0) error(t.line, "negative time");
      return next().value * 1000000;
    }
    if (t.kind == Tok::Float) {
      if (t.real < 0) error(t.line, "negative time");
      return std::llround(next().real * 1e6);
    }
    error_here("a time");
  }

  EventTime event_time() {
    EventTime et;
    if (peek().is('*')) {
      next();
      et.type = EventTime::Type::Any;
      return et;
    }
    bool relative = peek().is('+');
    if (relative) next();
    et.usecs = time();
    et.type = relative ? EventTime::Type::Relative : EventTime::Type::Absolute;
    if (peek().is('~')) {
      next();
      if (relative) expect('+');
      et.end_usecs = time();
      et.type = relative ? EventTime::Type::RelativeRange : EventTime::Type::AbsoluteRange;
      if (et.end_usecs < et.usecs) error(last_line_, "time range is backwards");
    }
    return et;
  }

  Event event() {
    Event e;
    e.line = peek().line;
    if (peek().kind != Tok::Integer && peek().kind != Tok::Float && !peek().is('+') &&
        !peek().is('*'))
      error_here("an event time");
    e.time = event_time();
    size_t start = pos_;
    try {
      e.action = action();
    } catch (const NotImplemented& n) {
      // Skip the rest of the event's line and go on: the executor reports it
      // when it gets there.
      pos_ = start;
      while (peek().kind != Tok::End && peek().line == e.line) next();
      e.action = UnsupportedSpec{n.what};
    }
    e.last_line = std::max(e.line, last_line_);
    bool timed_range = e.time.range() || e.time.type == EventTime::Type::Any;
    auto* pkt = std::get_if<PacketSpec>(&e.action);
    if (timed_range && !(pkt && !pkt->inbound) &&
        !std::holds_alternative<UnsupportedSpec>(e.action))
      error(e.line, "time ranges and * can only be used with outbound packets");
    return e;
  }

  decltype(Event::action) action() {
    const Token& t = peek();
    if (t.is('<') || t.is('>')) return packet();
    if (t.kind == Tok::BackQuoted) return CommandSpec{next().text};
    if (t.kind == Tok::Code) return CodeSpec{next().text};
    if (t.kind == Tok::Ellipsis || (t.kind == Tok::Word && peek(1).is('('))) return syscall();
    error_here("a packet, system call, command or code");
  }

  // --- Packets ------------------------------------------------------------------

  PacketSpec packet() {
    PacketSpec p;
    p.inbound = next().is('<');
    const Token& t = peek();
    if (t.is('(') || t.is('[')) throw NotImplemented{"IP TOS/ECN/TTL packet attributes"};
    for (const char* w : {"udp", "icmp", "ipv4", "ipv6", "gre", "GREv0", "mpls"})
      if (t.is_word(w)) throw NotImplemented{std::string(w) + " packets"};
    if (t.kind == Tok::Integer && peek(1).is('>')) {
      // packetdrill's opt_port_info: `src>dst` before the flags.
      PacketSpec::Ports ports;
      ports.src = u16("source port");
      expect('>');
      ports.dst = u16("destination port");
      p.ports = ports;
    }
    p.flags = flags();
    // seq: start:end(len)
    p.seq = u32("start sequence number");
    expect(':');
    p.end_seq = u32("end sequence number");
    expect('(');
    p.payload = u16("payload length");
    expect(')');
    if (p.end_seq != p.seq + p.payload)
      error(last_line_, "inconsistent TCP sequence numbers and payload size");
    if (peek().is_word("ack")) {
      next();
      p.ack = u32("ack number");
    }
    if (peek().is_word("win")) {
      next();
      p.window = u16("window");
    }
    if (peek().is_word("urg")) {
      next();
      p.urg = u16("urgent pointer");
    }
    if (peek().is('<')) {
      p.options = options(p.inbound);
    } else {
      p.options.emplace();  // none at all
    }
    if (peek().is('{')) throw NotImplemented{"packet fuzzing"};
    if (p.inbound && !p.window) error(last_line_, "window must be specified for inbound packets");
    return p;
  }

  uint8_t flags() {
    using namespace wire::tcpflag;
    if (peek().is('.')) {
      next();
      return kAck;
    }
    if (peek().is('-')) {
      next();
      return 0;
    }
    if (peek().kind != Tok::Word) error_here("TCP flags");
    const Token& w = next();
    uint8_t f = 0;
    for (char c : w.text) {
      switch (c) {
        case 'F':
          f |= kFin;
          break;
        case 'S':
          f |= kSyn;
          break;
        case 'R':
          f |= kRst;
          break;
        case 'P':
          f |= kPsh;
          break;
        case 'U':
          f |= kUrg;
          break;
        case 'E':
          f |= kEce;
          break;
        case 'W':
          f |= kCwr;
          break;
        case 'A':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
          throw NotImplemented{"AccECN flags"};
        default:
          error(w.line, std::string("invalid TCP flag '") + c + "'");
      }
    }
    if (peek().is('.')) {
      next();
      f |= kAck;
    }
    return f;
  }

  std::optional<std::vector<TcpOptionSpec>> options(bool inbound) {
    expect('<');
    if (peek().kind == Tok::Ellipsis) {
      next();
      expect('>');
      if (inbound)
        error(last_line_, "<...> for TCP options can only be used with outbound packets");
      return std::nullopt;
    }
    std::vector<TcpOptionSpec> list;
    for (;;) {
      list.push_back(tcp_option());
      if (peek().is(',')) {
        next();
        continue;
      }
      expect('>');
      return list;
    }
  }

  TcpOptionSpec tcp_option() {
    using K = TcpOptionSpec::Kind;
    TcpOptionSpec o;
    if (peek().kind != Tok::Word) error_here("a TCP option");
    const Token& w = next();
    if (w.text == "nop") {
      o.kind = K::Nop;
    } else if (w.text == "eol") {
      o.kind = K::Eol;
    } else if (w.text == "mss") {
      o.kind = K::Mss;
      o.value = u16("mss value");
    } else if (w.text == "wscale") {
      o.kind = K::WindowScale;
      int64_t v = integer("window scale");
      if (v < 0 || v > 255) error(last_line_, "window scale shift count out of range");
      o.value = static_cast<uint32_t>(v);
    } else if (w.text == "sackOK") {
      o.kind = K::SackPermitted;
    } else if (w.text == "sack") {
      o.kind = K::Sack;
      do {
        uint32_t left = u32("SACK left edge");
        expect(':');
        o.blocks.emplace_back(left, u32("SACK right edge"));
      } while (peek().kind == Tok::Integer);
    } else if (w.text == "TS") {
      o.kind = K::Timestamp;
      if (!peek().is_word("val")) error_here("'val'");
      next();
      o.value = u32("TS val");
      if (!peek().is_word("ecr")) error_here("'ecr'");
      next();
      o.ecr = u32("TS ecr");
    } else if (w.text == "md5" || w.text == "FO" || w.text == "FOEXP") {
      throw NotImplemented{"TCP option " + w.text};
    } else {
      error(w.line, "unknown TCP option '" + w.text + "'");
    }
    return o;
  }

  // --- System calls -------------------------------------------------------------

  SyscallSpec syscall() {
    SyscallSpec s;
    if (peek().kind == Tok::Ellipsis) {
      next();
      s.end_usecs = time();
    }
    if (peek().kind != Tok::Word) error_here("a system call name");
    s.name = next().text;
    expect('(');
    if (!peek().is(')')) {
      for (;;) {
        s.args.push_back(expr());
        if (!peek().is(',')) break;
        next();
      }
    }
    expect(')');
    expect('=');
    s.result = expr();
    if (peek().kind == Tok::Word) {
      s.errno_name = next().text;
      if (!peek().is('(')) error_here("'(' and the error's text after " + s.errno_name);
    }
    if (peek().is('(')) s.note = note();
    return s;
  }

  // ( words … ): strace's comment after a result.
  std::string note() {
    expect('(');
    std::string text;
    int depth = 1;
    while (peek().kind != Tok::End) {
      if (peek().is('(')) ++depth;
      if (peek().is(')') && --depth == 0) break;
      if (!text.empty()) text += ' ';
      text += next().text;
    }
    expect(')');
    return text;
  }

  Expr expr() {
    Expr lhs = unary();
    while (peek().is('|')) {
      next();
      Expr o;
      o.kind = Expr::Kind::Or;
      o.items.push_back(std::move(lhs));
      o.items.push_back(unary());
      lhs = std::move(o);
    }
    return lhs;
  }

  Expr unary() {
    Expr e;
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Ellipsis:
        next();
        e.kind = Expr::Kind::Ellipsis;
        return e;
      case Tok::Integer:
      case Tok::Hex:
        e.kind = Expr::Kind::Int;
        e.num = next().value;
        return e;
      case Tok::String:
        e.kind = Expr::Kind::String;
        while (peek().kind == Tok::String) e.text += next().text;  // "a" "b" concatenates
        if (peek().kind == Tok::Ellipsis) next();                  // "abc"...: a prefix
        return e;
      case Tok::Word:
        e.text = next().text;
        if (peek().is('(')) {
          e.kind = Expr::Kind::Call;
          next();
          if (!peek().is(')')) {
            for (;;) {
              e.items.push_back(expr());
              if (!peek().is(',')) break;
              next();
            }
          }
          expect(')');
        } else {
          e.kind = Expr::Kind::Word;
        }
        return e;
      default:
        break;
    }
    if (t.is('[')) return group('[', ']', Expr::Kind::List);
    if (t.is('{')) return group('{', '}', Expr::Kind::Struct);
    error_here("an expression");
  }

  // [a, b] or {name=value, …}; items may be named (name= or name(arg)=).
  Expr group(char open, char close, Expr::Kind kind) {
    Expr g;
    g.kind = kind;
    expect(open);
    while (!peek().is(close)) {
      std::string name;
      std::shared_ptr<Expr> name_arg;
      if (peek().kind == Tok::Word && peek(1).is('=')) {
        name = next().text;
        next();
      }
      Expr item = expr();
      if (name.empty() && item.kind == Expr::Kind::Call && peek().is('=')) {
        // msg_iov(1)=[...]: a field name with an argument.
        name = item.text;
        if (!item.items.empty()) name_arg = std::make_shared<Expr>(item.items[0]);
        next();
        item = expr();
      }
      g.items.push_back(std::move(item));
      g.names.push_back(name);
      g.name_args.push_back(name_arg);
      if (!peek().is(',')) break;
      next();
    }
    expect(close);
    return g;
  }

  const std::vector<Token>& t_;
  size_t pos_ = 0;
  int last_line_ = 1;
};

}  // namespace

std::string Script::line_text(int line) const {
  if (line < 1 || static_cast<size_t>(line) > lines.size()) return "";
  const std::string& l = lines[static_cast<size_t>(line) - 1];
  size_t b = l.find_first_not_of(" \t");
  size_t e = l.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : l.substr(b, e - b + 1);
}

std::optional<Script> parse_script(std::string_view source, const std::string& path,
                                   ParseError* error) {
  Script s;
  s.path = path;
  size_t start = 0;
  while (start <= source.size()) {
    size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) nl = source.size();
    s.lines.emplace_back(source.substr(start, nl - start));
    start = nl + 1;
  }
  std::vector<Token> toks;
  LexError lex_error;
  if (!lex(source, &toks, &lex_error)) {
    *error = ParseError{lex_error.line, lex_error.message};
    return std::nullopt;
  }
  try {
    Parser(toks).script(&s);
  } catch (const SyntaxError& e) {
    *error = ParseError{e.line, e.message};
    return std::nullopt;
  }
  return s;
}

}  // namespace veer::drill
