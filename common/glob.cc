// Grammar of a pattern (common/glob.h has the meaning of each element):
//
//   pattern := element*
//   element := "*" | "?" | "\" byte | set | byte
//   set     := "[" "^"? item* ("]" | end-of-pattern)
//   item    := "\" byte | byte "-" byte | byte        -- "]" ends the set
//
// The matcher is the classic iterative wildcard walk: every element but "*" consumes
// exactly one byte, so when the rest of the pattern fails after a star it is enough
// to let THAT star swallow one more byte and retry; earlier stars never need to be
// revisited (anything they could absorb, the last star can absorb too). This is what
// bounds the work without recursion; Redis's own recursive matcher needed a special
// "skip longer matches" exit to avoid exponential time on patterns like a*a*a*...b.

#include "common/glob.h"

#include <cstddef>
#include <utility>

namespace memento {
namespace {

inline unsigned char Fold(char c, bool nocase) {
  unsigned char u = static_cast<unsigned char>(c);
  return nocase && u >= 'A' && u <= 'Z' ? static_cast<unsigned char>(u - 'A' + 'a') : u;
}

// Matches the set starting at pattern[at] == '[' against `c`; stores the index just
// past the set in *next.
bool MatchSet(std::string_view pattern, size_t at, unsigned char c, bool nocase, size_t* next) {
  const size_t n = pattern.size();
  size_t i = at + 1;
  const bool negate = i < n && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  // As Redis: an unterminated set runs to the end of the pattern.
  while (i < n && pattern[i] != ']') {
    if (pattern[i] == '\\' && n - i >= 2) {
      ++i;
      match |= Fold(pattern[i], nocase) == c;
    } else if (n - i >= 3 && pattern[i + 1] == '-') {
      unsigned char lo = Fold(pattern[i], nocase);
      unsigned char hi = Fold(pattern[i + 2], nocase);
      if (lo > hi) std::swap(lo, hi);
      match |= c >= lo && c <= hi;
      i += 2;
    } else {
      match |= Fold(pattern[i], nocase) == c;
    }
    ++i;
  }
  *next = i < n ? i + 1 : n;
  return match != negate;
}

// Matches the element at pattern[at] (not '*') against `byte`; stores the index just
// past the element in *next.
bool MatchElement(std::string_view pattern, size_t at, char byte, bool nocase, size_t* next) {
  const unsigned char c = Fold(byte, nocase);
  switch (pattern[at]) {
    case '?':
      *next = at + 1;
      return true;
    case '[':
      return MatchSet(pattern, at, c, nocase, next);
    case '\\':
      if (at + 1 < pattern.size()) {
        *next = at + 2;
        return Fold(pattern[at + 1], nocase) == c;
      }
      break;  // a trailing backslash is an ordinary byte
    default:
      break;
  }
  *next = at + 1;
  return Fold(pattern[at], nocase) == c;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  constexpr size_t kNoStar = ~size_t{0};
  const size_t n = pattern.size();
  size_t p = 0;             // next pattern element
  size_t s = 0;             // next text byte
  size_t star_p = kNoStar;  // pattern index just after the last star seen
  size_t star_s = 0;        // text index that star's current match ends at
  while (s < text.size()) {
    if (p < n && pattern[p] == '*') {
      while (p < n && pattern[p] == '*') ++p;
      if (p == n) return true;  // a trailing star swallows the rest
      star_p = p;
      star_s = s;
      continue;
    }
    size_t next = 0;
    if (p < n && MatchElement(pattern, p, text[s], nocase, &next)) {
      p = next;
      ++s;
      continue;
    }
    if (star_p == kNoStar) return false;
    // Let the last star take one more byte and retry the rest of the pattern.
    p = star_p;
    s = ++star_s;
  }
  while (p < n && pattern[p] == '*') ++p;
  return p == n;
}

bool GlobIsLiteral(std::string_view pattern) {
  return pattern.find_first_of("*?[\\") == std::string_view::npos;
}

}  // namespace memento
