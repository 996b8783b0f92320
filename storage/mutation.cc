#include "storage/mutation.h"

#include <charconv>

#include "common/numbers.h"

namespace memento::storage {

bool ApplyDeltaToValue(const Mutation& m, std::string* value) {
  switch (m.type) {
    case MutationType::kAppend:
      if (value->size() + m.value.size() > kMaxDeltaResultBytes) return false;
      value->append(m.value);
      return true;
    case MutationType::kPrepend:
      if (value->size() + m.value.size() > kMaxDeltaResultBytes) return false;
      value->insert(0, m.value);
      return true;
    case MutationType::kSetRange: {
      if (m.number < 0) return false;
      const uint64_t offset = static_cast<uint64_t>(m.number);
      if (m.value.empty()) return true;  // SETRANGE of nothing changes nothing
      if (offset > kMaxDeltaResultBytes || offset + m.value.size() > kMaxDeltaResultBytes) {
        return false;
      }
      if (value->size() < offset + m.value.size()) value->resize(offset + m.value.size(), '\0');
      value->replace(static_cast<size_t>(offset), m.value.size(), m.value);
      return true;
    }
    case MutationType::kIncrBy: {
      int64_t current = 0;
      int64_t result = 0;
      if (!ParseInt64(*value, &current)) return false;
      if (__builtin_add_overflow(current, m.number, &result)) return false;
      char buf[24];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), result);
      value->assign(buf, static_cast<size_t>(end - buf));
      return true;
    }
    case MutationType::kPut:
    case MutationType::kDelete:
    case MutationType::kExpire:
    case MutationType::kClear:
      return false;
  }
  return false;
}

}  // namespace memento::storage
