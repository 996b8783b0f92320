// Small POSIX socket helpers for net/: an owning fd, address parsing and formatting.
//
// Everything here reports failures as values (Status/Result) and never throws.
// Thread-safety: free functions are thread-safe; a UniqueFd is a value owned by one
// thread at a time.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace memento::net {

// Owns one file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership; the caller must close the returned fd.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the current fd (if any) and takes ownership of `fd`.
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// A socket address with its length, as bind/accept/getsockname use it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};

// Builds the address to listen on. `host` is an IPv4 literal ("127.0.0.1"), an IPv6
// literal ("::1", without brackets) or "localhost" (taken as 127.0.0.1; no resolver
// is consulted, so start-up never blocks on DNS). Errors: InvalidArgument.
Result<SocketAddress> ParseListenAddress(std::string_view host, uint16_t port);

// "127.0.0.1:6737", or "[::1]:6737" for IPv6 (brackets keep the port unambiguous).
// Returns "?" for an address family other than IPv4/IPv6.
std::string FormatAddress(const SocketAddress& address);

// The port of an IPv4/IPv6 address (0 for other families).
uint16_t AddressPort(const SocketAddress& address);

}  // namespace memento::net
