#include "tests/util/wal_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace memento::testing {
namespace {

namespace fs = std::filesystem;

uint64_t LoadLe(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// `NNNNNNNN.wal`: at least 8 digits, then ".wal" (docs/formats/wal.md "Files").
bool IsSegmentName(const std::string& name) {
  if (name.size() < 12 || name.compare(name.size() - 4, 4, ".wal") != 0) return false;
  return std::all_of(name.begin(), name.end() - 4, [](char c) { return c >= '0' && c <= '9'; });
}

bool PreadAll(int fd, uint64_t offset, size_t n, unsigned char* out) {
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, out + done, n - done, static_cast<off_t>(offset + done));
    if (got <= 0) return false;
    done += static_cast<size_t>(got);
  }
  return true;
}

}  // namespace

std::vector<std::string> WalSegments(const std::string& data_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(data_dir + "/wal", ec)) {
    std::string name = e.path().filename().string();
    if (IsSegmentName(name)) names.push_back(name);
  }
  // Equal-width zero-padded numbers sort as strings; a wider one is a larger number.
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  std::vector<std::string> paths;
  for (const std::string& n : names) paths.push_back(data_dir + "/wal/" + n);
  return paths;
}

std::string NewestWalSegment(const std::string& data_dir) {
  std::vector<std::string> segments = WalSegments(data_dir);
  return segments.empty() ? "" : segments.back();
}

std::vector<WalRecordExtent> ListWalRecords(const std::string& path) {
  std::vector<WalRecordExtent> records;
  const int64_t size = FileSize(path);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || size < 0) {
    if (fd >= 0) ::close(fd);
    return records;
  }
  uint64_t offset = kWalSegmentHeaderBytes;
  unsigned char header[kWalRecordHeaderBytes];
  while (offset + kWalRecordHeaderBytes <= static_cast<uint64_t>(size)) {
    if (!PreadAll(fd, offset, sizeof(header), header)) break;
    const uint64_t length = LoadLe(header + 4, 4);
    const uint64_t record_size = kWalRecordHeaderBytes + length;
    if (offset + record_size > static_cast<uint64_t>(size)) break;
    records.push_back({offset, record_size, LoadLe(header + 8, 8)});
    offset += record_size;
  }
  ::close(fd);
  return records;
}

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  uintmax_t size = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

bool TruncateFileTo(const std::string& path, uint64_t size) {
  return ::truncate(path.c_str(), static_cast<off_t>(size)) == 0;
}

bool AppendToFile(const std::string& path, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 && done == bytes.size();
}

bool FlipByte(const std::string& path, uint64_t offset, uint8_t mask) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char byte = 0;
  bool ok = PreadAll(fd, offset, 1, &byte);
  byte = static_cast<unsigned char>(byte ^ mask);
  ok = ok && ::pwrite(fd, &byte, 1, static_cast<off_t>(offset)) == 1;
  return ::close(fd) == 0 && ok;
}

bool CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  return !ec;
}

}  // namespace memento::testing
