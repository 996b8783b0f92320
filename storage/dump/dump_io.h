// Where a dump's bytes go and come from: a small interface so that the writer and the
// reader run over a file descriptor (the tools: a file, stdout) or a string (tests, the
// fuzzer) alike (leveldb's env.h idea, cut down to what a stream needs).
//
// Thread-safety: none; one object per stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/status.h"

namespace memento::dump {

class Sink {
 public:
  virtual ~Sink() = default;
  // Appends all of `data` or returns an IOError naming the destination.
  virtual Status Append(std::string_view data) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Reads up to n bytes into dst and returns how many; fewer than n only at the end of
  // the input (0: nothing left). IOError on a read error.
  virtual Result<size_t> Read(char* dst, size_t n) = 0;
  // The input's total size when known up front (a regular file), else nullopt (a pipe).
  // The reader checks lengths against it before reading.
  virtual std::optional<uint64_t> size() const = 0;
};

class StringSink final : public Sink {
 public:
  Status Append(std::string_view data) override {
    out_.append(data);
    return Status::OK();
  }
  const std::string& contents() const { return out_; }
  std::string* mutable_contents() { return &out_; }

 private:
  std::string out_;
};

// Reads `data`, which must outlive the source. `known_size`: whether size() reports it
// (tests read the same bytes as a file and as a pipe).
class StringSource final : public Source {
 public:
  explicit StringSource(std::string_view data, bool known_size = true)
      : data_(data), known_size_(known_size) {}
  Result<size_t> Read(char* dst, size_t n) override;
  std::optional<uint64_t> size() const override {
    if (!known_size_) return std::nullopt;
    return data_.size();
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool known_size_;
};

// Writes to an open descriptor (not owned), retrying short writes and EINTR. `name`
// ("dump.mdump", "stdout") goes into error messages.
class FdSink final : public Sink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status Append(std::string_view data) override;
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  std::string name_;
  uint64_t bytes_ = 0;
};

// Reads an open descriptor (not owned). size() is the file's size if it is a regular
// file (fstat at construction), else nullopt.
class FdSource final : public Source {
 public:
  FdSource(int fd, std::string name);
  Result<size_t> Read(char* dst, size_t n) override;
  std::optional<uint64_t> size() const override { return size_; }

 private:
  int fd_;
  std::string name_;
  std::optional<uint64_t> size_;
};

}  // namespace memento::dump
