#include "net/socket_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>

namespace memento::net {

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) {
    // POSIX leaves the fd state unspecified after EINTR; on Linux it is always
    // closed, so retrying would risk closing an fd another thread just opened.
    ::close(fd_);
  }
  fd_ = fd;
}

Result<SocketAddress> ParseListenAddress(std::string_view host, uint16_t port) {
  std::string text(host == "localhost" ? std::string_view("127.0.0.1") : host);
  SocketAddress address;

  sockaddr_in v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&address.storage, &v4, sizeof(v4));
    address.length = sizeof(v4);
    return address;
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    std::memcpy(&address.storage, &v6, sizeof(v6));
    address.length = sizeof(v6);
    return address;
  }
  return Status::InvalidArgument("bind address \"" + text +
                                 "\" is not an IPv4/IPv6 literal or \"localhost\"");
}

std::string FormatAddress(const SocketAddress& address) {
  char ip[INET6_ADDRSTRLEN] = {};
  if (address.family() == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &address.storage, sizeof(v4));
    ::inet_ntop(AF_INET, &v4.sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(v4.sin_port));
  }
  if (address.family() == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &address.storage, sizeof(v6));
    ::inet_ntop(AF_INET6, &v6.sin6_addr, ip, sizeof(ip));
    return "[" + std::string(ip) + "]:" + std::to_string(ntohs(v6.sin6_port));
  }
  return "?";
}

uint16_t AddressPort(const SocketAddress& address) {
  if (address.family() == AF_INET) {
    sockaddr_in v4;
    std::memcpy(&v4, &address.storage, sizeof(v4));
    return ntohs(v4.sin_port);
  }
  if (address.family() == AF_INET6) {
    sockaddr_in6 v6;
    std::memcpy(&v6, &address.storage, sizeof(v6));
    return ntohs(v6.sin6_port);
  }
  return 0;
}

}  // namespace memento::net
