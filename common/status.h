// Status: the outcome of an operation that can fail, as a value.
//
// Modelled on leveldb's Status: an OK status holds a null pointer, so the success
// path never allocates; an error holds a code and a message saying what went wrong
// and where. net/, storage/ and cluster/ report every failure this way and never
// throw.
//
// Thread-safety: a const Status may be read from several threads; a non-const one
// needs external synchronisation, as any value type.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace memento {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kIOError = 3,
    kInvalidArgument = 4,
    kNotSupported = 5,
    kBusy = 6,  // a resource is held by someone else (a lock, a port)
  };

  Status() noexcept = default;
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status IOError(std::string_view msg) { return Status(Code::kIOError, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  // An IOError whose message ends with strerror(errnum).
  static Status FromErrno(std::string_view context, int errnum);

  bool ok() const { return rep_ == nullptr; }
  Code code() const { return rep_ == nullptr ? Code::kOk : rep_->code; }
  bool IsNotFound() const { return code() == Code::kNotFound; }
  bool IsCorruption() const { return code() == Code::kCorruption; }
  bool IsIOError() const { return code() == Code::kIOError; }
  bool IsInvalidArgument() const { return code() == Code::kInvalidArgument; }
  bool IsBusy() const { return code() == Code::kBusy; }

  // The message alone ("" for OK).
  std::string_view message() const;
  // "OK", or the code's name and the message: "IO error: open ./data/LOCK: ...".
  std::string ToString() const;

 private:
  struct Rep {
    Code code;
    std::string message;
  };
  Status(Code code, std::string_view msg);

  std::unique_ptr<Rep> rep_;  // nullptr means OK
};

}  // namespace memento

// Returns from the calling function when `expr` yields a non-OK Status.
#define MEMENTO_RETURN_IF_ERROR(expr)                \
  do {                                               \
    ::memento::Status memento_status_ = (expr);      \
    if (!memento_status_.ok()) return memento_status_; \
  } while (0)
