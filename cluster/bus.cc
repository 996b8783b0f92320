// The cluster bus: one thread, one epoll set (level-triggered), a listening socket,
// one dialled connection per peer and the connections peers dialled to us.
//
// Connections: one per direction. A dials B for A's requests (A sends HELLO, REQUEST,
// PING; B answers HELLO_ACK or REFUSE, REPLY, PONG) and B dials A for B's. The
// alternative, one shared connection per pair, needs a tie-break when both dial at
// once and mixes the two roles on one socket; with one per direction each socket has
// one role, and a link is "up" when our dialled connection has finished its
// handshake. The cost is two sockets per pair.
//
// Why one thread and not two (a reader and an executor): the executor runs commands
// that are quick (the daemon's shard locks, no disk wait but Commit), and keeping
// socket I/O and execution on one thread keeps the order of replies per connection
// and the batch-then-Commit barrier trivial. A slow Commit delays heartbeats by its
// duration; link_timeout_ms (1.5 s) is far above an fsync.
//
// Timers: request timeouts all have the same length, so requests in issue order are
// in deadline order: a FIFO of (deadline, node, id) is the deadline-ordered structure
// (EventLoop's lingering deque is the same idea); entries whose request was already
// answered are skipped. Heartbeats, link timeouts and redials are per peer and few,
// checked at each loop turn; epoll_wait sleeps until the next request deadline or a
// short tick (at most 50 ms, at most half the heartbeat interval).
//
// Handshake (version 2): HELLO (dialler's nonce) -> CHALLENGE (acceptor's nonce) ->
// AUTH (dialler's proof) -> HELLO_ACK (acceptor's proof) or REFUSE. The dialler proves
// first, so a stranger who reaches the bus port learns no proof at all (nothing to
// test guessed secrets against offline); only a node that a peer dials (one at a
// configured peer address) sees a dialler's proof. Each proof covers both nonces, both
// names and its role (bus_auth.h BusProof): a recorded proof is worthless on a new
// connection (new nonce) and a proof cannot be sent back as the other role's.
//
// Frames (docs/formats/cluster-bus.md) are cut from each connection's input buffer by
// DecodeFrame (bus_codec.h), never assuming one recv() is one frame; output is queued
// in the connection's buffer and written as the socket accepts it (EPOLLOUT).

#include "cluster/bus.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "cluster/bus_auth.h"
#include "cluster/bus_codec.h"
#include "cluster/bus_format.h"
#include "cluster/reply_record.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/mutex.h"
#include "net/listener.h"
#include "net/socket_util.h"

namespace memento::cluster {

namespace {

constexpr uint64_t kWakeToken = 0;
constexpr uint64_t kListenToken = 1;
constexpr uint64_t kFirstConnToken = 2;
constexpr size_t kReadChunk = 64 * 1024;
// Per readiness event; level-triggered epoll reports the socket again if more waits.
constexpr size_t kMaxReadPerEvent = 4 * 1024 * 1024;
// Until its handshake is done a connection may only send a small frame: a stranger
// announcing a large frame is closed at its header.
constexpr uint64_t kMaxHandshakeFrame = 64 * 1024;
// Accepted connections that have not finished the handshake, at most; more are
// closed at once (a flood of idle connections cannot starve the peers).
constexpr size_t kMaxUnidentified = 256;
// Writing this much in one go counts as a sign of life from the peer (Flush).
constexpr size_t kProgressBytes = 64 * 1024;

std::string Sanitized(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

// ----------------------------------------------------------------------------------
// Impl: state
// ----------------------------------------------------------------------------------

class Bus::Impl {
 public:
  Impl(BusOptions options, ForwardedExecutor* executor)
      : options_(std::move(options)), executor_(executor) {}
  ~Impl() { Stop(); }

  Status Init();
  void Stop();
  void Forward(int node, net::Dialect dialect, std::span<const std::string_view> argv,
               ForwardCallback done);
  bool IsFormed() const;
  bool LinkUp(int node) const;
  BusStats Stats() const;
  const SlotMap& map() const { return *options_.map; }
  int self_index() const { return self_; }

 private:
  enum class ConnState {
    kConnecting,  // dialled: non-blocking connect in progress
    kHandshake,   // dialled: HELLO sent; accepted: waiting for HELLO
    kAuth,        // dialled: AUTH sent, waiting for HELLO_ACK; accepted: CHALLENGE sent
    kUp,          // handshake done
    kClosing,     // accepted: REFUSE queued; closed once written
  };

  struct Conn {
    uint64_t token = 0;
    net::UniqueFd fd;
    bool dialled = false;
    int peer = -1;  // node index; accepted: -1 until its HELLO names it
    std::string remote;  // address for log lines
    ConnState state = ConnState::kHandshake;
    std::string in;
    std::string out;
    size_t out_off = 0;
    bool want_write = false;  // EPOLLOUT registered
    bool closed = false;
    int64_t started_us = 0;
    int64_t last_heard_us = 0;  // last sign of life: bytes received, or sent
    int64_t next_ping_us = 0;
    std::string nonce;       // ours on this connection (HELLO or CHALLENGE)
    std::string peer_nonce;  // the peer's
    int claimed = -1;        // accepted, kAuth: the node its HELLO named (not proven yet)
  };

  struct Peer {
    std::string name;
    std::string address;  // host:bus_port
    net::SocketAddress sockaddr;
    Conn* dialled = nullptr;   // our connection to it (any state), or null
    Conn* accepted = nullptr;  // its identified connection to us, or null
    bool up = false;
    int64_t redial_at_us = 0;
    int64_t backoff_ms = 0;
    // A refusal is logged once per state change, not at every redial.
    bool refused_logged = false;   // by it, on our dialled connection
    bool refusing_logged = false;  // by us, on its connection
    std::string last_failure;  // why the link is down, for error messages
    std::unordered_map<uint64_t, ForwardCallback> pending;  // by request id
  };

  struct Queued {
    int node = -1;
    uint64_t id = 0;
    std::string frame;
    Status error;  // not OK: fail at once with it
    ForwardCallback done;
  };

  struct Expiry {
    int64_t deadline_us;
    int node;
    uint64_t id;
  };

  // Bus thread.
  void Run();
  void DrainQueue(int64_t now_us);
  void Shutdown();
  void AcceptAll(int64_t now_us);
  void OnConnEvent(Conn* conn, uint32_t events, int64_t now_us);
  // Reads what the socket holds; false if the connection got closed.
  bool ReadSome(Conn* conn, int64_t now_us, bool* eof);
  void ProcessDialled(Conn* conn, int64_t now_us);
  void ProcessAccepted(Conn* conn, int64_t now_us);
  void OnHello(Conn* conn, const Frame& frame);
  void OnAuth(Conn* conn, const Frame& frame);
  void OnHandshakeAnswer(Conn* conn, const Frame& frame, int64_t now_us);
  void OnChallenge(Conn* conn, const Handshake& h, int64_t now_us);
  void OnHelloAck(Conn* conn, const Handshake& h, int64_t now_us);
  // *proof = BusProof of `role` on `conn` (dialled or accepted); false if libcrypto
  // failed (logged).
  bool Proof(const Conn& conn, BusRole role, std::string* proof);
  void LogAuthRefusal(const std::string& peer, const std::string& address);
  void Refuse(Conn* conn, const std::string& to, const std::string& reason);
  void Dial(int node, int64_t now_us);
  void ConnectDone(Conn* conn, int64_t now_us);
  void LinkUpNow(int node, int64_t now_us);
  // Closes our dialled connection to `node` (if any), fails its requests in flight and
  // schedules the redial.
  void LinkDown(int node, const std::string& why, int64_t now_us);
  void CloseConn(Conn* conn, const std::string& why);
  void RunTimers(int64_t now_us);
  int NextTimeoutMs(int64_t now_us) const;
  void Send(Conn* conn, std::string frame);
  void Flush(Conn* conn);
  void FlushAll();
  void SetWantWrite(Conn* conn, bool want);
  Conn* AddConn(net::UniqueFd fd, bool dialled, uint32_t events, int64_t now_us);
  void Fail(int node, ForwardCallback& done, Status error);
  void UpdateFormed();
  void NoteMismatch(int node, bool mismatch);
  void NoteAuthFailed(int node, bool failed);
  void NoteHeard(int node);
  uint64_t MaxFrame() const;

  const BusOptions options_;
  ForwardedExecutor* const executor_;
  int self_ = -1;
  std::string self_name_;
  std::string digest_;
  std::optional<net::Listener> listener_;
  net::UniqueFd epoll_fd_;
  net::UniqueFd wake_fd_;
  std::thread thread_;
  std::atomic<uint64_t> next_id_{1};

  // Forward() -> bus thread.
  mutable Mutex queue_mu_;
  std::vector<Queued> queue_ MEMENTO_GUARDED_BY(queue_mu_);
  bool accepting_ MEMENTO_GUARDED_BY(queue_mu_) = true;
  bool stop_requested_ MEMENTO_GUARDED_BY(queue_mu_) = false;

  // What IsFormed/LinkUp/Stats read; written by the bus thread.
  mutable Mutex stats_mu_;
  bool formed_ MEMENTO_GUARDED_BY(stats_mu_) = false;
  std::vector<PeerStats> stats_ MEMENTO_GUARDED_BY(stats_mu_);  // by node index

  // Bus-thread state.
  std::vector<Peer> peers_;  // by node index; self's entry unused
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;  // closed this turn, freed at its end
  uint64_t next_token_ = kFirstConnToken;
  int64_t protected_logged_us_ = -1;  // last "protected mode" refusal logged
  std::deque<Expiry> expiries_;
  bool formed_local_ = false;
  std::mutex join_mu_;  // Stop() from the controlling thread (and the destructor)
};

// ----------------------------------------------------------------------------------
// Start, Stop and the calls from other threads
// ----------------------------------------------------------------------------------

Status Bus::Impl::Init() {
  if (options_.map == nullptr) return Status::InvalidArgument("cluster bus: no slot map");
  const SlotMap& map = *options_.map;
  self_ = map.IndexOf(options_.self);
  if (self_ < 0) {
    return Status::InvalidArgument("cluster bus: this node \"" + options_.self +
                                   "\" is not in the cluster's node list");
  }
  if (options_.request_timeout_ms <= 0 || options_.heartbeat_interval_ms <= 0 ||
      options_.link_timeout_ms <= 0 || options_.redial_min_ms <= 0 ||
      options_.redial_max_ms < options_.redial_min_ms) {
    return Status::InvalidArgument(
        "cluster bus: timeouts must be > 0 and redial_min_ms <= redial_max_ms");
  }
  if (options_.max_frame_bytes < kMaxHandshakeFrame) {
    return Status::InvalidArgument("cluster bus: max_frame_bytes below " +
                                   std::to_string(kMaxHandshakeFrame));
  }
  self_name_ = options_.self;
  digest_ = map.Digest();

  const auto& nodes = map.nodes();
  peers_.resize(nodes.size());
  {
    MutexLock lock(&stats_mu_);
    stats_.resize(nodes.size());
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    Peer& peer = peers_[i];
    peer.name = nodes[i].name;
    peer.address = nodes[i].host + ":" + std::to_string(nodes[i].bus_port);
    peer.backoff_ms = options_.redial_min_ms;
    Result<net::SocketAddress> addr = net::ParseListenAddress(nodes[i].host, nodes[i].bus_port);
    if (!addr.ok()) {
      return Status::InvalidArgument("cluster node \"" + nodes[i].name +
                                     "\": " + std::string(addr.status().message()) +
                                     " (the cluster bus does not resolve host names)");
    }
    peer.sockaddr = *addr;
    MutexLock lock(&stats_mu_);
    stats_[i].name = peer.name;
    stats_[i].address = peer.address;
  }

  Result<net::Listener> listener = net::Listener::Open(peers_[self_].sockaddr);
  if (!listener.ok()) {
    const Status& s = listener.status();
    const std::string what = "cluster bus of node \"" + self_name_ + "\": ";
    if (s.IsBusy()) return Status::Busy(what + std::string(s.message()));
    return Status::IOError(what + std::string(s.message()));
  }
  listener_.emplace(std::move(*listener));

  epoll_fd_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return Status::FromErrno("cluster bus: epoll_create1", errno);
  wake_fd_.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd_.valid()) return Status::FromErrno("cluster bus: eventfd", errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeToken;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev) != 0) {
    return Status::FromErrno("cluster bus: epoll_ctl(ADD) for the eventfd", errno);
  }
  ev.data.u64 = kListenToken;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, listener_->fd(), &ev) != 0) {
    return Status::FromErrno("cluster bus: epoll_ctl(ADD) for the listener", errno);
  }
  log::Info("Cluster bus of node %s bound to %s (digest %s, %zu nodes, protocol version %u)",
            self_name_.c_str(), listener_->address().c_str(), digest_.c_str(), nodes.size(),
            static_cast<unsigned>(kBusProtocolVersion));
  if (options_.secret.empty() && !net::IsLoopbackAddress(peers_[self_].sockaddr)) {
    if (!options_.protected_mode) {
      log::Warning("cluster bus: no cluster secret (cluster.secret or server.requirepass) and "
                   "protected mode is off: any host that reaches %s can run commands on this "
                   "node (see docs/security.md)",
                   listener_->address().c_str());
    } else {
      log::Warning("cluster bus: protected mode: no cluster secret is set (cluster.secret or "
                   "server.requirepass), so bus connections from other hosts are refused "
                   "(set cluster.secret on every node, see docs/security.md)");
    }
  }
  thread_ = std::thread([this] { Run(); });
  return Status::OK();
}

void Bus::Impl::Stop() {
  std::lock_guard<std::mutex> join_lock(join_mu_);
  {
    MutexLock lock(&queue_mu_);
    stop_requested_ = true;
  }
  if (wake_fd_.valid()) {
    uint64_t one = 1;
    (void)!::write(wake_fd_.get(), &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
}

void Bus::Impl::Forward(int node, net::Dialect dialect, std::span<const std::string_view> argv,
                        ForwardCallback done) {
  Queued q;
  q.node = node;
  q.done = std::move(done);
  const int n = static_cast<int>(peers_.size());
  if (node < 0 || node >= n || node == self_) {
    q.error = Status::InvalidArgument("cluster bus: cannot forward to node index " +
                                      std::to_string(node) + " (self is " +
                                      std::to_string(self_) + ", " + std::to_string(n) +
                                      " nodes)");
  } else if (argv.empty()) {
    q.error = Status::InvalidArgument("cluster bus: cannot forward an empty request");
  } else {
    uint64_t size = kFrameHeaderSize + 6;
    bool too_long = false;
    for (std::string_view arg : argv) {
      size += arg.size() + 5;
      too_long = too_long || arg.size() > UINT32_MAX;
    }
    if (too_long || size > MaxFrame()) {
      q.error = Status::IOError("cluster bus: request of about " + std::to_string(size) +
                                " bytes for node " + peers_[node].name +
                                " exceeds the frame limit (max_frame_bytes " +
                                std::to_string(options_.max_frame_bytes) + ")");
    } else {
      q.id = next_id_.fetch_add(1, std::memory_order_relaxed);
      q.frame = EncodeRequestFrame(q.id, dialect, argv);
    }
  }
  {
    MutexLock lock(&queue_mu_);
    if (accepting_) {
      queue_.push_back(std::move(q));
      q.done = nullptr;
    }
  }
  if (q.done) {
    // The bus thread is gone (Stop): nothing will ever run it there.
    q.done(Status::IOError("cluster bus of node " + self_name_ + " is stopped"));
    return;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

bool Bus::Impl::IsFormed() const {
  MutexLock lock(&stats_mu_);
  return formed_;
}

bool Bus::Impl::LinkUp(int node) const {
  MutexLock lock(&stats_mu_);
  if (node < 0 || node >= static_cast<int>(stats_.size()) || node == self_) return false;
  return stats_[node].link_up;
}

BusStats Bus::Impl::Stats() const {
  MutexLock lock(&stats_mu_);
  BusStats out;
  out.formed = formed_;
  for (size_t i = 0; i < stats_.size(); ++i) {
    if (static_cast<int>(i) != self_) out.peers.push_back(stats_[i]);
  }
  return out;
}

uint64_t Bus::Impl::MaxFrame() const {
  return std::min<uint64_t>(options_.max_frame_bytes, kFrameHeaderSize + uint64_t{UINT32_MAX});
}

// ----------------------------------------------------------------------------------
// The loop
// ----------------------------------------------------------------------------------

void Bus::Impl::Run() {
  UpdateFormed();  // a one-node cluster is formed at once
  epoll_event events[64];
  while (true) {
    const int timeout = NextTimeoutMs(MonotonicMicros());
    const int n = ::epoll_wait(epoll_fd_.get(), events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      log::Error("cluster bus: epoll_wait: %s", std::strerror(errno));
    }
    int64_t now = MonotonicMicros();
    for (int i = 0; i < n; ++i) {
      const uint64_t token = events[i].data.u64;
      if (token == kWakeToken) {
        uint64_t value;
        (void)!::read(wake_fd_.get(), &value, sizeof(value));
      } else if (token == kListenToken) {
        AcceptAll(now);
      } else {
        auto it = conns_.find(token);
        if (it != conns_.end()) OnConnEvent(it->second.get(), events[i].events, now);
      }
    }
    bool stop;
    {
      MutexLock lock(&queue_mu_);
      stop = stop_requested_;
    }
    if (stop) break;
    now = MonotonicMicros();
    DrainQueue(now);
    RunTimers(now);
    FlushAll();
    graveyard_.clear();
  }
  Shutdown();
}

void Bus::Impl::Shutdown() {
  std::vector<Queued> queued;
  {
    MutexLock lock(&queue_mu_);
    accepting_ = false;
    queued.swap(queue_);
  }
  const Status stopped = Status::IOError("cluster bus of node " + self_name_ + " is stopped");
  for (Queued& q : queued) Fail(q.node, q.done, q.error.ok() ? stopped : q.error);
  for (size_t i = 0; i < peers_.size(); ++i) {
    auto pending = std::move(peers_[i].pending);
    peers_[i].pending.clear();
    for (auto& [id, done] : pending) Fail(static_cast<int>(i), done, stopped);
  }
  std::vector<Conn*> all;
  for (auto& [token, conn] : conns_) all.push_back(conn.get());
  for (Conn* conn : all) CloseConn(conn, "bus stopped");
  graveyard_.clear();
  listener_.reset();
  for (Peer& peer : peers_) peer.up = false;
  MutexLock lock(&stats_mu_);
  formed_ = false;
  for (PeerStats& s : stats_) s.link_up = false;
}

int Bus::Impl::NextTimeoutMs(int64_t now_us) const {
  int64_t tick_ms = std::clamp<int64_t>(options_.heartbeat_interval_ms / 2, 1, 50);
  int64_t wait_us = tick_ms * 1000;
  if (!expiries_.empty()) {
    wait_us = std::min(wait_us, std::max<int64_t>(0, expiries_.front().deadline_us - now_us));
  }
  // Round up: waking a little late is fine, spinning on a 0 ms timeout is not.
  return static_cast<int>((wait_us + 999) / 1000);
}

void Bus::Impl::DrainQueue(int64_t now_us) {
  std::vector<Queued> batch;
  {
    MutexLock lock(&queue_mu_);
    batch.swap(queue_);
  }
  for (Queued& q : batch) {
    if (!q.error.ok()) {
      Fail(q.node, q.done, q.error);
      continue;
    }
    Peer& peer = peers_[q.node];
    {
      MutexLock lock(&stats_mu_);
      ++stats_[q.node].forwarded;
    }
    if (!peer.up) {
      Fail(q.node, q.done,
           Status::IOError("cluster link to " + peer.name + " (" + peer.address + ") is down" +
                           (peer.last_failure.empty() ? "" : ": " + peer.last_failure)));
      continue;
    }
    peer.pending.emplace(q.id, std::move(q.done));
    expiries_.push_back({now_us + options_.request_timeout_ms * 1000, q.node, q.id});
    Send(peer.dialled, std::move(q.frame));
  }
}

void Bus::Impl::Fail(int node, ForwardCallback& done, Status error) {
  if (node >= 0 && node < static_cast<int>(peers_.size()) && node != self_) {
    MutexLock lock(&stats_mu_);
    ++stats_[node].failed;
  }
  ForwardCallback cb = std::move(done);
  done = nullptr;
  if (cb) cb(std::move(error));
}

// ----------------------------------------------------------------------------------
// Connections: accept, dial, read, write, close
// ----------------------------------------------------------------------------------

Bus::Impl::Conn* Bus::Impl::AddConn(net::UniqueFd fd, bool dialled, uint32_t events,
                                    int64_t now_us) {
  auto conn = std::make_unique<Conn>();
  conn->token = next_token_++;
  conn->fd = std::move(fd);
  conn->dialled = dialled;
  conn->started_us = now_us;
  conn->last_heard_us = now_us;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = conn->token;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, conn->fd.get(), &ev) != 0) {
    log::Error("cluster bus: epoll_ctl(ADD): %s", std::strerror(errno));
    return nullptr;
  }
  conn->want_write = (events & EPOLLOUT) != 0;
  Conn* raw = conn.get();
  conns_.emplace(raw->token, std::move(conn));
  return raw;
}

void Bus::Impl::AcceptAll(int64_t now_us) {
  for (int i = 0; i < 64; ++i) {
    net::AcceptedSocket socket;
    const auto status = listener_->Accept(&socket);
    if (status == net::Listener::AcceptStatus::kRetry) continue;
    if (status != net::Listener::AcceptStatus::kAccepted) return;
    size_t unidentified = 0;
    for (auto& [token, c] : conns_) unidentified += (!c->dialled && c->peer < 0) ? 1 : 0;
    if (unidentified >= kMaxUnidentified) {
      log::Warning("cluster bus: closing connection from %s: %zu connections have not "
                   "finished their handshake yet", socket.peer.c_str(), unidentified);
      continue;
    }
    // As the client port's protected mode: without a secret anyone who reaches the port
    // could run commands, so only this machine may. Logged at most once a second (a
    // scanner must not flood the log); the connection is closed without a word.
    if (options_.secret.empty() && options_.protected_mode && !socket.loopback) {
      if (protected_logged_us_ < 0 || now_us - protected_logged_us_ >= 1000000) {
        log::Warning("cluster bus: protected mode: closing connection from %s: no cluster "
                     "secret is set (cluster.secret or server.requirepass), so only loopback "
                     "peers may link (see docs/security.md)",
                     socket.peer.c_str());
        protected_logged_us_ = now_us;
      }
      continue;
    }
    Conn* conn = AddConn(std::move(socket.fd), /*dialled=*/false, EPOLLIN, now_us);
    if (conn == nullptr) continue;
    conn->remote = socket.peer;
    conn->state = ConnState::kHandshake;
  }
}

void Bus::Impl::Dial(int node, int64_t now_us) {
  Peer& peer = peers_[node];
  const net::SocketAddress& addr = peer.sockaddr;
  net::UniqueFd fd(::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    LinkDown(node, std::string("socket: ") + std::strerror(errno), now_us);
    return;
  }
  int one = 1;
  (void)::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const int rc = ::connect(fd.get(), addr.get(), addr.length);
  if (rc != 0 && errno != EINPROGRESS) {
    LinkDown(node, std::string("connect: ") + std::strerror(errno), now_us);
    return;
  }
  Conn* conn = AddConn(std::move(fd), /*dialled=*/true, EPOLLIN | EPOLLOUT, now_us);
  if (conn == nullptr) {
    LinkDown(node, "epoll_ctl failed", now_us);
    return;
  }
  conn->peer = node;
  conn->remote = peer.address;
  conn->state = ConnState::kConnecting;
  peer.dialled = conn;
  if (rc == 0) ConnectDone(conn, now_us);
}

void Bus::Impl::ConnectDone(Conn* conn, int64_t now_us) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(conn->fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    LinkDown(conn->peer, std::string("connect: ") + std::strerror(err), now_us);
    return;
  }
  Status random = RandomBytes(kBusNonceSize, &conn->nonce);
  if (!random.ok()) {
    LinkDown(conn->peer, "no handshake nonce: " + std::string(random.message()), now_us);
    return;
  }
  conn->state = ConnState::kHandshake;
  conn->started_us = now_us;  // the handshake gets its own link_timeout_ms
  Handshake hello;
  hello.from = self_name_;
  hello.to = peers_[conn->peer].name;
  hello.digest = digest_;
  hello.nonce = conn->nonce;
  std::string frame;
  AppendFrame(&frame, FrameType::kHello, 0, EncodeHandshake(hello));
  Send(conn, std::move(frame));
  Flush(conn);
}

void Bus::Impl::OnConnEvent(Conn* conn, uint32_t events, int64_t now_us) {
  if (conn->state == ConnState::kConnecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) ConnectDone(conn, now_us);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    bool eof = false;
    if (!ReadSome(conn, now_us, &eof)) return;
    if (conn->dialled) {
      ProcessDialled(conn, now_us);
    } else {
      ProcessAccepted(conn, now_us);
    }
    if (conn->closed) return;
    if (eof) {
      const std::string why =
          conn->in.empty() ? "the peer closed the connection"
                           : "the peer closed the connection mid-frame (" +
                                 std::to_string(conn->in.size()) +
                                 " bytes of an incomplete frame)";
      if (conn->dialled) {
        LinkDown(conn->peer, why, now_us);
      } else {
        CloseConn(conn, why);
      }
      return;
    }
  }
  if ((events & EPOLLOUT) != 0 && !conn->closed) Flush(conn);
}

bool Bus::Impl::ReadSome(Conn* conn, int64_t now_us, bool* eof) {
  size_t total = 0;
  while (total < kMaxReadPerEvent) {
    const size_t old = conn->in.size();
    conn->in.resize(old + kReadChunk);
    const ssize_t n = ::recv(conn->fd.get(), conn->in.data() + old, kReadChunk, 0);
    conn->in.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) {
      total += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      *eof = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    const std::string why = std::string("recv: ") + std::strerror(errno);
    if (conn->dialled) {
      LinkDown(conn->peer, why, now_us);
    } else {
      CloseConn(conn, why);
    }
    return false;
  }
  if (total > 0) {
    conn->last_heard_us = now_us;
    if (conn->peer >= 0 && (conn->dialled || conn->state == ConnState::kUp)) {
      NoteHeard(conn->peer);
    }
  }
  return true;
}

void Bus::Impl::Send(Conn* conn, std::string frame) {
  if (conn == nullptr || conn->closed) return;
  if (conn->out_off == conn->out.size()) {
    conn->out = std::move(frame);
    conn->out_off = 0;
  } else {
    conn->out.append(frame);
  }
}

void Bus::Impl::Flush(Conn* conn) {
  if (conn->closed || conn->state == ConnState::kConnecting) return;
  // A peer taking a backlog of ours is alive even if its answers (a PONG queued behind
  // a large frame of ours) cannot come yet. Small writes (PINGs a silent peer's kernel
  // still accepts) prove nothing; a hung peer stops taking bytes once its socket
  // buffer is full, so the link timeout still catches it.
  size_t sent = 0;
  const auto note_progress = [&] {
    if (sent >= kProgressBytes || (sent > 0 && conn->out_off < conn->out.size())) {
      conn->last_heard_us = MonotonicMicros();
    }
  };
  while (conn->out_off < conn->out.size()) {
    const ssize_t n = ::send(conn->fd.get(), conn->out.data() + conn->out_off,
                             conn->out.size() - conn->out_off, MSG_NOSIGNAL);
    if (n > 0) {
      conn->out_off += static_cast<size_t>(n);
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      note_progress();
      // Keep the buffer from growing without bound while a large frame drains.
      if (conn->out_off > conn->out.size() / 2) {
        conn->out.erase(0, conn->out_off);
        conn->out_off = 0;
      }
      SetWantWrite(conn, true);
      return;
    }
    const std::string why = std::string("send: ") + std::strerror(errno);
    if (conn->dialled) {
      LinkDown(conn->peer, why, MonotonicMicros());
    } else {
      CloseConn(conn, why);
    }
    return;
  }
  note_progress();
  conn->out.clear();
  conn->out_off = 0;
  SetWantWrite(conn, false);
  if (conn->state == ConnState::kClosing) CloseConn(conn, "refused");
}

void Bus::Impl::FlushAll() {
  std::vector<Conn*> dirty;
  for (auto& [token, conn] : conns_) {
    if (!conn->closed && !conn->want_write && conn->out_off < conn->out.size()) {
      dirty.push_back(conn.get());
    }
  }
  for (Conn* conn : dirty) Flush(conn);
}

void Bus::Impl::SetWantWrite(Conn* conn, bool want) {
  if (conn->want_write == want) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
  ev.data.u64 = conn->token;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, conn->fd.get(), &ev) == 0) {
    conn->want_write = want;
  }
}

void Bus::Impl::CloseConn(Conn* conn, const std::string& why) {
  if (conn->closed) return;
  conn->closed = true;
  (void)::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, conn->fd.get(), nullptr);
  conn->fd.Reset();
  if (conn->peer >= 0) {
    Peer& peer = peers_[conn->peer];
    if (peer.dialled == conn) peer.dialled = nullptr;
    if (peer.accepted == conn) {
      peer.accepted = nullptr;
      log::Debug("cluster bus: connection from %s (%s) closed: %s", peer.name.c_str(),
                 conn->remote.c_str(), why.c_str());
    }
  }
  auto it = conns_.find(conn->token);
  if (it != conns_.end()) {
    graveyard_.push_back(std::move(it->second));
    conns_.erase(it);
  }
}

// ----------------------------------------------------------------------------------
// Link state
// ----------------------------------------------------------------------------------

void Bus::Impl::LinkUpNow(int node, int64_t now_us) {
  Peer& peer = peers_[node];
  Conn* conn = peer.dialled;
  conn->state = ConnState::kUp;
  conn->last_heard_us = now_us;
  conn->next_ping_us = now_us + options_.heartbeat_interval_ms * 1000;
  peer.up = true;
  peer.backoff_ms = options_.redial_min_ms;
  peer.last_failure.clear();
  peer.refused_logged = false;
  log::Debug("cluster bus: link to %s (%s) up", peer.name.c_str(), peer.address.c_str());
  {
    MutexLock lock(&stats_mu_);
    stats_[node].link_up = true;
    stats_[node].mismatch = false;
    stats_[node].auth_failed = false;
  }
  UpdateFormed();
}

void Bus::Impl::LinkDown(int node, const std::string& why, int64_t now_us) {
  Peer& peer = peers_[node];
  if (peer.dialled != nullptr) CloseConn(peer.dialled, why);
  const bool was_up = peer.up;
  peer.up = false;
  peer.last_failure = why;
  peer.redial_at_us = now_us + peer.backoff_ms * 1000;
  peer.backoff_ms = std::min(peer.backoff_ms * 2, options_.redial_max_ms);
  if (was_up) {
    log::Warning("Cluster link to %s (%s) lost: %s", peer.name.c_str(), peer.address.c_str(),
                 why.c_str());
  } else {
    log::Debug("cluster bus: cannot link to %s (%s): %s; retrying in %lld ms",
               peer.name.c_str(), peer.address.c_str(), why.c_str(),
               static_cast<long long>((peer.redial_at_us - now_us) / 1000));
  }
  {
    MutexLock lock(&stats_mu_);
    stats_[node].link_up = false;
  }
  auto pending = std::move(peer.pending);
  peer.pending.clear();
  const Status error = Status::IOError("cluster link to " + peer.name + " (" + peer.address +
                                       ") lost: " + why);
  for (auto& [id, done] : pending) Fail(node, done, error);
  UpdateFormed();
}

void Bus::Impl::UpdateFormed() {
  bool all_up = true;
  for (size_t i = 0; i < peers_.size(); ++i) {
    if (static_cast<int>(i) != self_ && !peers_[i].up) all_up = false;
  }
  if (all_up && !formed_local_) log::Info("Cluster successfully formed");
  formed_local_ = all_up;
  MutexLock lock(&stats_mu_);
  formed_ = all_up;
}

void Bus::Impl::NoteMismatch(int node, bool mismatch) {
  MutexLock lock(&stats_mu_);
  stats_[node].mismatch = mismatch;
}

void Bus::Impl::NoteAuthFailed(int node, bool failed) {
  MutexLock lock(&stats_mu_);
  stats_[node].auth_failed = failed;
}

void Bus::Impl::NoteHeard(int node) {
  const int64_t now_ms = NowMillis();
  MutexLock lock(&stats_mu_);
  stats_[node].last_heard_ms = now_ms;
}

// ----------------------------------------------------------------------------------
// Frames
// ----------------------------------------------------------------------------------

void Bus::Impl::ProcessDialled(Conn* conn, int64_t now_us) {
  const int node = conn->peer;
  Peer& peer = peers_[node];
  size_t off = 0;
  while (!conn->closed) {
    Frame frame;
    size_t consumed = 0;
    const uint64_t limit = conn->state == ConnState::kUp ? MaxFrame() : kMaxHandshakeFrame;
    Status s = DecodeFrame(std::string_view(conn->in).substr(off), limit, &frame, &consumed);
    if (!s.ok()) {
      log::Warning("cluster bus: closing link to %s (%s): %s", peer.name.c_str(),
                   peer.address.c_str(), std::string(s.message()).c_str());
      LinkDown(node, std::string(s.message()), now_us);
      return;
    }
    if (consumed == 0) break;
    off += consumed;
    if (conn->state == ConnState::kHandshake || conn->state == ConnState::kAuth) {
      OnHandshakeAnswer(conn, frame, now_us);
      continue;
    }
    switch (frame.type) {
      case FrameType::kReply: {
        auto it = peer.pending.find(frame.id);
        if (it == peer.pending.end()) break;  // timed out already
        ForwardCallback done = std::move(it->second);
        peer.pending.erase(it);
        ReplyStatus status;
        std::string_view body;
        Status ds = DecodeReplyPayload(frame.payload, &status, &body);
        if (!ds.ok()) {
          Fail(node, done, Status::IOError("node " + peer.name + ": " + std::string(ds.message())));
        } else if (status == ReplyStatus::kError) {
          Fail(node, done,
               Status::IOError("node " + peer.name + " could not execute the forwarded request: " +
                               std::string(body)));
        } else {
          done(std::string(body));
        }
        break;
      }
      case FrameType::kPong:
        break;
      default:
        log::Warning("cluster bus: closing link to %s (%s): unexpected frame type %d",
                     peer.name.c_str(), peer.address.c_str(), static_cast<int>(frame.type));
        LinkDown(node, "protocol error: unexpected frame type " +
                           std::to_string(static_cast<int>(frame.type)),
                 now_us);
        return;
    }
  }
  if (!conn->closed) conn->in.erase(0, off);
}

void Bus::Impl::OnHandshakeAnswer(Conn* conn, const Frame& frame, int64_t now_us) {
  const int node = conn->peer;
  Peer& peer = peers_[node];
  const FrameType expected =
      conn->state == ConnState::kHandshake ? FrameType::kChallenge : FrameType::kHelloAck;
  if (frame.type != expected && frame.type != FrameType::kRefuse) {
    LinkDown(node, "protocol error: frame type " + std::to_string(static_cast<int>(frame.type)) +
                       (conn->state == ConnState::kHandshake ? " before CHALLENGE"
                                                             : " before the handshake answer"),
             now_us);
    return;
  }
  Handshake h;
  Status s = DecodeHandshake(frame.payload, &h);
  if (!s.ok()) {
    if (!peer.refused_logged) {
      if (s.code() == Status::Code::kNotSupported) {
        log::Error("Cluster bus: node %s (%s) speaks cluster bus protocol version %u, node %s "
                   "speaks version %u (version 2 added the cluster secret's challenge-response): "
                   "run the same memento version on every node",
                   peer.name.c_str(), peer.address.c_str(), static_cast<unsigned>(h.version),
                   self_name_.c_str(), static_cast<unsigned>(kBusProtocolVersion));
      } else {
        log::Error("Cluster bus: node %s (%s) answered the handshake of %s with: %s",
                   peer.name.c_str(), peer.address.c_str(), self_name_.c_str(),
                   std::string(s.message()).c_str());
      }
      peer.refused_logged = true;
    }
    LinkDown(node, std::string(s.message()), now_us);
    return;
  }
  if (frame.type == FrameType::kRefuse || h.digest != digest_ || h.from != peer.name) {
    const bool mismatch = h.digest != digest_;
    const bool auth = frame.type == FrameType::kRefuse && h.reason.starts_with(kAuthFailedReason);
    std::string why = frame.type == FrameType::kRefuse
                          ? Sanitized(h.reason)
                          : "it answered as node \"" + Sanitized(h.from) + "\" with digest " +
                                Sanitized(h.digest);
    if (!peer.refused_logged) {
      log::Error("Cluster bus: node %s (%s) refused to link with node %s: %s (digest of %s: %s, "
                 "digest of %s: %s)",
                 peer.name.c_str(), peer.address.c_str(), self_name_.c_str(), why.c_str(),
                 self_name_.c_str(), digest_.c_str(), peer.name.c_str(),
                 Sanitized(h.digest).c_str());
      peer.refused_logged = true;
    }
    NoteMismatch(node, mismatch);
    NoteAuthFailed(node, auth);
    LinkDown(node, why, now_us);
    return;
  }
  if (frame.type == FrameType::kChallenge) {
    OnChallenge(conn, h, now_us);
  } else {
    OnHelloAck(conn, h, now_us);
  }
}

void Bus::Impl::OnChallenge(Conn* conn, const Handshake& h, int64_t now_us) {
  const int node = conn->peer;
  if (h.nonce.size() != kBusNonceSize) {
    LinkDown(node, "protocol error: CHALLENGE nonce of " + std::to_string(h.nonce.size()) +
                       " bytes, expected " + std::to_string(kBusNonceSize),
             now_us);
    return;
  }
  conn->peer_nonce = h.nonce;
  Handshake auth;
  auth.from = self_name_;
  auth.to = peers_[node].name;
  auth.digest = digest_;
  if (!Proof(*conn, BusRole::kDialler, &auth.proof)) {
    LinkDown(node, "cannot compute the handshake proof", now_us);
    return;
  }
  std::string out;
  AppendFrame(&out, FrameType::kAuth, 0, EncodeHandshake(auth));
  Send(conn, std::move(out));
  conn->state = ConnState::kAuth;
}

void Bus::Impl::OnHelloAck(Conn* conn, const Handshake& h, int64_t now_us) {
  const int node = conn->peer;
  Peer& peer = peers_[node];
  std::string expected;
  if (!Proof(*conn, BusRole::kAcceptor, &expected)) {
    LinkDown(node, "cannot compute the handshake proof", now_us);
    return;
  }
  if (!ConstantTimeEquals(h.proof, expected)) {
    // It accepted our proof yet cannot prove its own: it does not hold our secret (a
    // node that accepts anything, or a stranger at the peer's address).
    if (!peer.refused_logged) LogAuthRefusal(peer.name, peer.address);
    peer.refused_logged = true;
    NoteMismatch(node, false);
    NoteAuthFailed(node, true);
    LinkDown(node, std::string(kAuthFailedReason) + ": node " + peer.name +
                       " does not prove it holds the cluster secret",
             now_us);
    return;
  }
  LinkUpNow(node, now_us);
}

// Names the peer and what to do; never the secret (nor a proof, which would let a
// reader of the log test guesses offline).
void Bus::Impl::LogAuthRefusal(const std::string& peer, const std::string& address) {
  log::Error("Cluster bus: node %s refuses node %s (%s): %s, it could not prove it holds the "
             "same cluster secret (cluster.secret, or server.requirepass when that is not "
             "set); set the same secret on every node",
             self_name_.c_str(), peer.c_str(), address.c_str(),
             std::string(kAuthFailedReason).c_str());
}

bool Bus::Impl::Proof(const Conn& conn, BusRole role, std::string* proof) {
  const std::string& peer_name = peers_[conn.dialled ? conn.peer : conn.claimed].name;
  const std::string& dialler = conn.dialled ? self_name_ : peer_name;
  const std::string& acceptor = conn.dialled ? peer_name : self_name_;
  const std::string& dialler_nonce = conn.dialled ? conn.nonce : conn.peer_nonce;
  const std::string& acceptor_nonce = conn.dialled ? conn.peer_nonce : conn.nonce;
  Status s = BusProof(options_.secret, role, dialler_nonce, acceptor_nonce, dialler, acceptor,
                      proof);
  if (!s.ok()) {
    log::Error("cluster bus: %s", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

void Bus::Impl::ProcessAccepted(Conn* conn, int64_t now_us) {
  if (conn->state == ConnState::kClosing) {
    conn->in.clear();  // refused: whatever it sends is ignored
    return;
  }
  size_t off = 0;
  std::vector<std::pair<uint64_t, std::string>> replies;
  std::vector<std::pair<uint64_t, std::string>> errors;
  std::vector<std::string_view> argv;
  while (!conn->closed && conn->state != ConnState::kClosing) {
    Frame frame;
    size_t consumed = 0;
    const uint64_t limit = conn->state == ConnState::kUp ? MaxFrame() : kMaxHandshakeFrame;
    Status s = DecodeFrame(std::string_view(conn->in).substr(off), limit, &frame, &consumed);
    if (!s.ok()) {
      log::Warning("cluster bus: closing connection from %s: %s", conn->remote.c_str(),
                   std::string(s.message()).c_str());
      CloseConn(conn, std::string(s.message()));
      return;
    }
    if (consumed == 0) break;
    off += consumed;
    if (conn->state == ConnState::kHandshake || conn->state == ConnState::kAuth) {
      const bool hello = conn->state == ConnState::kHandshake;
      if (frame.type != (hello ? FrameType::kHello : FrameType::kAuth)) {
        log::Warning("cluster bus: closing connection from %s: frame type %d before %s",
                     conn->remote.c_str(), static_cast<int>(frame.type),
                     hello ? "HELLO" : "AUTH");
        CloseConn(conn, hello ? "no HELLO" : "no AUTH");
        return;
      }
      if (hello) {
        OnHello(conn, frame);
      } else {
        OnAuth(conn, frame);
      }
      continue;
    }
    switch (frame.type) {
      case FrameType::kRequest: {
        net::Dialect dialect;
        Status ds = DecodeRequest(frame.payload, &dialect, &argv);
        if (!ds.ok()) {
          errors.emplace_back(frame.id, std::string(ds.message()));
          break;
        }
        std::string reply;
        executor_->Execute(dialect, argv, &reply);
        replies.emplace_back(frame.id, std::move(reply));
        break;
      }
      case FrameType::kPing: {
        std::string pong;
        AppendFrame(&pong, FrameType::kPong, frame.id, {});
        Send(conn, std::move(pong));
        break;
      }
      default:
        log::Warning("cluster bus: closing connection from %s (%s): unexpected frame type %d",
                     peers_[conn->peer].name.c_str(), conn->remote.c_str(),
                     static_cast<int>(frame.type));
        CloseConn(conn, "protocol error");
        return;
    }
  }
  if (!replies.empty()) {
    // The durability barrier: nothing of the batch is acknowledged before Commit.
    Status committed = executor_->Commit();
    if (!committed.ok()) {
      const std::string text = Sanitized("ERR forwarded request not made durable on node " +
                                         self_name_ + ": " + committed.ToString());
      for (auto& [id, reply] : replies) {
        reply.clear();
        RecordingReplyBuilder(&reply).Error(text);
      }
    }
    MutexLock lock(&stats_mu_);
    stats_[conn->peer].served += replies.size();
  }
  if (conn->closed) return;
  std::string out;
  for (auto& [id, reply] : replies) {
    if (reply.size() + 1 + kFrameHeaderSize > MaxFrame()) {
      AppendReplyFrame(&out, id, ReplyStatus::kError,
                       "reply of " + std::to_string(reply.size()) +
                           " bytes exceeds the cluster bus frame limit (max_frame_bytes " +
                           std::to_string(options_.max_frame_bytes) + ")");
      continue;
    }
    AppendReplyFrame(&out, id, ReplyStatus::kOk, reply);
  }
  for (auto& [id, text] : errors) AppendReplyFrame(&out, id, ReplyStatus::kError, text);
  if (!out.empty()) Send(conn, std::move(out));
  if (conn->state == ConnState::kClosing) {
    conn->in.clear();
  } else {
    conn->in.erase(0, off);
  }
  (void)now_us;
}

void Bus::Impl::OnHello(Conn* conn, const Frame& frame) {
  Handshake h;
  Status s = DecodeHandshake(frame.payload, &h);
  if (s.IsCorruption()) {
    log::Warning("cluster bus: closing connection from %s: %s", conn->remote.c_str(),
                 std::string(s.message()).c_str());
    CloseConn(conn, std::string(s.message()));
    return;
  }
  if (!s.ok()) {  // another protocol version
    log::Error("Cluster bus: node %s refuses a peer at %s speaking cluster bus protocol "
               "version %u: this node speaks version %u (version 2 added the cluster "
               "secret's challenge-response); run the same memento version on every node",
               self_name_.c_str(), conn->remote.c_str(), static_cast<unsigned>(h.version),
               static_cast<unsigned>(kBusProtocolVersion));
    Refuse(conn, "", std::string(s.message()));
    return;
  }
  const int node = options_.map->IndexOf(h.from);
  if (node < 0 || node == self_) {
    log::Error("Cluster bus: node %s refuses a peer at %s calling itself \"%s\": no such node "
               "in its cluster (digest of %s: %s, digest of the peer: %s)",
               self_name_.c_str(), conn->remote.c_str(), Sanitized(h.from).c_str(),
               self_name_.c_str(), digest_.c_str(), Sanitized(h.digest).c_str());
    Refuse(conn, h.from, "node \"" + self_name_ + "\" has no peer named \"" + h.from + "\"");
    return;
  }
  Peer& peer = peers_[node];
  if (h.digest != digest_) {
    if (!peer.refusing_logged) {
      log::Error("Cluster bus: node %s refuses node %s (%s): their cluster configurations "
                 "differ (digest of %s: %s, digest of %s: %s); start every node with the "
                 "same node list",
                 self_name_.c_str(), peer.name.c_str(), conn->remote.c_str(),
                 self_name_.c_str(), digest_.c_str(), peer.name.c_str(),
                 Sanitized(h.digest).c_str());
      peer.refusing_logged = true;
    }
    NoteMismatch(node, true);
    Refuse(conn, h.from, "cluster configuration digest " + digest_ + " of node " + self_name_ +
                             " differs from " + h.digest + " of node " + h.from);
    return;
  }
  if (h.to != self_name_) {
    log::Error("Cluster bus: node %s refuses node %s (%s), which took it for node \"%s\"",
               self_name_.c_str(), peer.name.c_str(), conn->remote.c_str(),
               Sanitized(h.to).c_str());
    Refuse(conn, h.from, "this is node \"" + self_name_ + "\", not \"" + h.to + "\"");
    return;
  }
  if (h.nonce.size() != kBusNonceSize) {
    log::Warning("cluster bus: closing connection from %s: HELLO nonce of %zu bytes, expected %zu",
                 conn->remote.c_str(), h.nonce.size(), kBusNonceSize);
    CloseConn(conn, "bad HELLO nonce");
    return;
  }
  Status random = RandomBytes(kBusNonceSize, &conn->nonce);
  if (!random.ok()) {
    log::Error("cluster bus: closing connection from %s: %s", conn->remote.c_str(),
               std::string(random.message()).c_str());
    CloseConn(conn, "no nonce");
    return;
  }
  // Not identified yet: conn->peer stays -1 (it counts against kMaxUnidentified and
  // its bytes are not signs of life of that peer) until its AUTH proves the secret.
  conn->peer_nonce = h.nonce;
  conn->claimed = node;
  conn->state = ConnState::kAuth;
  Handshake challenge;
  challenge.from = self_name_;
  challenge.to = h.from;
  challenge.digest = digest_;
  challenge.nonce = conn->nonce;
  std::string out;
  AppendFrame(&out, FrameType::kChallenge, frame.id, EncodeHandshake(challenge));
  Send(conn, std::move(out));
}

void Bus::Impl::OnAuth(Conn* conn, const Frame& frame) {
  Handshake h;
  Status s = DecodeHandshake(frame.payload, &h);
  const int node = conn->claimed;
  Peer& peer = peers_[node];
  if (!s.ok() || h.from != peer.name) {
    const std::string why =
        !s.ok() ? std::string(s.message()) : "AUTH from \"" + Sanitized(h.from) + "\"";
    log::Warning("cluster bus: closing connection from %s: %s", conn->remote.c_str(),
                 why.c_str());
    CloseConn(conn, why);
    return;
  }
  std::string expected;
  if (!Proof(*conn, BusRole::kDialler, &expected)) {
    CloseConn(conn, "cannot compute the handshake proof");
    return;
  }
  if (!ConstantTimeEquals(h.proof, expected)) {
    if (!peer.refusing_logged) LogAuthRefusal(peer.name, conn->remote);
    peer.refusing_logged = true;
    // Not NoteAuthFailed: anyone who reaches the port may send a bad AUTH in a peer's
    // name, and must not turn that peer's healthy link into "auth-failed". The state
    // is set by our own dial: a peer with another secret refuses it the same way.
    Refuse(conn, h.from,
           std::string(kAuthFailedReason) + ": node " + self_name_ + " and node " + peer.name +
               " hold different cluster secrets (cluster.secret, or server.requirepass "
               "when that is not set)");
    return;
  }
  // A peer that restarted dials again: its new connection replaces the old one.
  if (peer.accepted != nullptr) CloseConn(peer.accepted, "superseded by a new connection");
  conn->peer = node;
  conn->state = ConnState::kUp;
  peer.accepted = conn;
  peer.refusing_logged = false;
  NoteMismatch(node, false);
  NoteHeard(node);
  Handshake ack;
  ack.from = self_name_;
  ack.to = h.from;
  ack.digest = digest_;
  if (!Proof(*conn, BusRole::kAcceptor, &ack.proof)) {
    CloseConn(conn, "cannot compute the handshake proof");
    return;
  }
  std::string out;
  AppendFrame(&out, FrameType::kHelloAck, frame.id, EncodeHandshake(ack));
  Send(conn, std::move(out));
}

void Bus::Impl::Refuse(Conn* conn, const std::string& to, const std::string& reason) {
  Handshake refuse;
  refuse.from = self_name_;
  refuse.to = to.substr(0, kMaxHandshakeString);
  refuse.digest = digest_;
  refuse.reason = reason.substr(0, kMaxHandshakeString);
  std::string out;
  AppendFrame(&out, FrameType::kRefuse, 0, EncodeHandshake(refuse));
  Send(conn, std::move(out));
  conn->state = ConnState::kClosing;
  conn->started_us = MonotonicMicros();  // closed by RunTimers if it never drains
}

// ----------------------------------------------------------------------------------
// Timers
// ----------------------------------------------------------------------------------

void Bus::Impl::RunTimers(int64_t now_us) {
  while (!expiries_.empty() && expiries_.front().deadline_us <= now_us) {
    const Expiry e = expiries_.front();
    expiries_.pop_front();
    Peer& peer = peers_[e.node];
    auto it = peer.pending.find(e.id);
    if (it == peer.pending.end()) continue;  // answered or failed already
    ForwardCallback done = std::move(it->second);
    peer.pending.erase(it);
    Fail(e.node, done,
         Status::IOError("request to node " + peer.name + " (" + peer.address +
                         ") timed out after " + std::to_string(options_.request_timeout_ms) +
                         " ms"));
  }

  const int64_t link_timeout_us = options_.link_timeout_ms * 1000;
  for (size_t i = 0; i < peers_.size(); ++i) {
    const int node = static_cast<int>(i);
    if (node == self_) continue;
    Peer& peer = peers_[i];
    Conn* conn = peer.dialled;
    if (conn == nullptr) {
      if (now_us >= peer.redial_at_us) Dial(node, now_us);
      continue;
    }
    if (conn->state != ConnState::kUp) {
      if (now_us - conn->started_us > link_timeout_us) {
        LinkDown(node,
                 conn->state == ConnState::kConnecting
                     ? "connect timed out after " + std::to_string(options_.link_timeout_ms) + " ms"
                     : "no handshake answer within " + std::to_string(options_.link_timeout_ms) +
                           " ms",
                 now_us);
      }
      continue;
    }
    if (now_us - conn->last_heard_us > link_timeout_us) {
      LinkDown(node, "nothing heard for " + std::to_string(options_.link_timeout_ms) + " ms",
               now_us);
      continue;
    }
    if (now_us >= conn->next_ping_us) {
      std::string ping;
      AppendFrame(&ping, FrameType::kPing, next_id_.fetch_add(1, std::memory_order_relaxed), {});
      Send(conn, std::move(ping));
      conn->next_ping_us = now_us + options_.heartbeat_interval_ms * 1000;
    }
  }

  std::vector<std::pair<Conn*, std::string>> to_close;
  for (auto& [token, conn] : conns_) {
    if (conn->dialled || conn->closed) continue;
    if (conn->state == ConnState::kUp) {
      // Its owner pings every heartbeat_interval_ms: silence means it is gone.
      if (now_us - conn->last_heard_us > link_timeout_us) {
        to_close.emplace_back(conn.get(), "nothing heard for " +
                                              std::to_string(options_.link_timeout_ms) + " ms");
      }
    } else if (now_us - conn->started_us > link_timeout_us) {
      to_close.emplace_back(conn.get(), conn->state == ConnState::kClosing ? "refusal not read in time"
                                        : conn->state == ConnState::kAuth  ? "no AUTH in time"
                                                                           : "no HELLO in time");
    }
  }
  for (auto& [conn, why] : to_close) {
    if (conn->state == ConnState::kHandshake || conn->state == ConnState::kAuth) {
      log::Warning("cluster bus: closing connection from %s: %s", conn->remote.c_str(),
                   why.c_str());
    }
    CloseConn(conn, why);
  }
}

// ----------------------------------------------------------------------------------
// Bus
// ----------------------------------------------------------------------------------

Bus::Bus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Bus::~Bus() { Stop(); }

Result<std::unique_ptr<Bus>> Bus::Start(BusOptions options, ForwardedExecutor* executor) {
  auto impl = std::make_unique<Impl>(std::move(options), executor);
  MEMENTO_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Bus>(new Bus(std::move(impl)));
}

void Bus::Stop() { impl_->Stop(); }

void Bus::Forward(int node, net::Dialect dialect, std::span<const std::string_view> argv,
                  ForwardCallback done) {
  impl_->Forward(node, dialect, argv, std::move(done));
}

bool Bus::IsFormed() const { return impl_->IsFormed(); }
bool Bus::LinkUp(int node) const { return impl_->LinkUp(node); }
BusStats Bus::Stats() const { return impl_->Stats(); }
const SlotMap& Bus::map() const { return impl_->map(); }
int Bus::self_index() const { return impl_->self_index(); }

}  // namespace memento::cluster
