// Server::Impl wires the pieces: one Listener, one acceptor thread that hands
// accepted sockets to the EventLoops round-robin, and the per-loop counters that
// Stats() sums.
//
// Why a dedicated acceptor thread instead of accepting on loop 0: accepting never
// competes with loop 0's clients for its thread, every loop is alike, and stopping
// the intake at Shutdown() is just stopping one thread. The price is one mostly idle
// thread. SO_REUSEPORT with one listener per loop was rejected: it would let a
// second daemon bind the same port silently (see listener.h).
//
// The acceptor also refuses connections (max_clients, protected mode) before any
// loop sees them: a refusal costs one send and one close, and a flood of them does
// not touch the loops serving the admitted clients.
#include "net/server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/logging.h"
#include "net/counters.h"
#include "net/event_loop.h"
#include "net/listener.h"
#include "net/socket_util.h"

namespace memento::net {

namespace {

// Accepts per wakeup of the acceptor, so a flood of connections still lets it notice
// a stop request.
constexpr int kMaxAcceptsPerWakeup = 64;
// How long to stop accepting after running out of fds or memory.
constexpr int kAcceptBackoffMs = 100;

}  // namespace

class Server::Impl {
 public:
  Impl(ServerOptions options, CommandHandler* handler)
      : options_(std::move(options)),
        handler_(handler),
        counters_(static_cast<size_t>(std::max(options_.threads, 1))) {}

  ~Impl() = default;  // REQUIRES: Shutdown() has run if Start() succeeded

  Status Start();
  uint16_t port() const {
    assert(listener_.has_value());
    return port_;
  }
  void Shutdown(int drain_ms);
  ServerStats Stats() const;

 private:
  void AcceptLoop();
  // Connections handed to a loop and not yet closed.
  uint64_t OpenConnections(uint64_t handed_off) const;
  // Sends `message` (best effort) and closes the socket; counts it as rejected.
  void Reject(AcceptedSocket socket, std::string_view message, const char* why);

  const ServerOptions options_;
  CommandHandler* const handler_;
  // One block per loop, allocated up front so Stats() never races with Start().
  std::vector<LoopCounters> counters_;
  std::atomic<uint64_t> total_connections_{0};
  std::atomic<uint64_t> rejected_connections_{0};

  // Owned by the controlling thread (Start/Shutdown).
  bool started_ = false;
  bool running_ = false;
  uint16_t port_ = 0;
  bool bound_loopback_ = false;  // the listening address is a loopback one
  std::optional<Listener> listener_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  UniqueFd acceptor_wake_fd_;
  std::thread acceptor_;
};

Status Server::Impl::Start() {
  if (started_) return Status::InvalidArgument("Server::Start called twice");
  if (options_.threads < 1) {
    return Status::InvalidArgument("threads must be at least 1, got " +
                                   std::to_string(options_.threads));
  }
  if (handler_ == nullptr) return Status::InvalidArgument("Server needs a CommandHandler");
  if (options_.max_clients < 1) return Status::InvalidArgument("max_clients must be at least 1");

  MEMENTO_ASSIGN_OR_RETURN(const SocketAddress address,
                           ParseListenAddress(options_.host, options_.port));
  MEMENTO_ASSIGN_OR_RETURN(Listener listener, Listener::Open(address));

  std::vector<std::unique_ptr<EventLoop>> loops;
  for (int i = 0; i < options_.threads; ++i) {
    auto loop = std::make_unique<EventLoop>(i, options_, handler_, &counters_[i]);
    MEMENTO_RETURN_IF_ERROR(loop->Init());
    loops.push_back(std::move(loop));
  }
  UniqueFd wake_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd.valid()) return Status::FromErrno("eventfd for the acceptor", errno);

  // Nothing can fail from here on.
  started_ = true;
  running_ = true;
  port_ = listener.port();
  bound_loopback_ = IsLoopbackAddress(address);
  listener_.emplace(std::move(listener));
  loops_ = std::move(loops);
  acceptor_wake_fd_ = std::move(wake_fd);
  for (auto& loop : loops_) loop->Start();
  acceptor_ = std::thread([this] { AcceptLoop(); });
  log::Info("Listening on %s with %d event loop(s)", listener_->address().c_str(),
            options_.threads);
  if (options_.protected_mode && !bound_loopback_ && !handler_->AuthRequired()) {
    log::Warning("protected mode: no password is set, so clients from other hosts are refused "
                 "(set a password, or see docs/security.md)");
  }
  return Status::OK();
}

uint64_t Server::Impl::OpenConnections(uint64_t handed_off) const {
  uint64_t closed = 0;
  for (const LoopCounters& c : counters_) {
    closed += c.closed_connections.load(std::memory_order_relaxed);
  }
  // Every closed connection was handed off first, and `closed` was read after
  // `handed_off` was counted, so this cannot wrap.
  return handed_off - closed;
}

void Server::Impl::Reject(AcceptedSocket socket, std::string_view message, const char* why) {
  rejected_connections_.fetch_add(1, std::memory_order_relaxed);
  log::Debug("refused client %s: %s", socket.peer.c_str(), why);
  // As Redis: one non-blocking send, which fits in a new socket's empty buffer,
  // then close. Whatever the client already sent is read first (a bounded amount),
  // so that close() sends FIN rather than a reset that could destroy the message.
  (void)!::send(socket.fd.get(), message.data(), message.size(), MSG_NOSIGNAL);
  char scratch[4096];
  for (int i = 0; i < 16 && ::recv(socket.fd.get(), scratch, sizeof(scratch), 0) > 0; ++i) {
  }
  socket.fd.Reset();
}

void Server::Impl::AcceptLoop() {
  uint64_t next_id = 1;
  size_t next_loop = 0;
  bool backing_off = false;
  for (;;) {
    pollfd fds[2] = {};
    // A negative fd is ignored by poll(): that is how the backoff waits only for
    // the stop signal.
    fds[0].fd = backing_off ? -1 : listener_->fd();
    fds[0].events = POLLIN;
    fds[1].fd = acceptor_wake_fd_.get();
    fds[1].events = POLLIN;
    int n = ::poll(fds, 2, backing_off ? kAcceptBackoffMs : -1);
    if (n < 0 && errno != EINTR) {
      log::Error("acceptor: poll: %s; no longer accepting", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;  // Shutdown()
    backing_off = false;
    if (fds[0].revents == 0) continue;

    for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
      AcceptedSocket socket;
      Listener::AcceptStatus status = listener_->Accept(&socket);
      if (status == Listener::AcceptStatus::kWouldBlock) break;
      if (status == Listener::AcceptStatus::kRetry) continue;
      if (status == Listener::AcceptStatus::kResourceLimit) {
        // The listener stays readable, so retrying at once would spin; pending
        // clients wait in the backlog until fds free up.
        backing_off = true;
        break;
      }
      if (OpenConnections(next_id - 1) >= options_.max_clients) {
        Reject(std::move(socket), kMaxClientsError, "max number of clients reached");
        continue;
      }
      // Read per connection, not once: CONFIG SET requirepass can change it.
      if (options_.protected_mode && !bound_loopback_ && !socket.loopback &&
          !handler_->AuthRequired()) {
        Reject(std::move(socket), kProtectedModeError, "protected mode");
        continue;
      }
      total_connections_.fetch_add(1, std::memory_order_relaxed);
      log::Debug("accepted client %s as #%llu", socket.peer.c_str(),
                 static_cast<unsigned long long>(next_id));
      loops_[next_loop]->AddConnection(std::move(socket), next_id++);
      next_loop = (next_loop + 1) % loops_.size();
    }
  }
}

void Server::Impl::Shutdown(int drain_ms) {
  if (!running_) return;
  running_ = false;

  // 1. Stop the intake: no new connections reach any loop after the join.
  uint64_t one = 1;
  (void)!::write(acceptor_wake_fd_.get(), &one, sizeof(one));
  acceptor_.join();
  listener_->Close();

  // 2. Every loop stops executing, flushes what is queued until the shared deadline,
  // closes its connections and exits.
  const int64_t deadline_us = MonotonicMicros() + int64_t{std::max(drain_ms, 0)} * 1000;
  for (auto& loop : loops_) loop->RequestStop(deadline_us);
  for (auto& loop : loops_) loop->Join();
  log::Info("Server stopped");
}

ServerStats Server::Impl::Stats() const {
  ServerStats stats;
  stats.total_connections = total_connections_.load(std::memory_order_relaxed);
  stats.rejected_connections = rejected_connections_.load(std::memory_order_relaxed);
  for (const LoopCounters& c : counters_) {
    stats.connected_clients += c.connected_clients.load(std::memory_order_relaxed);
    stats.total_commands += c.total_commands.load(std::memory_order_relaxed);
    stats.protocol_errors += c.protocol_errors.load(std::memory_order_relaxed);
    stats.query_limit_disconnections +=
        c.query_limit_disconnections.load(std::memory_order_relaxed);
    stats.output_limit_disconnections +=
        c.output_limit_disconnections.load(std::memory_order_relaxed);
    stats.idle_disconnections += c.idle_disconnections.load(std::memory_order_relaxed);
    stats.deferred_replies_dropped +=
        c.deferred_replies_dropped.load(std::memory_order_relaxed);
    stats.net_input_bytes += c.net_input_bytes.load(std::memory_order_relaxed);
    stats.net_output_bytes += c.net_output_bytes.load(std::memory_order_relaxed);
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options, CommandHandler* handler)
    : impl_(std::make_unique<Impl>(std::move(options), handler)) {}

// Shutdown() with its default drain, as server.h promises; a no-op if never started
// or already shut down.
Server::~Server() { Shutdown(); }

Status Server::Start() { return impl_->Start(); }

uint16_t Server::port() const { return impl_->port(); }

void Server::Shutdown(int drain_ms) { impl_->Shutdown(drain_ms); }

ServerStats Server::Stats() const { return impl_->Stats(); }

}  // namespace memento::net
