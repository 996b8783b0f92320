// Test helpers shared by the WAL's tests: a temporary directory, raw file edits
// (the verbs of leveldb's db/log_test.cc, on real files), and a Reporter that
// remembers what recovery dropped. Header-only; tests only.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "storage/wal/file.h"
#include "storage/wal/log_reader.h"
#include "storage/wal/wal.h"

namespace memento::wal::testing_util {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/memento-wal-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

inline uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

inline bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

inline void IncrementByte(const std::string& path, uint64_t offset, int delta) {
  std::string s = ReadFile(path);
  ASSERT_LT(offset, s.size());
  s[offset] = static_cast<char>(s[offset] + delta);
  WriteFile(path, s);
}

inline void ShrinkTo(const std::string& path, uint64_t size) {
  std::filesystem::resize_file(path, size);
}

inline void AppendBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Names in dir, sorted.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Offsets of the records of a segment file, read with the real reader.
inline std::vector<uint64_t> RecordOffsets(const std::string& path) {
  std::vector<uint64_t> offsets;
  Result<std::unique_ptr<RandomAccessFile>> file = PosixFileSystem()->NewRandomAccessFile(path);
  if (!file.ok()) return offsets;
  Reader reader(file->get(), FileSize(path), path);
  SegmentHeader header;
  if (!reader.ReadHeader(&header).ok()) return offsets;
  Reader::Record record;
  while (reader.ReadRecord(&record)) offsets.push_back(record.offset);
  return offsets;
}

struct Drop {
  std::string file;
  uint64_t offset;
  uint64_t bytes;
  std::string reason;
};

class CollectingReporter final : public Reporter {
 public:
  void Dropped(const std::string& file, uint64_t offset, uint64_t bytes,
               const Status& reason) override {
    drops.push_back(Drop{file, offset, bytes, reason.ToString()});
  }
  std::vector<Drop> drops;
};

// Contains `needle`, with the haystack in the failure message.
inline ::testing::AssertionResult Contains(std::string_view haystack, std::string_view needle) {
  if (haystack.find(needle) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << haystack << "\" does not contain \"" << needle
                                       << "\"";
}

}  // namespace memento::wal::testing_util
