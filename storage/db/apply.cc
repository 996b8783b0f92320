#include "storage/db/apply.h"

#include <utility>

namespace memento::db {

using storage::MutationType;

bool DeadDuringReplay(int64_t expire_ms) {
  return expire_ms != table::kNoExpiry && expire_ms <= kReplayNowMs;
}

// Each form below implements the rule in apply.h case by case; apply_test.cc's
// FoldAgreesWithTable checks them against each other.

void ApplyToTable(table::Table* table, const storage::Mutation& m) {
  if (m.type == MutationType::kClear) {
    table->Clear();
    return;
  }
  // At kReplayNowMs the Slot's entry() is the live one: an entry dead at time zero is
  // absent for the records after it, as in KeyChange::Add.
  table->Write(m.key, kReplayNowMs, [&](table::Slot& slot) {
    switch (m.type) {
      case MutationType::kPut:
        slot.Create(m.created_ms)->value.assign(m.value);
        slot.SetExpire(m.expire_ms);
        return;
      case MutationType::kDelete:
        slot.Erase();
        return;
      case MutationType::kExpire:
        if (slot.entry() != nullptr) slot.SetExpire(m.expire_ms);
        return;
      case MutationType::kClear:
        return;
      case MutationType::kAppend:
      case MutationType::kPrepend:
      case MutationType::kSetRange:
      case MutationType::kIncrBy:
        slot.ApplyDelta(m);  // nothing on an absent key, or one it cannot apply to
        return;
    }
  });
}

storage::Mutation KeyChange::Delta::AsMutation(std::string_view key) const {
  storage::Mutation m;
  m.type = type;
  m.key = key;
  m.value = bytes;
  m.number = number;
  return m;
}

void KeyChange::Add(const storage::Mutation& m) {
  switch (m.type) {
    case MutationType::kPut:
      kind = Kind::kPut;
      has_expire = false;
      deltas.clear();
      value.assign(m.value);
      created_ms = m.created_ms;
      expire_ms = m.expire_ms;
      return;
    case MutationType::kDelete:
      kind = Kind::kDelete;
      has_expire = false;
      deltas.clear();
      value.clear();
      expire_ms = -1;
      return;
    case MutationType::kExpire:
      switch (kind) {
        case Kind::kDelete:
          return;  // nothing to act on
        case Kind::kPut:
          if (!DeadDuringReplay(expire_ms)) expire_ms = m.expire_ms;
          return;
        case Kind::kKeep:
          // The base's entry, if any; once an earlier kExpire made it dead, absent.
          if (has_expire && DeadDuringReplay(expire_ms)) return;
          has_expire = true;
          expire_ms = m.expire_ms;
          return;
      }
      return;
    case MutationType::kClear:
      return;  // ChangeFold::Add
    case MutationType::kAppend:
    case MutationType::kPrepend:
    case MutationType::kSetRange:
    case MutationType::kIncrBy:
      switch (kind) {
        case Kind::kDelete:
          return;  // nothing to act on
        case Kind::kPut:
          // The base is known: apply it now (nothing, if dead or not applicable).
          if (!DeadDuringReplay(expire_ms)) storage::ApplyDeltaToValue(m, &value);
          return;
        case Kind::kKeep:
          if (has_expire && DeadDuringReplay(expire_ms)) return;  // absent by now
          // Adjacent appends (prepends) are one append (prepend) of the joined bytes,
          // whatever the base: the chain of a key appended to a million times between
          // two checkpoints stays one entry.
          if (!deltas.empty() && deltas.back().type == m.type) {
            if (m.type == MutationType::kAppend) {
              deltas.back().bytes.append(m.value);
              return;
            }
            if (m.type == MutationType::kPrepend) {
              deltas.back().bytes.insert(0, m.value);
              return;
            }
          }
          deltas.push_back({m.type, std::string(m.value), m.number});
          return;
      }
      return;
  }
}

void KeyChange::ApplyDeltasTo(std::string* base_value) const {
  for (const Delta& d : deltas) storage::ApplyDeltaToValue(d.AsMutation({}), base_value);
}

void KeyChange::ToMutations(std::string_view key, std::vector<storage::Mutation>* out) const {
  switch (kind) {
    case Kind::kPut:
      out->push_back({MutationType::kPut, key, value, created_ms, expire_ms});
      return;
    case Kind::kDelete:
      out->push_back({MutationType::kDelete, key, {}, 0, -1});
      return;
    case Kind::kKeep:
      // Deltas first: a kExpire that makes the entry dead at the replay clock came
      // after them (later deltas were dropped), and the deltas need it live.
      for (const Delta& d : deltas) out->push_back(d.AsMutation(key));
      if (has_expire) out->push_back({MutationType::kExpire, key, {}, 0, expire_ms});
      return;
  }
}

void ChangeFold::Add(const storage::Mutation& m) {
  ++records_;
  if (m.type == MutationType::kClear) {
    cleared_ = true;
    keys_.clear();
    return;
  }
  // One walk of the tree per record: lower_bound, then insert at the hint.
  auto it = keys_.lower_bound(m.key);
  if (it == keys_.end() || it->first != m.key) {
    // After a kClear the base is empty: a kExpire or a delta has nothing to act on.
    if (cleared_ && (m.type == MutationType::kExpire || storage::IsDelta(m.type))) return;
    if (spare_.empty()) {
      it = keys_.emplace_hint(it, std::string(m.key), KeyChange());
    } else {
      Map::node_type node = std::move(spare_.back());
      spare_.pop_back();
      node.key().assign(m.key);
      std::string value = std::move(node.mapped().value);
      value.clear();  // keeps its buffer
      std::vector<KeyChange::Delta> deltas = std::move(node.mapped().deltas);
      deltas.clear();  // keeps its buffer
      node.mapped() = KeyChange();
      node.mapped().value = std::move(value);
      node.mapped().deltas = std::move(deltas);
      it = keys_.insert(it, std::move(node));
    }
  }
  it->second.Add(m);
}

void ChangeFold::Reset() {
  cleared_ = false;
  spare_.reserve(spare_.size() + keys_.size());
  while (!keys_.empty()) spare_.push_back(keys_.extract(keys_.begin()));
  records_ = 0;
}

void ToMutations(const ChangeFold& fold, std::vector<storage::Mutation>* out) {
  out->clear();
  if (fold.cleared()) out->push_back({MutationType::kClear, {}, {}, 0, -1});
  for (const auto& [key, change] : fold.keys()) change.ToMutations(key, out);
}

void CollapseBatch(std::vector<OwnedMutation>* batch) {
  ChangeFold fold;
  for (const OwnedMutation& m : *batch) {
    fold.Add({m.type, m.key, m.value, m.created_ms, m.expire_ms, m.number});
  }
  std::vector<storage::Mutation> views;
  ToMutations(fold, &views);
  std::vector<OwnedMutation> out;
  out.reserve(views.size());
  for (const storage::Mutation& m : views) {
    out.push_back({m.type, std::string(m.key), std::string(m.value), m.created_ms, m.expire_ms,
                   m.number});
  }
  *batch = std::move(out);
}

}  // namespace memento::db
