#include "tools/drill/tcpi_assert.h"

#include <cctype>
#include <map>
#include <vector>

namespace veer::drill {
namespace {

struct Token {
  enum class Kind : uint8_t { Int, Name, Op, Open, Close, Comma, End };
  Kind kind = Kind::End;
  std::string text;
  long long value = 0;
};

// Splits one statement into tokens; false (with `why`) on anything else.
bool tokenize(std::string_view s, std::vector<Token>* out, std::string* why) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      Token t{Token::Kind::Int, std::string(s.substr(i, j - i)), 0};
      t.value = std::stoll(t.text);
      out->push_back(t);
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      out->push_back({Token::Kind::Name, std::string(s.substr(i, j - i)), 0});
      i = j;
    } else if (c == '(' || c == ')' || c == ',') {
      out->push_back({c == '('   ? Token::Kind::Open
                      : c == ')' ? Token::Kind::Close
                                 : Token::Kind::Comma,
                      std::string(1, c), 0});
      ++i;
    } else if (std::string_view("=!<>").find(c) != std::string_view::npos) {
      bool two = i + 1 < s.size() && s[i + 1] == '=';
      std::string op(s.substr(i, two ? 2 : 1));
      if (op == "=" || op == "!") {
        *why = "`" + op + "`";
        return false;
      }
      out->push_back({Token::Kind::Op, op, 0});
      i += op.size();
    } else {
      *why = std::string("`") + c + "`";
      return false;
    }
  }
  out->push_back({Token::Kind::End, "", 0});
  return true;
}

class Evaluator {
 public:
  Evaluator(const std::vector<Token>& tokens, const core::TcpInfo& info)
      : t_(tokens), info_(info) {}

  // The condition before any `, message`; false with `why` if unsupported.
  bool condition(long long* out, std::string* why) {
    if (!or_expr(out)) {
      *why = why_;
      return false;
    }
    if (peek().kind != Token::Kind::Comma && peek().kind != Token::Kind::End) {
      *why = "`" + peek().text + "`";
      return false;
    }
    return true;
  }
  const std::map<std::string, long long>& seen() const { return seen_; }

 private:
  const Token& peek() const { return t_[pos_]; }
  bool is_word(const char* w) const { return peek().kind == Token::Kind::Name && peek().text == w; }
  bool fail(std::string why) {
    why_ = std::move(why);
    return false;
  }

  bool or_expr(long long* out) {
    if (!and_expr(out)) return false;
    while (is_word("or")) {
      ++pos_;
      long long r = 0;
      if (!and_expr(&r)) return false;
      *out = (*out || r) ? 1 : 0;
    }
    return true;
  }
  bool and_expr(long long* out) {
    if (!not_expr(out)) return false;
    while (is_word("and")) {
      ++pos_;
      long long r = 0;
      if (!not_expr(&r)) return false;
      *out = (*out && r) ? 1 : 0;
    }
    return true;
  }
  bool not_expr(long long* out) {
    if (is_word("not")) {
      ++pos_;
      if (!not_expr(out)) return false;
      *out = *out ? 0 : 1;
      return true;
    }
    return comparison(out);
  }
  // Python chains comparisons: a < b < c is a < b and b < c.
  bool comparison(long long* out) {
    long long left = 0;
    if (!term(&left)) return false;
    bool result = true, any = false;
    while (peek().kind == Token::Kind::Op) {
      std::string op = peek().text;
      ++pos_;
      long long right = 0;
      if (!term(&right)) return false;
      bool ok = op == "=="   ? left == right
                : op == "!=" ? left != right
                : op == "<"  ? left < right
                : op == "<=" ? left <= right
                : op == ">"  ? left > right
                             : left >= right;
      result = result && ok;
      any = true;
      left = right;
    }
    *out = any ? (result ? 1 : 0) : left;
    return true;
  }
  bool term(long long* out) {
    const Token& t = peek();
    if (t.kind == Token::Kind::Int) {
      *out = t.value;
      ++pos_;
      return true;
    }
    if (t.kind == Token::Kind::Open) {
      ++pos_;
      if (!or_expr(out)) return false;
      if (peek().kind != Token::Kind::Close) return fail("unbalanced parentheses");
      ++pos_;
      return true;
    }
    if (t.kind == Token::Kind::Name) {
      auto v = tcpi_field(info_, t.text);
      if (!v) {
        return fail(t.text.starts_with("tcpi_") ? t.text + " (veer does not report it)"
                                                : "`" + t.text + "`");
      }
      seen_[t.text] = *v;
      *out = *v;
      ++pos_;
      return true;
    }
    return fail(t.kind == Token::Kind::End ? "an incomplete expression" : "`" + t.text + "`");
  }

  const std::vector<Token>& t_;
  const core::TcpInfo& info_;
  size_t pos_ = 0;
  std::string why_;
  std::map<std::string, long long> seen_;
};

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::optional<long long> tcpi_field(const core::TcpInfo& i, std::string_view name) {
  const std::pair<std::string_view, long long> fields[] = {
      {"tcpi_state", i.state},
      {"tcpi_ca_state", i.ca_state},
      {"tcpi_retransmits", i.retransmits},
      {"tcpi_probes", i.probes},
      {"tcpi_backoff", i.backoff},
      {"tcpi_options", i.options},
      {"tcpi_snd_wscale", i.snd_wscale},
      {"tcpi_rcv_wscale", i.rcv_wscale},
      {"tcpi_rto", i.rto_us},
      {"tcpi_ato", i.ato_us},
      {"tcpi_snd_mss", i.snd_mss},
      {"tcpi_rcv_mss", i.rcv_mss},
      {"tcpi_unacked", i.unacked},
      {"tcpi_sacked", i.sacked},
      {"tcpi_lost", i.lost},
      {"tcpi_retrans", i.retrans},
      {"tcpi_last_data_sent", i.last_data_sent_ms},
      {"tcpi_last_data_recv", i.last_data_recv_ms},
      {"tcpi_last_ack_recv", i.last_ack_recv_ms},
      {"tcpi_pmtu", i.pmtu},
      {"tcpi_rcv_ssthresh", i.rcv_ssthresh},
      {"tcpi_rtt", i.rtt_us},
      {"tcpi_rttvar", i.rttvar_us},
      {"tcpi_snd_ssthresh", i.snd_ssthresh},
      {"tcpi_snd_cwnd", i.snd_cwnd},
      {"tcpi_advmss", i.advmss},
      {"tcpi_reordering", i.reordering},
      {"tcpi_rcv_space", i.rcv_space},
      {"tcpi_rcv_rtt", i.rcv_rtt_us},
      {"tcpi_total_retrans", i.total_retrans},
      {"tcpi_bytes_acked", static_cast<long long>(i.bytes_acked)},
      {"tcpi_bytes_received", static_cast<long long>(i.bytes_received)},
      {"tcpi_segs_out", i.segs_out},
      {"tcpi_segs_in", i.segs_in},
      {"tcpi_min_rtt", i.min_rtt_us},
      {"tcpi_snd_wnd", i.snd_wnd},
      {"tcpi_rcv_wnd", i.rcv_wnd},
  };
  for (const auto& [n, v] : fields) {
    if (n == name) return v;
  }
  return std::nullopt;
}

CodeOutcome run_tcpi_asserts(std::string_view code, const core::TcpInfo& info) {
  std::string statement;
  std::vector<std::string> statements;
  for (char c : code) {
    if (c == '\n' || c == ';') {
      statements.push_back(trim(statement));
      statement.clear();
    } else {
      statement += c;
    }
  }
  statements.push_back(trim(statement));
  for (const std::string& s : statements) {
    if (s.empty() || s.starts_with("#")) continue;
    if (!s.starts_with("assert ") && !s.starts_with("assert(")) {
      return {CodeOutcome::Kind::Unsupported, "%{ }% Python statement `" + s + "`"};
    }
    // The condition ends at a comma outside parentheses and quotes: what
    // follows is the message Python would print, not evaluated here.
    std::string cond_text = s.substr(6);
    int depth = 0;
    char quote = 0;
    for (size_t k = 0; k < cond_text.size(); ++k) {
      char c = cond_text[k];
      if (quote) {
        if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      } else if (c == ',' && depth == 0) {
        cond_text.resize(k);
        break;
      }
    }
    std::vector<Token> tokens;
    std::string why;
    long long value = 0;
    if (!tokenize(cond_text, &tokens, &why)) {
      return {CodeOutcome::Kind::Unsupported,
              "%{ }% Python beyond assertions on tcpi_* (" + why + " in `" + s + "`)"};
    }
    Evaluator ev(tokens, info);
    if (!ev.condition(&value, &why)) {
      return {CodeOutcome::Kind::Unsupported,
              "%{ }% Python beyond assertions on tcpi_* (" + why + " in `" + s + "`)"};
    }
    if (!value) {
      std::string values;
      for (const auto& [name, v] : ev.seen()) {
        values += (values.empty() ? "" : ", ") + name + " = " + std::to_string(v);
      }
      return {CodeOutcome::Kind::Fail, "`" + s + "` failed: " + values};
    }
  }
  return {};
}

}  // namespace veer::drill
