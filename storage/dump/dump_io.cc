#include "storage/dump/dump_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace memento::dump {

Result<size_t> StringSource::Read(char* dst, size_t n) {
  const size_t take = std::min(n, data_.size() - pos_);
  if (take != 0) std::memcpy(dst, data_.data() + pos_, take);
  pos_ += take;
  return take;
}

Status FdSink::Append(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write " + name_ + " at byte offset " + std::to_string(bytes_),
                               errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    bytes_ += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

FdSource::FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  struct stat st;
  if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<uint64_t>(st.st_size);
}

Result<size_t> FdSource::Read(char* dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd_, dst + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + name_, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace memento::dump
