// Differential fuzz target: GlobMatch (common/glob.h), the matcher behind KEYS,
// SCAN MATCH and CONFIG GET, whose pattern comes from the client.
//
// GlobMatch is an iterative walk that, after a failure, retries from the LAST star
// only; its header argues why that is enough. The reference below is the obvious
// backtracking definition (a star tries every split), memoised so it stays
// polynomial. Both share the element grammar (sets, ranges, escapes, Redis's quirks
// as glob.h lists them), written independently here from that description. They must
// agree on every pattern and text, with and without nocase; and a pattern that
// GlobIsLiteral calls literal must match exactly itself.
//
// Input layout: byte 0 bit 0: nocase; byte 1: pattern length (at most 64, the rest
// of the input if shorter); then the pattern, then the text (at most 256 bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/glob.h"
#include "fuzz/fuzz_util.h"

namespace {

unsigned char Fold(char c, bool nocase) {
  const auto u = static_cast<unsigned char>(c);
  return nocase && u >= 'A' && u <= 'Z' ? static_cast<unsigned char>(u + ('a' - 'A')) : u;
}

class Reference {
 public:
  Reference(std::string_view pattern, std::string_view text, bool nocase)
      : p_(pattern), s_(text), nocase_(nocase),
        memo_((pattern.size() + 1) * (text.size() + 1), kUnknown) {}

  bool Match() { return MatchFrom(0, 0); }

 private:
  static constexpr int8_t kUnknown = -1;

  // One element (not a star) at p_[i] against byte c; *next is past the element.
  bool Element(size_t i, unsigned char c, size_t* next) const {
    const size_t n = p_.size();
    if (p_[i] == '?') {
      *next = i + 1;
      return true;
    }
    if (p_[i] == '\\' && i + 1 < n) {
      *next = i + 2;
      return Fold(p_[i + 1], nocase_) == c;
    }
    if (p_[i] != '[') {
      *next = i + 1;
      return Fold(p_[i], nocase_) == c;
    }
    // A set: "[" "^"? item* ("]" | end). Items: "\x", "a-b" (either order, and the
    // b may be ']'), a byte.
    size_t j = i + 1;
    bool negate = false;
    if (j < n && p_[j] == '^') {
      negate = true;
      ++j;
    }
    bool in = false;
    while (j < n && p_[j] != ']') {
      if (p_[j] == '\\' && j + 1 < n) {
        in = in || Fold(p_[j + 1], nocase_) == c;
        j += 2;
      } else if (j + 2 < n && p_[j + 1] == '-') {
        unsigned char a = Fold(p_[j], nocase_);
        unsigned char b = Fold(p_[j + 2], nocase_);
        if (a > b) std::swap(a, b);
        in = in || (c >= a && c <= b);
        j += 3;
      } else {
        in = in || Fold(p_[j], nocase_) == c;
        j += 1;
      }
    }
    *next = j < n ? j + 1 : n;
    return in != negate;
  }

  bool MatchFrom(size_t i, size_t k) {
    int8_t& m = memo_[i * (s_.size() + 1) + k];
    if (m != kUnknown) return m != 0;
    bool result = false;
    if (i == p_.size()) {
      result = k == s_.size();
    } else if (p_[i] == '*') {
      result = MatchFrom(i + 1, k) || (k < s_.size() && MatchFrom(i, k + 1));
    } else if (k < s_.size()) {
      size_t next = 0;
      result = Element(i, Fold(s_[k], nocase_), &next) && MatchFrom(next, k + 1);
    }
    m = result ? 1 : 0;
    return result;
  }

  std::string_view p_;
  std::string_view s_;
  bool nocase_;
  std::vector<int8_t> memo_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  memento::fuzz::FuzzInput in(data, size);
  const bool nocase = in.Bool();
  const std::string_view pattern = in.Take(in.Byte() % 65);
  const std::string_view text = in.Take(256);
  const bool got = memento::GlobMatch(pattern, text, nocase);
  FUZZ_CHECK(got == Reference(pattern, text, nocase).Match());
  if (memento::GlobIsLiteral(pattern) && !nocase) FUZZ_CHECK(got == (pattern == text));
  // Any text matches itself once its special bytes are escaped.
  std::string escaped;
  for (char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') escaped += '\\';
    escaped += c;
  }
  FUZZ_CHECK(memento::GlobMatch(escaped, text, nocase));
  return 0;
}
