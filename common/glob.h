// GlobMatch: Redis-style glob patterns (KEYS, SCAN MATCH, CONFIG GET), binary-safe.
//
//   *        any run of bytes, including none
//   ?        any one byte
//   [abc]    one byte of the set;  [^abc] one byte not in it;  [a-z] a range (the
//            ends may come in either order);  \x inside a set is x itself
//   \x       the byte x itself (so \* matches a star)
//   other    itself
//
// Redis's quirks are kept, so a pattern means the same here as in redis-server: an
// unterminated set runs to the end of the pattern, "[]" matches nothing and "[^]"
// any byte, a lone trailing backslash is an ordinary byte, and in "[a-]" the "a-]"
// is the range between ']' and 'a' (and the set, never closed, runs to the end).
// Unlike Redis (which compares signed chars), ranges compare bytes as unsigned
// values, so [\x01-\xff] covers every non-zero byte.
//
// Time: no recursion, and O(pattern * text) at worst: a failed match after a star
// retries from the LAST star only, never from earlier ones, so there is no
// exponential blow-up (a*a*a*...b against a long text is linear).
//
// Thread-safety: pure functions.
#pragma once

#include <string_view>

namespace memento {

// True if `pattern` matches the whole of `text`. With `nocase`, ASCII letters match
// either case (CONFIG GET); set ranges compare lower-cased bytes.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

// True if `pattern` holds no special byte (* ? [ \), so it only matches itself.
bool GlobIsLiteral(std::string_view pattern);

}  // namespace memento
