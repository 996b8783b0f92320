// Result<T>: a value or the Status that explains why there is none.
//
// C++20 has no std::expected; this is the small stand-in (dragonfly's OpResult is
// the model). A Result built from a Status must be given a non-OK one.
#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "common/status.h"

namespace memento {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result without a value needs an error Status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace memento

// Evaluates `expr` (a Result<T>); on error returns its Status from the calling
// function (which returns Status or any Result<U>), else moves the value into `lhs`,
// which may declare a variable:
//
//   MEMENTO_ASSIGN_OR_RETURN(Listener listener, Listener::Open(address));
//   MEMENTO_ASSIGN_OR_RETURN(p->wal_, wal::Log::Open(dir));
//
// A statement, not an expression: it expands to two statements, so it cannot be the
// body of an unbraced if or loop. `expr` is evaluated exactly once.
#define MEMENTO_ASSIGN_OR_RETURN(lhs, expr) \
  MEMENTO_ASSIGN_OR_RETURN_IMPL_(MEMENTO_RESULT_CONCAT_(memento_result_, __LINE__), lhs, expr)

#define MEMENTO_RESULT_CONCAT_INNER_(a, b) a##b
#define MEMENTO_RESULT_CONCAT_(a, b) MEMENTO_RESULT_CONCAT_INNER_(a, b)
#define MEMENTO_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                   \
  if (!result.ok()) return result.status();               \
  lhs = std::move(result).value()
