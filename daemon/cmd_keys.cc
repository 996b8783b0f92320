// Key-space commands: DEL UNLINK EXISTS TYPE RENAME RENAMENX EXPIRE PEXPIRE EXPIREAT
// PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST KEYS SCAN RANDOMKEY DBSIZE FLUSHDB
// FLUSHALL, and Memento's COUNT and FLUSH.
//
// The text protocol keeps the original Memento's replies for DEL, EXPIRE and PERSIST
// (OK or (null) rather than an integer) and its prefix-based KEYS; the handlers pick
// the shape by dialect.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/glob.h"
#include "common/numbers.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"

namespace memento::daemon {
namespace {

using table::Entry;
using table::Slot;

// The text protocol's "OK if something happened, else (null)".
void OkOrNull(proto::ReplyBuilder& reply, bool ok) {
  if (ok) {
    reply.Ok();
  } else {
    reply.Null();
  }
}

// EXPIRE's options (Redis 7.0): NX only without an expiry, XX only with one, GT/LT
// only if the new time is later/earlier (no expiry counts as infinitely late).
enum ExpireCondition : unsigned { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// Parses argv[3..]; replies the error and returns false on a bad option.
bool ParseExpireConditions(Context& c, unsigned* conditions) {
  for (size_t i = 3; i < c.argv.size(); ++i) {
    const std::string_view opt = c.argv[i];
    if (EqualsIgnoreCase(opt, "nx")) {
      *conditions |= kNx;
    } else if (EqualsIgnoreCase(opt, "xx")) {
      *conditions |= kXx;
    } else if (EqualsIgnoreCase(opt, "gt")) {
      *conditions |= kGt;
    } else if (EqualsIgnoreCase(opt, "lt")) {
      *conditions |= kLt;
    } else {
      c.reply.Error("ERR Unsupported option " + Printable(opt));
      return false;
    }
  }
  if ((*conditions & kNx) != 0 && (*conditions & (kXx | kGt | kLt)) != 0) {
    c.reply.Error(kExpireNxConflictErr);
    return false;
  }
  if ((*conditions & kGt) != 0 && (*conditions & kLt) != 0) {
    c.reply.Error(kExpireGtLtConflictErr);
    return false;
  }
  return true;
}

// True if the conditions allow replacing `current` (kNoExpiry or ms) with `when`.
bool ExpireAllowed(unsigned conditions, int64_t current, int64_t when) {
  const bool has_expiry = current != table::kNoExpiry;
  if ((conditions & kNx) != 0 && has_expiry) return false;
  if ((conditions & kXx) != 0 && !has_expiry) return false;
  if ((conditions & kGt) != 0 && (!has_expiry || when <= current)) return false;
  if ((conditions & kLt) != 0 && has_expiry && when >= current) return false;
  return true;
}

// Redis's SCAN cursor syntax is whatever strtoul takes: an optional sign (a minus
// wraps around), decimal digits, no leading space; the empty string is 0.
bool ParseCursor(std::string_view text, uint64_t* cursor) {
  if (text.empty()) {
    *cursor = 0;
    return true;
  }
  const bool negative = text[0] == '-';
  if (text[0] == '+' || text[0] == '-') text.remove_prefix(1);
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return false;
  *cursor = negative ? ~value + 1 : value;
  return true;
}

// A per-thread generator for RANDOMKEY: no lock, no shared state.
uint64_t RandomU64() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator();
}

}  // namespace

void Del(Context& c) {
  int64_t deleted = 0;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    deleted +=
        c.table().Write(c.argv[i], c.now_ms, [](Slot& slot) { return slot.Erase() ? 1 : 0; });
  }
  if (c.resp()) {
    c.reply.Integer(deleted);
  } else {
    OkOrNull(c.reply, deleted > 0);  // the original Memento's tokens
  }
}

void Exists(Context& c) {
  int64_t found = 0;
  for (size_t i = 1; i < c.argv.size(); ++i) {
    found += c.table().Read(c.argv[i], c.now_ms, [](const Entry* e) { return e != nullptr; });
  }
  c.reply.Integer(found);
}

void Type(Context& c) {
  bool found = c.table().Read(c.argv[1], c.now_ms, [](const Entry* e) { return e != nullptr; });
  c.reply.Status(found ? "string" : "none");
}

void Rename(Context& c) {
  const bool nx = c.spec.variant == 1;
  const std::string_view from = c.argv[1];
  const std::string_view to = c.argv[2];
  if (from == to) {
    bool found = c.table().Read(from, c.now_ms, [](const Entry* e) { return e != nullptr; });
    if (!found) {
      c.reply.Error(kNoSuchKeyErr);
    } else if (nx) {
      c.reply.Integer(0);
    } else {
      c.reply.Ok();
    }
    return;
  }
  // Both shards locked at once (Table::WriteMulti orders the locks), so no reader
  // ever sees the key under both names or under neither. The entry moves whole:
  // value, creation time and expiry.
  enum class Outcome { kNoSuchKey, kTargetExists, kTooLarge, kRenamed };
  Outcome outcome = Outcome::kNoSuchKey;
  uint64_t value_bytes = 0;
  const std::string_view keys[] = {from, to};
  c.table().WriteMulti(keys, c.now_ms, [&](std::span<Slot* const> slots) {
    Slot& from_slot = *slots[0];
    Slot& to_slot = *slots[1];
    if (std::as_const(from_slot).entry() == nullptr) return;
    if (nx && std::as_const(to_slot).entry() != nullptr) {
      outcome = Outcome::kTargetExists;
      return;
    }
    // The new name may be longer than the old: the logged change must still fit.
    value_bytes = std::as_const(from_slot).entry()->value.size();
    if (!ChangeFits(c, to.size(), value_bytes)) {
      outcome = Outcome::kTooLarge;
      return;
    }
    Entry* source = from_slot.Mutate();
    Entry* target = to_slot.Create(source->created_ms);
    target->value = std::move(source->value);
    to_slot.SetExpire(source->expire_ms);
    from_slot.Erase();
    outcome = Outcome::kRenamed;
  });
  switch (outcome) {
    case Outcome::kNoSuchKey:
      c.reply.Error(kNoSuchKeyErr);
      break;
    case Outcome::kTargetExists:
      c.reply.Integer(0);
      break;
    case Outcome::kTooLarge:
      c.reply.Error(ChangeTooLargeError(to.size() + value_bytes, c.commands.max_change_bytes()));
      break;
    case Outcome::kRenamed:
      if (nx) {
        c.reply.Integer(1);
      } else {
        c.reply.Ok();
      }
      break;
  }
}

void Expire(Context& c) {
  const bool millis = (c.spec.variant & kExpireMillis) != 0;
  const bool absolute = (c.spec.variant & kExpireAbsolute) != 0;
  unsigned conditions = 0;
  if (!ParseExpireConditions(c, &conditions)) return;  // the text protocol has none
  auto reply_invalid_time = [&c] {
    std::string message("ERR invalid expire time in '");
    message.append(c.spec.name).append("' command");
    c.reply.Error(message);
  };
  int64_t when = 0;
  if (!ParseInt64(c.argv[2], &when)) {
    // The text protocol has always called any bad number an invalid expire time.
    if (c.resp()) {
      c.reply.Error(kNotIntegerErr);
    } else {
      reply_invalid_time();
    }
    return;
  }
  // Redis's checks: the unit conversion and adding the current time must not
  // overflow. A time at or before now deletes the key (and counts as set).
  if ((!millis && __builtin_mul_overflow(when, 1000, &when)) ||
      (!absolute && __builtin_add_overflow(when, c.now_ms, &when))) {
    reply_invalid_time();
    return;
  }
  bool set = c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    const Entry* e = std::as_const(slot).entry();
    if (e == nullptr || !ExpireAllowed(conditions, e->expire_ms, when)) return false;
    if (when <= c.now_ms) {
      slot.Erase();
    } else {
      slot.SetExpire(when);
    }
    return true;
  });
  if (c.resp()) {
    c.reply.Integer(set ? 1 : 0);
  } else {
    OkOrNull(c.reply, set);  // the original Memento's tokens
  }
}

void Ttl(Context& c) {
  const bool millis = (c.spec.variant & kExpireMillis) != 0;
  const bool absolute = (c.spec.variant & kExpireAbsolute) != 0;
  int64_t value = c.table().Read(c.argv[1], c.now_ms, [&](const Entry* e) -> int64_t {
    if (e == nullptr) return -2;
    if (e->expire_ms == table::kNoExpiry) return -1;
    // Live, so expire_ms > now_ms. Seconds are rounded to the nearest, as Redis.
    const int64_t ms = absolute ? e->expire_ms : e->expire_ms - c.now_ms;
    return millis ? ms : (ms + 500) / 1000;
  });
  c.reply.Integer(value);
}

void Persist(Context& c) {
  bool removed = c.table().Write(c.argv[1], c.now_ms, [](Slot& slot) {
    const Entry* e = std::as_const(slot).entry();
    if (e == nullptr || e->expire_ms == table::kNoExpiry) return false;
    slot.SetExpire(table::kNoExpiry);
    return true;
  });
  if (c.resp()) {
    c.reply.Integer(removed ? 1 : 0);
  } else {
    OkOrNull(c.reply, removed);  // the original Memento's tokens
  }
}

void Keys(Context& c) {
  // Text: an optional prefix (the original Memento's KEYS). RESP: a glob pattern.
  // Both reply the keys sorted bytewise (Redis does not sort; sorting costs little
  // next to the walk and makes the reply deterministic).
  std::vector<std::string> keys;
  if (!c.resp()) {
    const std::string_view prefix = c.argv.size() == 2 ? c.argv[1] : std::string_view();
    c.table().ForEach(c.now_ms, [&](std::string_view key, const Entry&) {
      if (key.starts_with(prefix)) keys.emplace_back(key);
    });
  } else {
    const std::string_view pattern = c.argv[1];
    const bool all = pattern == "*";
    c.table().ForEach(c.now_ms, [&](std::string_view key, const Entry&) {
      if (all || GlobMatch(pattern, key)) keys.emplace_back(key);
    });
  }
  std::sort(keys.begin(), keys.end());
  c.reply.ArrayHeader(keys.size());
  for (const std::string& key : keys) c.reply.Bulk(key);
}

void Scan(Context& c) {
  uint64_t cursor = 0;
  if (!ParseCursor(c.argv[1], &cursor)) {
    c.reply.Error(kInvalidCursorErr);
    return;
  }
  int64_t count = 10;  // Redis's default
  std::string_view pattern;
  bool use_pattern = false;
  bool type_matches = true;  // TYPE string, or no TYPE: every key (all are strings)
  for (size_t i = 2; i < c.argv.size(); i += 2) {
    const std::string_view opt = c.argv[i];
    if (i + 1 >= c.argv.size()) {
      c.reply.Error(kSyntaxErr);
      return;
    }
    if (EqualsIgnoreCase(opt, "count")) {
      if (!ParseInt64(c.argv[i + 1], &count)) {
        c.reply.Error(kNotIntegerErr);
        return;
      }
      if (count < 1) {
        c.reply.Error(kSyntaxErr);
        return;
      }
    } else if (EqualsIgnoreCase(opt, "match")) {
      pattern = c.argv[i + 1];
      use_pattern = pattern != "*";
    } else if (EqualsIgnoreCase(opt, "type")) {
      type_matches = EqualsIgnoreCase(c.argv[i + 1], "string");
    } else {
      c.reply.Error(kSyntaxErr);
      return;
    }
  }
  // A huge COUNT means "as much as possible"; capped so Table::Scan's visit budget
  // (10 buckets per counted key) cannot wrap around.
  constexpr int64_t kMaxCount = int64_t{1} << 40;
  std::vector<std::string> keys;
  const uint64_t next =
      c.table().Scan(cursor, static_cast<size_t>(std::min(count, kMaxCount)), c.now_ms,
                     [&](std::string_view key, const Entry&) {
                       if (!type_matches || (use_pattern && !GlobMatch(pattern, key))) return;
                       keys.emplace_back(key);
                     });
  char digits[24];
  const auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), next);
  c.reply.ArrayHeader(2);
  c.reply.Bulk(std::string_view(digits, static_cast<size_t>(end - digits)));
  c.reply.ArrayHeader(keys.size());
  for (const std::string& key : keys) c.reply.Bulk(key);
}

void RandomKey(Context& c) {
  // Not uniform: a random starting point (a shard and a bucket, through a random
  // SCAN cursor), then the first live key from there, wrapping around once. Keys in
  // long bucket chains or after empty stretches are a little likelier.
  std::string key;
  bool found = false;
  auto take_first = [&](std::string_view k, const Entry&) {
    if (!found) {
      key.assign(k);
      found = true;
    }
  };
  if (c.table().Size() > 0) {
    for (uint64_t start : {RandomU64(), uint64_t{0}}) {
      uint64_t cursor = start;
      do {
        cursor = c.table().Scan(cursor, 1, c.now_ms, take_first);
      } while (!found && cursor != 0);
      if (found) break;
    }
  }
  if (found) {
    c.reply.Bulk(key);
  } else {
    c.reply.Null();
  }
}

void DbSize(Context& c) { c.reply.Integer(static_cast<int64_t>(c.table().Size())); }

void FlushDb(Context& c) {
  // FLUSHDB/FLUSHALL [ASYNC|SYNC]: both work the same here (Table::Clear frees a
  // shard's entries after unlocking it).
  if (c.argv.size() > 2 || (c.argv.size() == 2 && !EqualsIgnoreCase(c.argv[1], "async") &&
                            !EqualsIgnoreCase(c.argv[1], "sync"))) {
    c.reply.Error(kSyntaxErr);
    return;
  }
  {
    // Every shard held (Table::Clear would take them anyway): the WATCHed keys
    // found live here are exactly those the clear removes.
    table::Table::Hold hold(c.table());
    c.commands.watches().TouchLive(c.table(), c.now_ms);
    c.table().Clear();
  }
  c.reply.Ok();
}

}  // namespace memento::daemon
