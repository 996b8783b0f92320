// String commands: GET SET SETNX SETEX PSETEX GETSET GETDEL MGET MSET MSETNX APPEND
// PREPEND STRLEN GETRANGE SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT, and Memento's
// INC DEC INCF DECF GETP.
//
// Semantics, reply types and error texts are Redis's (docs/protocol.md lists the
// differences). Where the text protocol keeps the original Memento's reply tokens
// (INC/DEC/INCF/DECF/APPEND/PREPEND reply OK there), the handler picks the shape by
// dialect; everything else is the same code for both.
//
// Hot paths (GET, SET, INCR, MGET, MSET) allocate nothing but what the stored value
// needs: replies go straight into the connection's buffer from inside the shard
// lock, and numbers are formatted on the stack.

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "common/numbers.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"

namespace memento::daemon {
namespace {

using table::Entry;
using table::Slot;

// ---------------------------------------------------------------------------
// Expiry arguments (SET EX/PX/EXAT/PXAT, SETEX, PSETEX)

enum class ExpireKind : uint8_t { kNone, kEx, kPx, kExAt, kPxAt };

// Turns an expiry argument into an absolute time in ms, as Redis's
// getExpireMillisecondsOrReply: the number must be > 0, and neither the unit
// conversion nor adding the current time may overflow. Replies the error and
// returns false otherwise.
bool ParseExpireArg(Context& c, std::string_view text, ExpireKind kind, int64_t* expire_ms) {
  int64_t value = 0;
  if (!ParseInt64(text, &value)) {
    c.reply.Error(kNotIntegerErr);
    return false;
  }
  const bool seconds = kind == ExpireKind::kEx || kind == ExpireKind::kExAt;
  const bool relative = kind == ExpireKind::kEx || kind == ExpireKind::kPx;
  bool ok = value > 0 && !(seconds && __builtin_mul_overflow(value, 1000, &value)) &&
            !(relative && __builtin_add_overflow(value, c.now_ms, &value));
  if (!ok) {
    std::string message("ERR invalid expire time in '");
    message.append(c.spec.name).append("' command");
    c.reply.Error(message);
    return false;
  }
  *expire_ms = value;
  return true;
}

// SET's options (Redis's parseExtendedStringArgumentsOrReply): NX and XX exclude each
// other, KEEPTTL excludes the expiry options, and an expiry option may repeat (the
// last one wins) but not be mixed with another kind.
struct SetOptions {
  bool nx = false;
  bool xx = false;
  bool get = false;
  bool keep_ttl = false;
  ExpireKind expire_kind = ExpireKind::kNone;
  std::string_view expire_text;
};

bool ParseSetOptions(std::span<const std::string_view> argv, SetOptions* o) {
  for (size_t i = 3; i < argv.size(); ++i) {
    const std::string_view opt = argv[i];
    const bool has_value = i + 1 < argv.size();
    ExpireKind kind = ExpireKind::kNone;
    if (EqualsIgnoreCase(opt, "ex")) kind = ExpireKind::kEx;
    if (EqualsIgnoreCase(opt, "px")) kind = ExpireKind::kPx;
    if (EqualsIgnoreCase(opt, "exat")) kind = ExpireKind::kExAt;
    if (EqualsIgnoreCase(opt, "pxat")) kind = ExpireKind::kPxAt;
    if (EqualsIgnoreCase(opt, "nx") && !o->xx) {
      o->nx = true;
    } else if (EqualsIgnoreCase(opt, "xx") && !o->nx) {
      o->xx = true;
    } else if (EqualsIgnoreCase(opt, "get")) {
      o->get = true;
    } else if (EqualsIgnoreCase(opt, "keepttl") && o->expire_kind == ExpireKind::kNone) {
      o->keep_ttl = true;
    } else if (kind != ExpireKind::kNone && has_value && !o->keep_ttl &&
               (o->expire_kind == ExpireKind::kNone || o->expire_kind == kind)) {
      o->expire_kind = kind;
      o->expire_text = argv[++i];
    } else {
      return false;
    }
  }
  return true;
}

// Applies an absolute expiry to the entry just stored: a time already past deletes
// the key at once (as Redis), so it never lingers in DBSIZE.
void ApplyExpiry(Slot& slot, int64_t expire_ms, int64_t now_ms) {
  if (expire_ms <= now_ms) {
    slot.Erase();
  } else {
    slot.SetExpire(expire_ms);
  }
}

// ---------------------------------------------------------------------------
// Numbers

// Decimal text of `value` written over e->value (reusing its buffer).
void StoreInt64(Entry* e, int64_t value) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  e->value.assign(buf, static_cast<size_t>(end - buf));
}

// Adds `delta` to key argv[1]'s integer value; a missing key counts from 0 and is
// created; an existing one keeps its creation time and expiry. Returns nullptr and
// the new value in *result, or the error text (the value is then unchanged).
const char* AddToInteger(Context& c, int64_t delta, int64_t* result) {
  return c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) -> const char* {
    const Entry* old = std::as_const(slot).entry();
    int64_t current = 0;
    if (old != nullptr && !ParseInt64(old->value, &current)) return kNotIntegerErr;
    if (__builtin_add_overflow(current, delta, result)) return kOverflowErr;
    if (old == nullptr) {
      StoreInt64(slot.Create(c.now_ms), *result);
      return nullptr;
    }
    // Logged as the delta (storage::MutationType::kIncrBy), which replays to the same
    // text: the arithmetic is integer and ApplyDeltaToValue prints it as StoreInt64.
    storage::Mutation change;
    change.type = storage::MutationType::kIncrBy;
    change.number = delta;
    if (!slot.ApplyDelta(change)) return kNotIntegerErr;  // checked above: not reached
    return nullptr;
  });
}

// Redis's INCRBYFLOAT arithmetic is long double (80-bit on x86-64), parsed with
// strtold and printed as "%.17Lf" with trailing zeros trimmed; doing the same gives
// the same digits (0.1 + 0.2 is "0.3" there, where a double would give
// "0.30000000000000004").
constexpr size_t kMaxLongDoubleChars = 5 * 1024;  // Redis's MAX_LONG_DOUBLE_CHARS

// Redis's string2ld: no leading space, nothing after the number, not NaN, and not
// out of range (infinity is accepted: the sum is checked afterwards).
bool ParseLongDouble(std::string_view text, long double* value) {
  if (text.empty() || text.size() >= kMaxLongDoubleChars) return false;
  if (std::isspace(static_cast<unsigned char>(text[0]))) return false;
  char buf[kMaxLongDoubleChars];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const long double v = std::strtold(buf, &end);
  if (end != buf + text.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (std::isinf(v) || v == 0)) return false;
  *value = v;
  return true;
}

// Writes Redis's "human" long double text into buf; returns its length.
// REQUIRES: value is finite; buf holds kMaxLongDoubleChars.
size_t FormatLongDouble(long double value, char* buf) {
  int written = std::snprintf(buf, kMaxLongDoubleChars, "%.17Lf", value);
  // Invariant: the longest finite long double has 4933 integer digits, so the text
  // always fits.
  size_t n = written > 0 ? std::min(static_cast<size_t>(written), kMaxLongDoubleChars - 1) : 0;
  if (std::memchr(buf, '.', n) != nullptr) {
    while (n > 0 && buf[n - 1] == '0') --n;
    if (n > 0 && buf[n - 1] == '.') --n;
  }
  if (n == 2 && buf[0] == '-' && buf[1] == '0') {
    buf[0] = '0';
    n = 1;
  }
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// Reading and writing whole values

void Get(Context& c) {
  bool found = c.table().Read(c.argv[1], c.now_ms, [&](const Entry* e) {
    if (e == nullptr) return false;
    c.reply.Bulk(e->value);
    return true;
  });
  if (found) {
    c.commands.NoteHit();
  } else {
    c.commands.NoteMiss();
    c.reply.Null();
  }
}

void Set(Context& c) {
  // The text protocol's SET takes the rest of the line as the value, so it never
  // has options: argv.size() == 3 there.
  SetOptions o;
  if (!ParseSetOptions(c.argv, &o)) {
    c.reply.Error(kSyntaxErr);
    return;
  }
  int64_t expire_ms = table::kNoExpiry;
  if (o.expire_kind != ExpireKind::kNone &&
      !ParseExpireArg(c, o.expire_text, o.expire_kind, &expire_ms)) {
    return;
  }
  c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    const Entry* e = std::as_const(slot).entry();
    if (o.get) {
      if (e != nullptr) {
        c.reply.Bulk(e->value);
      } else {
        c.reply.Null();
      }
    }
    if ((o.nx && e != nullptr) || (o.xx && e == nullptr)) {
      if (!o.get) c.reply.Null();
      return;
    }
    // SET replaces the key: a new creation time and no expiry, unless KEEPTTL.
    const int64_t old_expiry = e != nullptr ? e->expire_ms : table::kNoExpiry;
    StoreValue(slot, c.now_ms, c.argv[2]);
    if (o.keep_ttl) slot.SetExpire(old_expiry);
    if (expire_ms != table::kNoExpiry) ApplyExpiry(slot, expire_ms, c.now_ms);
    if (!o.get) c.reply.Ok();
  });
}

void SetNx(Context& c) {
  bool set = c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    if (std::as_const(slot).entry() != nullptr) return false;
    StoreValue(slot, c.now_ms, c.argv[2]);
    return true;
  });
  c.reply.Integer(set ? 1 : 0);
}

void SetEx(Context& c) {
  const ExpireKind kind = c.spec.variant == 1000 ? ExpireKind::kEx : ExpireKind::kPx;
  int64_t expire_ms = 0;
  if (!ParseExpireArg(c, c.argv[2], kind, &expire_ms)) return;
  c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    StoreValue(slot, c.now_ms, c.argv[3]);
    ApplyExpiry(slot, expire_ms, c.now_ms);
  });
  c.reply.Ok();
}

void GetSet(Context& c) {
  c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    if (const Entry* e = std::as_const(slot).entry(); e != nullptr) {
      c.reply.Bulk(e->value);
    } else {
      c.reply.Null();
    }
    StoreValue(slot, c.now_ms, c.argv[2]);  // as SET: the expiry goes
  });
}

void GetDel(Context& c) {
  c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    if (const Entry* e = std::as_const(slot).entry(); e != nullptr) {
      c.reply.Bulk(e->value);
      slot.Erase();
    } else {
      c.reply.Null();
    }
  });
}

void MGet(Context& c) {
  c.reply.ArrayHeader(c.argv.size() - 1);
  for (size_t i = 1; i < c.argv.size(); ++i) {
    bool found = c.table().Read(c.argv[i], c.now_ms, [&](const Entry* e) {
      if (e == nullptr) return false;
      c.reply.Bulk(e->value);
      return true;
    });
    if (found) {
      c.commands.NoteHit();
    } else {
      c.commands.NoteMiss();
      c.reply.Null();
    }
  }
}

void MSet(Context& c) {
  if (c.argv.size() % 2 == 0) {
    ReplyWrongArity(c.reply, c.spec.name);
    return;
  }
  // Each key is set atomically; the whole is not (a reader may see some of the keys
  // set and not others). Locking every shard involved would make this hot path
  // allocate and serialise unrelated writers; MSETNX, which needs it, does.
  for (size_t i = 1; i < c.argv.size(); i += 2) {
    c.table().Write(c.argv[i], c.now_ms,
                    [&](Slot& slot) { StoreValue(slot, c.now_ms, c.argv[i + 1]); });
  }
  c.reply.Ok();
}

void MSetNx(Context& c) {
  if (c.argv.size() % 2 == 0) {
    ReplyWrongArity(c.reply, c.spec.name);
    return;
  }
  // A key named twice takes its last value (as Redis, which sets them in order);
  // WriteMulti needs distinct keys.
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  pairs.reserve(c.argv.size() / 2);
  for (size_t i = 1; i < c.argv.size(); i += 2) pairs.emplace_back(c.argv[i], c.argv[i + 1]);
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string_view> keys;
  std::vector<std::string_view> values;
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i + 1 < pairs.size() && pairs[i + 1].first == pairs[i].first) continue;
    keys.push_back(pairs[i].first);
    values.push_back(pairs[i].second);
  }
  bool set = false;
  c.table().WriteMulti(keys, c.now_ms, [&](std::span<Slot* const> slots) {
    for (const Slot* slot : slots) {
      if (slot->entry() != nullptr) return;
    }
    for (size_t i = 0; i < slots.size(); ++i) StoreValue(*slots[i], c.now_ms, values[i]);
    set = true;
  });
  c.reply.Integer(set ? 1 : 0);
}

// ---------------------------------------------------------------------------
// Parts of values

// A value the commands may build is one every log reader may rebuild from its deltas.
static_assert(kMaxValueBytes == storage::kMaxDeltaResultBytes);

void AppendPrepend(Context& c) {
  const bool prepend = c.spec.variant < 0;
  const std::string_view piece = c.argv[2];
  size_t length = 0;
  std::string too_large;
  const char* error = c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) -> const char* {
    const Entry* old = std::as_const(slot).entry();
    if (old != nullptr && old->value.size() + piece.size() > kMaxValueBytes) {
      return kStringTooLongErr;
    }
    const uint64_t grown = (old != nullptr ? old->value.size() : 0) + piece.size();
    if (!ChangeFits(c, slot.key().size(), grown)) {
      too_large = ChangeTooLargeError(slot.key().size() + grown, c.commands.max_change_bytes());
      return too_large.c_str();
    }
    if (old == nullptr) {
      // A missing key is created, as Redis's APPEND does (logged as a kPut).
      Entry* e = slot.Create(c.now_ms);
      e->value.assign(piece);
      length = e->value.size();
      return nullptr;
    }
    // Logged as the piece alone (kAppend / kPrepend), not the whole value.
    storage::Mutation change;
    change.type = prepend ? storage::MutationType::kPrepend : storage::MutationType::kAppend;
    change.value = piece;
    slot.ApplyDelta(change);
    length = std::as_const(slot).entry()->value.size();
    return nullptr;
  });
  if (error != nullptr) {
    c.reply.Error(error);
  } else if (c.resp()) {
    c.reply.Integer(static_cast<int64_t>(length));
  } else {
    c.reply.Ok();  // the original Memento's token
  }
}

void StrLen(Context& c) {
  size_t length = c.table().Read(c.argv[1], c.now_ms, [](const Entry* e) -> size_t {
    return e != nullptr ? e->value.size() : 0;
  });
  c.reply.Integer(static_cast<int64_t>(length));
}

void GetRange(Context& c) {
  int64_t start = 0;
  int64_t end = 0;
  if (!ParseInt64(c.argv[2], &start) || !ParseInt64(c.argv[3], &end)) {
    c.reply.Error(kNotIntegerErr);
    return;
  }
  c.table().Read(c.argv[1], c.now_ms, [&](const Entry* e) {
    const std::string_view value = e != nullptr ? std::string_view(e->value) : std::string_view();
    const int64_t size = static_cast<int64_t>(value.size());
    // Redis's rules: negative indexes count from the end; both negative with
    // start > end is empty; then clamp to [0, size - 1].
    if (start < 0 && end < 0 && start > end) {
      c.reply.Bulk("");
      return;
    }
    if (start < 0) start = std::max<int64_t>(size + start, 0);
    if (end < 0) end = std::max<int64_t>(size + end, 0);
    if (end >= size) end = size - 1;
    if (size == 0 || start > end) {
      c.reply.Bulk("");
      return;
    }
    c.reply.Bulk(value.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
  });
}

void SetRange(Context& c) {
  int64_t offset = 0;
  if (!ParseInt64(c.argv[2], &offset)) {
    c.reply.Error(kNotIntegerErr);
    return;
  }
  if (offset < 0) {
    c.reply.Error(kOffsetErr);
    return;
  }
  const std::string_view piece = c.argv[3];
  const uint64_t new_end = static_cast<uint64_t>(offset) + piece.size();
  c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) {
    const Entry* old = std::as_const(slot).entry();
    // Writing nothing changes nothing (and does not create the key).
    if (piece.empty()) {
      c.reply.Integer(old != nullptr ? static_cast<int64_t>(old->value.size()) : 0);
      return;
    }
    if (new_end > kMaxValueBytes) {
      c.reply.Error(kStringTooLongErr);
      return;
    }
    const uint64_t size = std::max<uint64_t>(new_end, old != nullptr ? old->value.size() : 0);
    if (!ChangeFits(c, slot.key().size(), size)) {
      c.reply.Error(ChangeTooLargeError(slot.key().size() + size, c.commands.max_change_bytes()));
      return;
    }
    // Logged as the range alone (kSetRange); a missing key is created first (the new
    // key's zero padding and bytes are logged whole, as a kPut).
    storage::Mutation change;
    change.type = storage::MutationType::kSetRange;
    change.value = piece;
    change.number = offset;
    if (old == nullptr) {
      Entry* e = slot.Create(c.now_ms);
      storage::ApplyDeltaToValue(change, &e->value);
    } else {
      slot.ApplyDelta(change);
    }
    c.reply.Integer(static_cast<int64_t>(std::as_const(slot).entry()->value.size()));
  });
}

// ---------------------------------------------------------------------------
// Counters

void IncrBy(Context& c) {
  int64_t delta = 1;
  if (c.argv.size() == 3 && !ParseInt64(c.argv[2], &delta)) {
    c.reply.Error(kNotIntegerErr);
    return;
  }
  if (c.spec.variant < 0) {
    if (delta == INT64_MIN) {  // -delta would overflow
      c.reply.Error(kDecrementOverflowErr);
      return;
    }
    delta = -delta;
  }
  int64_t result = 0;
  if (const char* error = AddToInteger(c, delta, &result); error != nullptr) {
    c.reply.Error(error);
    return;
  }
  c.reply.Integer(result);
}

void IncDec(Context& c) {
  int64_t delta = 1;
  if (c.argv.size() == 3 && !ParseInt64(c.argv[2], &delta)) {
    c.reply.Error(kNotIntegerErr);
    return;
  }
  if (c.spec.variant < 0) {
    // The text protocol has always said "increment or decrement would overflow"
    // here; DECRBY's own text is Redis's "decrement would overflow".
    if (delta == INT64_MIN) {
      c.reply.Error(kOverflowErr);
      return;
    }
    delta = -delta;
  }
  int64_t result = 0;
  if (const char* error = AddToInteger(c, delta, &result); error != nullptr) {
    c.reply.Error(error);
  } else if (c.resp()) {
    c.reply.Integer(result);
  } else {
    c.reply.Ok();  // the original Memento's token
  }
}

void IncrByFloat(Context& c) {
  long double delta = 0;
  if (!ParseLongDouble(c.argv[2], &delta)) {
    c.reply.Error(kNotFloatErr);
    return;
  }
  const char* error = c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) -> const char* {
    const Entry* old = std::as_const(slot).entry();
    long double current = 0;
    if (old != nullptr && !ParseLongDouble(old->value, &current)) return kNotFloatErr;
    const long double next = current + delta;
    if (std::isnan(next) || std::isinf(next)) return kNanOrInfErr;
    char buf[kMaxLongDoubleChars];
    const size_t n = FormatLongDouble(next, buf);
    Entry* e = old != nullptr ? slot.Mutate() : slot.Create(c.now_ms);
    e->value.assign(buf, n);
    c.reply.Bulk(e->value);
    return nullptr;
  });
  if (error != nullptr) c.reply.Error(error);
}

void IncDecFloat(Context& c) {
  // Memento's INCF/DECF: doubles, stored as the shortest text that reads back as
  // the same double (docs/protocol.md), unlike INCRBYFLOAT's long double.
  double delta = 1.0;
  if (c.argv.size() == 3 && !ParseFiniteDouble(c.argv[2], &delta)) {
    c.reply.Error(kNotFloatErr);
    return;
  }
  if (c.spec.variant < 0) delta = -delta;
  const char* error = c.table().Write(c.argv[1], c.now_ms, [&](Slot& slot) -> const char* {
    const Entry* old = std::as_const(slot).entry();
    double current = 0;
    if (old != nullptr && !ParseFiniteDouble(old->value, &current)) return kNotFloatErr;
    const double next = current + delta;
    if (!std::isfinite(next)) return kNanOrInfErr;
    Entry* e = old != nullptr ? slot.Mutate() : slot.Create(c.now_ms);
    e->value = FormatDouble(next);
    if (c.resp()) c.reply.Bulk(e->value);
    return nullptr;
  });
  if (error != nullptr) {
    c.reply.Error(error);
  } else if (!c.resp()) {
    c.reply.Ok();  // the original Memento's token
  }
}

void GetP(Context& c) {
  // Text: four lines "key: k", "value: v", "creation_time: ms", "expire_time: ms|-1"
  // (the original Memento's, with no count line). RESP: an array of the key, the
  // value, and the two times as integers (ms since the epoch; -1 = no expiry).
  bool found = c.table().Read(c.argv[1], c.now_ms, [&](const Entry* e) {
    if (e == nullptr) return false;
    if (c.resp()) {
      c.reply.ArrayHeader(4);
      c.reply.Bulk(c.argv[1]);
      c.reply.Bulk(e->value);
      c.reply.Integer(e->created_ms);
      c.reply.Integer(e->expire_ms);
      return true;
    }
    std::string line;
    line.reserve(c.argv[1].size() + e->value.size() + 16);
    line.append("key: ").append(c.argv[1]);
    c.reply.Bulk(line);
    line.assign("value: ").append(e->value);
    c.reply.Bulk(line);
    c.reply.Bulk("creation_time: " + FormatInt64(e->created_ms));
    c.reply.Bulk("expire_time: " + FormatInt64(e->expire_ms));
    return true;
  });
  if (found) {
    c.commands.NoteHit();
  } else {
    c.commands.NoteMiss();
    if (c.resp()) {
      c.reply.NullArray();
    } else {
      c.reply.Null();
    }
  }
}

}  // namespace memento::daemon
