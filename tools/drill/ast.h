// A parsed packetdrill script: options, the init and cleanup commands, and
// the events with their times (after packetdrill's parser.y and script.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace veer::drill {

// --- Expressions (syscall arguments and results) ------------------------------

struct Expr {
  enum class Kind : uint8_t {
    Ellipsis,  // ...
    Int,       // 42, 0x2, -1
    Word,      // SOL_SOCKET, O_RDWR
    String,    // "text"
    List,      // [a, b] (a pointer to a value in packetdrill: [1], [4])
    Struct,    // {a, b} or {name=value, …}: sockaddr, linger, pollfd, iovec, msghdr
    Or,        // a | b
    Call,      // htons(8080), inet_addr("192.0.2.1")
  };
  Kind kind = Kind::Int;
  int64_t num = 0;
  std::string text;  // Word, String, Call (function name)
  // List, Struct and Call elements; Or: two operands.
  std::vector<Expr> items;
  // Struct fields: the name before '=' (empty when positional), and the
  // argument of a name like msg_iov(1)= (nullptr when none).
  std::vector<std::string> names;
  std::vector<std::shared_ptr<Expr>> name_args;

  // The field called `name` of a Struct, if any.
  const Expr* field(const std::string& name) const {
    for (size_t i = 0; i < names.size() && i < items.size(); ++i)
      if (names[i] == name) return &items[i];
    return nullptr;
  }
};

// --- Times ------------------------------------------------------------------------

struct EventTime {
  enum class Type : uint8_t { Absolute, Relative, AbsoluteRange, RelativeRange, Any };
  Type type = Type::Absolute;
  int64_t usecs = 0;      // start (or the only time)
  int64_t end_usecs = 0;  // ranges: the end
  bool relative() const { return type == Type::Relative || type == Type::RelativeRange; }
  bool range() const { return type == Type::AbsoluteRange || type == Type::RelativeRange; }
};

// --- Packets --------------------------------------------------------------------

struct TcpOptionSpec {
  // Other: an option the script language has no word for (seen on the wire).
  enum class Kind : uint8_t { Eol, Nop, Mss, WindowScale, SackPermitted, Sack, Timestamp, Other };
  Kind kind = Kind::Nop;
  uint32_t value = 0;  // Mss, WindowScale; Timestamp: TSval; Other: the option kind
  uint32_t ecr = 0;    // Timestamp: TSecr
  std::vector<std::pair<uint32_t, uint32_t>> blocks;  // Sack: left:right
  std::vector<uint8_t> raw;                           // Other: the option's data bytes
  bool operator==(const TcpOptionSpec&) const = default;
};

struct PacketSpec {
  bool inbound = true;  // '<' from the remote peer; '>' sent by the stack under test
  uint8_t flags = 0;    // TCP flag bits (wire/tcp.h values)
  uint32_t seq = 0;
  uint32_t end_seq = 0;
  uint16_t payload = 0;
  uint32_t ack = 0;
  std::optional<uint16_t> window;  // outbound: nullopt = not checked
  uint16_t urg = 0;
  // nullopt: `<...>`, any options (outbound only). Empty: no options at all.
  std::optional<std::vector<TcpOptionSpec>> options;
  // `< 50001>8080 S ...`: the source and destination ports as written (live
  // ports). Absent: the packet belongs to the socket under test.
  struct Ports {
    uint16_t src = 0;
    uint16_t dst = 0;
    bool operator==(const Ports&) const = default;
  };
  std::optional<Ports> ports;
};

// --- Other actions -----------------------------------------------------------------

struct SyscallSpec {
  std::string name;
  std::vector<Expr> args;
  std::optional<int64_t> end_usecs;  // `...T`: a blocking call expected to return at T
  Expr result;
  std::string errno_name;  // "EINPROGRESS", or empty
  std::string note;        // the text in parentheses after the result
};

struct CommandSpec {
  std::string command;  // the text between backquotes
};

struct CodeSpec {
  std::string code;  // the text between %{ and }%
};

// Syntax the parser knows but the runner does not implement (UDP, ICMP,
// explicit IP headers, ECN, TCP Fast Open …). Running into it makes the
// script UNSUPPORTED at that point.
struct UnsupportedSpec {
  std::string what;
};

struct Event {
  int line = 0;       // where the event starts (its time)
  int last_line = 0;  // where it ends (poll() may span lines)
  EventTime time;
  std::variant<PacketSpec, SyscallSpec, CommandSpec, CodeSpec, UnsupportedSpec> action;
};

struct OptionLine {
  int line = 0;
  std::string name;                  // without the leading --
  std::optional<std::string> value;  // --name=value
};

struct Script {
  std::string path;
  std::vector<std::string> lines;  // the source, for messages
  std::vector<OptionLine> options;
  std::optional<CommandSpec> init_command;
  int init_line = 0;
  std::vector<Event> events;
  std::optional<CommandSpec> cleanup_command;
  int cleanup_line = 0;

  // The source line `line` (1-based), trimmed; empty when out of range.
  std::string line_text(int line) const;
};

}  // namespace veer::drill
