#include "net/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "common/logging.h"

namespace memento::net {

namespace {

// The kernel caps this at net.core.somaxconn.
constexpr int kListenBacklog = 511;

}  // namespace

bool IsLoopbackAddress(const SocketAddress& address) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&address.storage);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

Result<Listener> Listener::Open(const SocketAddress& address) {
  const std::string where = FormatAddress(address);
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno("socket for " + where, errno);

  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Status::FromErrno("setsockopt(SO_REUSEADDR) on " + where, errno);
  }
  if (::bind(fd.get(), address.get(), address.length) != 0) {
    if (errno == EADDRINUSE) {
      return Status::Busy(where + " is already in use (is another memento running?)");
    }
    return Status::FromErrno("bind " + where, errno);
  }
  if (::listen(fd.get(), kListenBacklog) != 0) {
    // Two sockets may bind the same port with SO_REUSEADDR while neither listens;
    // the loser of that race learns about it here.
    if (errno == EADDRINUSE) {
      return Status::Busy(where + " is already in use (is another memento running?)");
    }
    return Status::FromErrno("listen on " + where, errno);
  }

  SocketAddress bound;
  bound.length = sizeof(bound.storage);
  if (::getsockname(fd.get(), bound.get(), &bound.length) != 0) {
    return Status::FromErrno("getsockname on " + where, errno);
  }
  return Listener(std::move(fd), AddressPort(bound), FormatAddress(bound));
}

Listener::AcceptStatus Listener::Accept(AcceptedSocket* out) {
  SocketAddress peer;
  peer.length = sizeof(peer.storage);
  int fd = ::accept4(fd_.get(), peer.get(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    switch (errno) {
      case EAGAIN:
        return AcceptStatus::kWouldBlock;
      case EMFILE:
      case ENFILE:
      case ENOBUFS:
      case ENOMEM:
        log::Warning("accept on %s: %s; pausing accepts (raise the fd limit?)", address_.c_str(),
                     std::strerror(errno));
        return AcceptStatus::kResourceLimit;
      default:
        // ECONNABORTED, EINTR, EPROTO, network errors already pending on the new
        // socket (accept(2) "Error handling"): none concern the listener itself.
        return AcceptStatus::kRetry;
    }
  }
  out->fd.Reset(fd);
  // Replies are written whole, once per loop iteration, so Nagle would only add
  // latency to small replies.
  int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  out->peer = FormatAddress(peer);
  out->loopback = IsLoopbackAddress(peer);
  return AcceptStatus::kAccepted;
}

}  // namespace memento::net
