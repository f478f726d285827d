#include "tools/drill/expr_eval.h"

#include "tools/drill/symbols.h"

namespace veer::drill {

bool eval_int(const Expr& e, long long* out, std::string* why) {
  switch (e.kind) {
    case Expr::Kind::Int:
      *out = e.num;
      return true;
    case Expr::Kind::Word:
      if (auto v = symbol_value(e.text)) {
        *out = *v;
        return true;
      }
      *why = "unknown symbol " + e.text;
      return false;
    case Expr::Kind::Or: {
      long long a = 0, b = 0;
      if (!eval_int(e.items[0], &a, why) || !eval_int(e.items[1], &b, why)) return false;
      *out = a | b;
      return true;
    }
    case Expr::Kind::Call:
      if (e.text == "htons" && e.items.size() == 1) return eval_int(e.items[0], out, why);
      *why = "unsupported expression " + e.text + "()";
      return false;
    default:
      *why = "expected an integer";
      return false;
  }
}

bool eval_bracketed(const Expr& e, long long* out, std::string* why) {
  if (e.kind != Expr::Kind::List || e.items.size() != 1) {
    *why = "expected [<integer>]";
    return false;
  }
  return eval_int(e.items[0], out, why);
}

bool iov_total(const Expr& list, size_t* total, std::string* why) {
  if (list.kind != Expr::Kind::List) {
    *why = "expected an iovec array";
    return false;
  }
  *total = 0;
  for (const Expr& iov : list.items) {
    long long len = 0;
    if (iov.kind != Expr::Kind::Struct || iov.items.size() != 2 ||
        iov.items[0].kind != Expr::Kind::Ellipsis || !eval_int(iov.items[1], &len, why) ||
        len < 0) {
      if (why->empty()) *why = "expected {..., <length>} in the iovec array";
      return false;
    }
    *total += static_cast<size_t>(len);
  }
  return true;
}

}  // namespace veer::drill
