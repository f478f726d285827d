// The packetdrill lexer: the tokens scripts are made of.
#include "tools/drill/lexer.h"

#include <gtest/gtest.h>

namespace veer::drill {
namespace {

std::vector<Token> lex_ok(std::string_view s) {
  std::vector<Token> t;
  LexError e;
  EXPECT_TRUE(lex(s, &t, &e)) << e.message;
  return t;
}

std::string kinds(const std::vector<Token>& toks) {
  std::string s;
  for (const Token& t : toks) {
    switch (t.kind) {
      case Tok::Integer:
        s += "I";
        break;
      case Tok::Hex:
        s += "H";
        break;
      case Tok::Float:
        s += "F";
        break;
      case Tok::Ipv4:
        s += "4";
        break;
      case Tok::Word:
        s += "W";
        break;
      case Tok::Option:
        s += "O";
        break;
      case Tok::String:
        s += "S";
        break;
      case Tok::BackQuoted:
        s += "B";
        break;
      case Tok::Code:
        s += "C";
        break;
      case Tok::Ellipsis:
        s += "E";
        break;
      case Tok::Punct:
        s += t.text;
        break;
      case Tok::End:
        s += "$";
        break;
    }
  }
  return s;
}

TEST(DrillLexer, RelativeAndRangedTimes) {
  EXPECT_EQ(kinds(lex_ok("+.1 +0 0.100 +.3~+.310 *")), "+F+IF+F~+F*$");
  auto t = lex_ok("+.3~+.310");
  EXPECT_DOUBLE_EQ(t[1].real, 0.3);
  EXPECT_DOUBLE_EQ(t[4].real, 0.31);
}

TEST(DrillLexer, BlockingTimeIsIntegerEllipsisFloat) {
  // "0...0.200": a fraction needs digits after its dot.
  EXPECT_EQ(kinds(lex_ok("+0...0.200 accept(")), "+IEFW($");
  EXPECT_EQ(kinds(lex_ok("0.100...0.200")), "FEF$");
}

TEST(DrillLexer, SequenceRangesFlagsAndNegativeNumbers) {
  EXPECT_EQ(kinds(lex_ok("> P. 1:1001(1000) ack 1")), ">W.I:I(I)WI$");
  EXPECT_EQ(kinds(lex_ok("< - 1:1001(1000) win 20000")), "<-I:I(I)WI$");
  auto t = lex_ok("= -1 EPIPE");
  EXPECT_EQ(t[1].kind, Tok::Integer);
  EXPECT_EQ(t[1].value, -1);
}

TEST(DrillLexer, OptionsAddressesHexAndWords) {
  auto t = lex_ok("--tolerance_usecs=405000\n--local_ip=192.168.0.1 0x2 O_RDWR|O_NONBLOCK");
  EXPECT_EQ(kinds(t), "O=IO=4HW|W$");
  EXPECT_EQ(t[0].text, "tolerance_usecs");
  EXPECT_EQ(t[5].text, "192.168.0.1");
  EXPECT_EQ(t[6].value, 2);
}

TEST(DrillLexer, CommandsCodeStringsAndComments) {
  auto t = lex_ok(
      "// comment\n/* block\ncomment */ `./defaults.sh\n./set_sysctls.py x=1\n` "
      "%{ assert tcpi_snd_cwnd == 10 }% \"abc\" inet_addr(\"1.2.3.4\")");
  EXPECT_EQ(kinds(t), "BCSW(S)$");
  EXPECT_EQ(t[0].text, "./defaults.sh\n./set_sysctls.py x=1\n");
  EXPECT_EQ(t[0].line, 3);
  EXPECT_EQ(t[1].text, "assert tcpi_snd_cwnd == 10");
  EXPECT_EQ(t[2].text, "abc");
}

TEST(DrillLexer, TracksLines) {
  auto t = lex_ok("0 socket\n\n+0 bind");
  EXPECT_EQ(t[0].line, 1);
  EXPECT_EQ(t[3].line, 3);
}

TEST(DrillLexer, UnterminatedThingsAreErrors) {
  std::vector<Token> t;
  LexError e;
  EXPECT_FALSE(lex("`sysctl -q", &t, &e));
  EXPECT_FALSE(lex("/* never closed", &t, &e));
  EXPECT_FALSE(lex("%{ print(1)", &t, &e));
  EXPECT_FALSE(lex("\"open", &t, &e));
}

}  // namespace
}  // namespace veer::drill
