// Server: the epoll front end. N event-loop threads, each with its own epoll set,
// serve client connections; one listening socket; connections are handed to loops
// round-robin. Each connection has an input buffer parsed incrementally (pipelining,
// requests split across reads) and an output buffer drained with EPOLLOUT
// back-pressure, so a slow reader never loses reply bytes and never blocks others.
//
// net/ never touches the table: every request goes to a CommandHandler.
//
// Thread-safety: Start/Shutdown from one controlling thread; Stats() from any thread.
// The handler is called concurrently from every event-loop thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/proto/reply_builder.h"
#include "net/proto/resp_parser.h"

namespace memento::net {

// The wire protocol of one connection: text until a request starts with '*' (a RESP2
// multibulk), RESP2 from then on (docs/protocol.md, "One port, two protocols").
enum class Dialect : uint8_t {
  kText = 0,  // Memento's line protocol
  kResp = 1,  // RESP2
};

class ReplyMailbox;
class MonitorFeed;

// A connection that another thread feeds (TAIL, daemon/tail_feed.h) through its
// loop's mailbox (ReplyMailbox::PostMonitorLines, as MONITOR lines): how far behind
// its socket is, so that the feeder paces itself (it reads the change log later)
// instead of filling the output buffer up to max_output_buffer. The connection
// updates it; the feeder holds a weak_ptr: expired means the connection closed.
struct FeedLink {
  std::atomic<uint64_t> delivered{0};  // feed bytes the loop has queued to the connection
  std::atomic<uint64_t> unsent{0};     // the connection's unsent output bytes (last seen)
};

// A reply the CommandHandler finishes after Execute() returned, from any thread: the
// reply of a request forwarded to another cluster node. Obtained with DeferReply().
// Copyable handle; Complete() the reply once (later calls do nothing).
class DeferredReply {
 public:
  DeferredReply() = default;
  // Sends `bytes`, already encoded in the session's dialect, as the reply of the
  // request that deferred, in its place among the connection's replies. Any thread.
  // If the connection or its loop is gone, the bytes are dropped.
  void Complete(std::string bytes);
  bool valid() const { return mailbox_ != nullptr; }

 private:
  friend DeferredReply DeferReply(struct Session& session);
  std::shared_ptr<ReplyMailbox> mailbox_;
  uint64_t connection_id_ = 0;
  uint64_t sequence_ = 0;  // which of the connection's deferred replies
};

// State the command layer keeps per connection and net/ does not interpret (the
// daemon's MULTI queue and WATCHed keys, daemon/cmd_multi.cc). Destroyed with the
// session, on its event-loop thread, so its destructor may unregister it from what
// the command layer shares between connections.
struct SessionState {
  virtual ~SessionState() = default;
  // CLIENT LIST's multi=: the commands queued since MULTI, or -1 outside MULTI.
  virtual int64_t QueuedCommands() const { return -1; }
};

// What the command layer sees of a connection. Owned by the connection; lives as
// long as it does; touched only on its event-loop thread.
struct Session {
  uint64_t id = 0;           // unique per server run, starting at 1
  std::string peer;          // "127.0.0.1:53422"
  // The dialect of the request being executed: the connection's, except that a text
  // connection's Redis inline command (CommandHandler::IsTextCommand false) runs as
  // kResp, and is answered in RESP2.
  Dialect dialect = Dialect::kText;
  int64_t connected_ms = 0;  // wall clock, ms since epoch
  std::string name;          // CLIENT SETNAME
  // Set by the command layer once the connection may run commands while a password
  // is required (AUTH succeeded, or it ran a command while none was required).
  bool authenticated = false;
  // Set by the handler (QUIT/EXIT): the connection closes once the replies
  // queued so far are written; later requests in the same read are ignored.
  bool close_after_reply = false;

  // Set by DeferReply(): the request being executed is answered later. Read and
  // cleared by the connection after Execute() returns.
  bool deferred = false;
  // The sequence number DeferReply() gives the next deferred reply.
  uint64_t next_deferred = 0;
  // Where deferred replies of this connection are posted (set by the connection;
  // null outside a server, e.g. in unit tests of the command layer).
  std::shared_ptr<ReplyMailbox> mailbox;

  // The command last executed, as CLIENT LIST's cmd= shows it ("get", "client|list"):
  // set by the command layer.
  std::string last_command;
  // CLIENT REPLY OFF: no reply of this connection is sent (the connection drops
  // them) until CLIENT REPLY ON. CLIENT REPLY SKIP: the next request's reply is
  // dropped. Set by the command layer, applied by the connection.
  bool reply_off = false;
  bool reply_skip_next = false;

  // The server's MONITOR feed (set by the connection; null outside a server).
  MonitorFeed* monitor_feed = nullptr;
  // This connection is a monitor (StartMonitoring()).
  bool monitoring = false;
  // MONITOR lines produced by this connection's requests (AppendMonitorLine in the
  // command layer), published to the monitors by the connection after each batch of
  // requests: one post per monitor per batch rather than per request.
  std::string monitor_lines;

  // Set by the command layer when the connection becomes a feed (TAIL): only PING
  // and QUIT are accepted from then on. Released by the connection when it closes.
  std::shared_ptr<FeedLink> feed;
  // The command layer's own state for this connection (nullptr until it needs one).
  std::unique_ptr<SessionState> command_state;
};

// True while some connection is a monitor: the command layer then formats MONITOR
// lines into session.monitor_lines. One relaxed atomic load.
bool MonitorsActive(const Session& session);
// Makes the connection a monitor: from now on it receives every line the other
// connections publish, after the replies queued before. False outside a server.
bool StartMonitoring(Session& session);

// Called by a CommandHandler inside Execute() instead of describing a reply: the
// request's reply will come through the returned handle's Complete(). The connection
// goes on executing its later requests (a pipelining client keeps many forwarded
// requests in flight, up to kMaxDeferredReplies), but holds their replies back until
// the deferred ones before them have arrived: replies leave in request order. Held
// replies count toward the connection's output limits. If the round executed writes,
// the deferred reply, like every reply of the round, is sent only after the round's
// CommitRound().
// REQUIRES: session.mailbox is set (a connection of a running Server).
DeferredReply DeferReply(Session& session);

// Deferred replies one connection may wait for at once; at the limit it executes
// nothing more until the oldest arrives.
inline constexpr size_t kMaxDeferredReplies = 256;

// A loop's inbox of completed deferred replies: any thread posts, the loop thread
// takes them after an eventfd wakeup. Internal to net/ (declared here because the
// handle above points to it).
class ReplyMailbox {
 public:
  explicit ReplyMailbox(int wake_fd) : wake_fd_(wake_fd) {}
  struct Completed {
    uint64_t connection_id;
    uint64_t sequence;
    std::string bytes;
    bool monitor_lines = false;  // MONITOR lines for a monitor, not a deferred reply
  };
  // Queues `bytes` for connection `id` and wakes the loop; dropped once Close()d.
  void Post(uint64_t id, uint64_t sequence, std::string bytes);
  // Queues MONITOR lines for monitor connection `id`. Returns false once Close()d.
  bool PostMonitorLines(uint64_t id, std::string lines);
  std::vector<Completed> Take();
  // The loop is going away: later posts are dropped (the wakeup fd may be closed).
  void Close();

 private:
  std::mutex mu_;
  const int wake_fd_;
  bool closed_ = false;                                       // guarded by mu_
  std::vector<Completed> completed_;  // guarded by mu_
};

class CommandHandler {
 public:
  virtual ~CommandHandler() = default;
  // Executes one request (argv is never empty) and describes its reply through
  // `reply`, exactly one reply per request. Called on the connection's event-loop
  // thread; must not block for long. Views in argv are valid only during the call.
  // A request that sets session.close_after_reply (QUIT) may send no reply at all.
  virtual void Execute(Session& session, std::span<const std::string_view> argv,
                       proto::ReplyBuilder& reply) = 0;

  // Durability barrier (the idea of Redis's AE_BARRIER / beforeSleep): after an
  // event-loop round executed requests, if HasUncommitted() is true on that loop's
  // thread, no reply produced in the round is sent until CommitRound() returns.
  // One CommitRound() covers every connection of the round (group commit).
  // A handler whose reads can show another loop's writes answers true for those
  // rounds too (the daemon's Db: whenever any change is not yet durable), so that no
  // reply, a read's included, shows a change before it is durable.
  // If it fails, the replies of the round are discarded, each affected connection
  // gets one error reply naming the failure (`ERR write-ahead log failed, durability
  // unknown, connection closed: <reason>`) and is closed: nothing that was not made
  // durable is acknowledged or shown. Both are called on the loop's thread.
  virtual bool HasUncommitted() { return false; }
  virtual Status CommitRound() { return Status::OK(); }

  // True while clients must authenticate (a password is set). The server then holds
  // every connection whose session is not yet `authenticated` to the small pre-auth
  // request limits (ServerOptions::preauth_*), and protected mode does not apply.
  // Called from the acceptor thread and every event-loop thread, concurrently: must
  // be cheap and thread-safe (an atomic load).
  virtual bool AuthRequired() const { return false; }

  // True if `name` (a request's first word, any case) is a command of Memento's text
  // protocol. On a text connection, a request for any other name is a Redis inline
  // command: the connection executes it with session.dialect kResp and a RESP2
  // encoder, as Redis answers inline commands. Called on the event-loop threads,
  // concurrently: must be cheap and thread-safe.
  virtual bool IsTextCommand(std::string_view name) const {
    (void)name;
    return true;
  }
};

// The limits that keep one client (or many) from taking the server down. Defaults
// follow Redis where Redis has one; docs/security.md lists them all.
struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6737;          // 0: let the kernel pick; port() tells which
  int threads = 1;               // event-loop threads, >= 1
  size_t max_line = 64 * 1024;   // longest request line (text protocol)
  proto::RespLimits resp_limits;  // bulk length, multibulk count, inline size (RESP)
  // When a connection's unsent replies exceed this, it stops reading requests until
  // the client has read enough (back-pressure, not disconnection).
  size_t output_pause_bytes = 1 << 20;
  // Hard limit on one connection's unsent replies: beyond it the connection is
  // closed at once, its output discarded. Back-pressure stops executing at
  // output_pause_bytes, but a single reply (a large value, KEYS) lands whole in the
  // buffer first; this bounds it. 0: no limit.
  size_t max_output_buffer = size_t{256} << 20;
  // A connection whose unconsumed input (a request still arriving, e.g. several
  // large bulks) exceeds this gets an error reply and is closed. Redis's
  // client-query-buffer-limit.
  size_t max_query_buffer = size_t{1} << 30;
  // Open client connections at most (Redis's maxclients). One more gets
  // kMaxClientsError and is closed by the acceptor, counted in rejected_connections.
  size_t max_clients = 10000;
  // A connection with no socket activity (no bytes read, no reply bytes taken by the
  // peer) for this long is closed. 0: never (Redis's `timeout 0`).
  int64_t idle_timeout_ms = 0;
  // Protected mode (Redis's): while no password is required (CommandHandler::
  // AuthRequired() is false) and the listening address is not a loopback one,
  // connections from non-loopback peers get kProtectedModeError and are closed.
  bool protected_mode = true;
  // Until a connection's session is authenticated, and only while AuthRequired(),
  // requests must fit these (as Redis's unauthenticated limits: 10 elements, 16 KiB
  // bulks), or the normal limits where those are lower. A larger request is a
  // protocol error: error reply, then close.
  size_t preauth_max_line = 16 * 1024;
  proto::RespLimits preauth_resp_limits{
      .max_bulk = 16 * 1024, .max_multibulk = 10, .max_inline = 16 * 1024};
};

// Sent, whatever the dialect (the client has sent nothing yet), to a connection
// refused because max_clients are already connected; then it is closed.
inline constexpr std::string_view kMaxClientsError = "-ERR max number of clients reached\r\n";
// Sent to a non-loopback client refused by protected mode; then it is closed. It names
// the daemon's settings (docs/configuration.md, docs/security.md): keep them in step.
inline constexpr std::string_view kProtectedModeError =
    "-DENIED Memento is running in protected mode because protected mode is enabled and "
    "no password is set. In this mode connections are only accepted from the loopback "
    "interface. To accept clients from other hosts, either 1) set a password: "
    "server.requirepass in the configuration file, or CONFIG SET requirepass from a "
    "loopback client; or 2) turn protected mode off with server.protected_mode = false "
    "and restart, but only if this port cannot be reached from the internet. "
    "See docs/security.md.\r\n";

// What CLIENT LIST reports of one connection, read on its loop's thread.
struct ClientFacts {
  uint64_t id = 0;
  std::string addr;   // the peer, "127.0.0.1:53422"
  std::string laddr;  // our end, "127.0.0.1:6737"
  int fd = -1;
  std::string name;
  int64_t age_s = 0;   // since it connected
  int64_t idle_s = 0;  // since its last socket activity
  bool monitor = false;
  Dialect dialect = Dialect::kText;
  size_t qbuf = 0;       // input received, not yet consumed
  size_t qbuf_free = 0;  // room left in the input buffer
  size_t rbs = 0;        // the input buffer's size
  size_t obl = 0;        // reply bytes encoded, not yet sent
  size_t oll = 0;        // replies held behind a deferred one
  size_t omem = 0;       // bytes of the held replies
  size_t tot_mem = 0;    // the connection's buffers and bookkeeping
  bool reading = false;  // EPOLLIN wanted
  bool writing = false;  // EPOLLOUT wanted
  std::string cmd;       // Session::last_command
  int64_t multi = -1;    // SessionState::QueuedCommands(): -1 outside MULTI
};

// Which connections CLIENT LIST and CLIENT KILL mean: every criterion given must
// hold.
struct ClientFilter {
  std::vector<uint64_t> ids;  // empty: any id
  std::string addr;           // "": any peer address
  std::string laddr;          // "": any local address
  uint64_t skip_id = 0;       // this connection never matches (SKIPME); 0: none
  bool none = false;          // nothing matches (a client type Memento has none of)

  bool Matches(uint64_t id, std::string_view peer, std::string_view local) const;
};

struct ServerStats {
  uint64_t connected_clients = 0;
  uint64_t total_connections = 0;     // accepted (and not rejected) since start
  uint64_t rejected_connections = 0;  // refused: max_clients reached, or protected mode
  uint64_t total_commands = 0;        // requests executed since start
  // Connections closed for a malformed request, a request over a limit, or an HTTP
  // request (a browser, or a cross-protocol attack).
  uint64_t protocol_errors = 0;
  uint64_t query_limit_disconnections = 0;   // over max_query_buffer
  uint64_t output_limit_disconnections = 0;  // over max_output_buffer
  uint64_t idle_disconnections = 0;          // idle for idle_timeout_ms
  // Deferred replies (DeferReply) completed after their connection had closed: dropped,
  // never written (the connection's fd number may serve another client by then).
  uint64_t deferred_replies_dropped = 0;
  uint64_t net_input_bytes = 0;
  uint64_t net_output_bytes = 0;
};

class Server {
 public:
  // "*handler" must outlive the Server.
  Server(ServerOptions options, CommandHandler* handler);
  ~Server();  // calls Shutdown() if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens, without accepting yet: connections wait in the kernel's
  // backlog until Start(). Lets the daemon learn that its port is taken before it
  // touches the data directory, and hold the port while it recovers. Errors: Busy
  // when the address is in use ("127.0.0.1:6737 is already in use ..."),
  // InvalidArgument for a host that is not an IPv4/IPv6 literal or "localhost",
  // IOError otherwise. Calling it again after success does nothing.
  Status Bind();
  // Bind()s if that has not been done, then starts the event-loop threads and the
  // acceptor. Errors: those of Bind(), and IOError.
  Status Start();
  // The port actually bound (useful with port 0). REQUIRES: Bind() or Start() succeeded.
  uint16_t port() const;
  // The bound address, formatted: "127.0.0.1:6737". REQUIRES: as port().
  const std::string& address() const;

  // Stops accepting, executes nothing more, writes out replies already produced
  // (giving slow clients at most `drain_ms`), closes every connection and joins the
  // threads. Idempotent.
  void Shutdown(int drain_ms = 2000);

  ServerStats Stats() const;

  // Connection administration from any thread (CLIENT LIST / KILL; the command
  // layer calls them from a loop thread and replies through DeferReply()). Each
  // loop handles its own connections on its own thread, so nothing on the request
  // path takes a lock for this; `done` runs once, on the thread of the last loop to
  // answer (or on the caller's if no loop runs), so it must not block.
  //
  // The facts of every connection matching `filter`, ordered by id.
  void ListClients(ClientFilter filter, std::function<void(std::vector<ClientFacts>)> done);
  // Closes every connection matching `filter` and reports how many. Connection
  // `self` (the caller) is not closed at once: it closes once its replies queued and
  // due so far (the deferred reply of its CLIENT KILL) are sent.
  void KillClients(ClientFilter filter, uint64_t self, std::function<void(size_t)> done);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace memento::net
