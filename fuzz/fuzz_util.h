// Helpers shared by the fuzz targets (fuzz/*_fuzzer.cc): a reader that carves typed
// values out of the fuzzer's bytes, and a check macro that aborts with a message.
//
// FuzzInput is a small stand-in for LLVM's FuzzedDataProvider: that header ships with
// clang only, and the targets are also compiled by g++ for the replay tests
// (fuzz/CMakeLists.txt). It never fails: past the end it returns zeros and empty
// strings, so every input, however short, is a valid program for a target.
//
// Thread-safety: none (one input, one thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace memento::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  size_t remaining() const { return size_ - pos_; }

  uint8_t Byte() { return pos_ < size_ ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  bool Bool() { return (Byte() & 1) != 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  uint32_t U32() { return static_cast<uint32_t>(U16()) | (static_cast<uint32_t>(U16()) << 16); }
  uint64_t U64() { return static_cast<uint64_t>(U32()) | (static_cast<uint64_t>(U32()) << 32); }
  // A value in [0, n). REQUIRES: n > 0.
  size_t Below(size_t n) { return n <= 256 ? Byte() % n : U32() % n; }

  // Up to max_len bytes: a length byte, then that many bytes (fewer at the end).
  std::string_view Bytes(size_t max_len) {
    const size_t want = max_len == 0 ? 0 : Byte() % (max_len + 1);
    return Take(want);
  }
  // Exactly n bytes, or fewer at the end of the input.
  std::string_view Take(size_t n) {
    if (n > remaining()) n = remaining();
    std::string_view out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  // Everything left.
  std::string_view Rest() { return Take(remaining()); }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Splits `s` at every `sep` byte (empty pieces kept).
template <typename Fn>
void SplitOn(std::string_view s, char sep, Fn&& fn) {
  while (true) {
    const size_t at = s.find(sep);
    if (at == std::string_view::npos) {
      fn(s);
      return;
    }
    fn(s.substr(0, at));
    s.remove_prefix(at + 1);
  }
}

[[noreturn]] inline void Fail(const char* file, int line, const char* what) {
  std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
  std::abort();
}

}  // namespace memento::fuzz

// A property every input must satisfy. Unlike assert() it stays on in release builds,
// and it aborts, which libFuzzer reports as a crash with the input saved.
#define FUZZ_CHECK(cond)                                                 \
  do {                                                                   \
    if (!(cond)) ::memento::fuzz::Fail(__FILE__, __LINE__, #cond);       \
  } while (0)
