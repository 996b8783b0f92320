// Network interfaces for tests that need a peer address other than loopback (protected
// mode). Header-only, so module tests can include it without linking tests/util.
#pragma once

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <optional>

namespace memento::testing_util {

// The first IPv4 address of an interface that is up and not loopback, in network
// byte order; nullopt if the machine has none.
inline std::optional<in_addr_t> NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<in_addr_t> found;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const in_addr_t address = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr;
    if ((ntohl(address) >> 24) != 127) found = address;
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace memento::testing_util
