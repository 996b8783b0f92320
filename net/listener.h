// Listener: the one listening TCP socket of a Server.
//
// Binds without SO_REUSEPORT on purpose, so a second daemon on the same port fails
// with Busy instead of silently sharing (and splitting) the port's connections.
// SO_REUSEADDR is set so a restart does not wait for old TIME_WAIT sockets.
//
// Thread-safety: Accept() may be called from one thread at a time; the Listener must
// outlive any such call.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "net/socket_util.h"

namespace memento::net {

// One accepted client socket: already non-blocking, close-on-exec, TCP_NODELAY.
struct AcceptedSocket {
  UniqueFd fd;
  std::string peer;       // "127.0.0.1:53422"
  bool loopback = false;  // the peer's address is a loopback one (protected mode)
};

// True for 127.0.0.0/8, ::1 and IPv4-mapped 127.x.y.z (::ffff:127.0.0.1).
bool IsLoopbackAddress(const SocketAddress& address);

class Listener {
 public:
  enum class AcceptStatus {
    kAccepted,       // *out holds a new connection
    kWouldBlock,     // no pending connection; wait for the socket to be readable
    kRetry,          // a transient failure (the client gave up, a signal); call again
    kResourceLimit,  // out of fds or memory; back off for a while before retrying
  };

  // Binds and listens on `address` ("127.0.0.1:6737" once formatted).
  // Errors: Busy when the address is in use, IOError for any other failure.
  static Result<Listener> Open(const SocketAddress& address);

  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;

  int fd() const { return fd_.get(); }
  // The port actually bound (the kernel's pick when asked for port 0).
  uint16_t port() const { return port_; }
  // The bound address, formatted: "127.0.0.1:6737".
  const std::string& address() const { return address_; }

  // Accepts one pending connection without blocking.
  AcceptStatus Accept(AcceptedSocket* out);
  // Closes the socket: new connection attempts are refused from now on.
  void Close() { fd_.Reset(); }

 private:
  Listener(UniqueFd fd, uint16_t port, std::string address)
      : fd_(std::move(fd)), port_(port), address_(std::move(address)) {}

  UniqueFd fd_;
  uint16_t port_ = 0;
  std::string address_;
};

}  // namespace memento::net
