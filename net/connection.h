// Connection: one client socket served by an event loop.
//
// A connection owns an input buffer that the incremental TextParser reads requests
// from (any number per read, or one split across many reads), and an output buffer
// that replies are encoded into and drained with non-blocking sends. Replies leave in
// request order and are never dropped while the peer is reachable.
//
// Life cycle (state()):
//   kOpen      reading, executing, writing.
//   kClosing   executes nothing more (QUIT, protocol error, peer EOF, server
//              shutdown); writes out what is queued, then closes or lingers.
//   kLingering our side is shut down for writing (the peer sees EOF after the last
//              reply); input is read and thrown away until the peer closes or
//              linger_deadline_us() passes. Closing with unread input would make
//              the kernel send RST, which may destroy replies still in flight.
//   kClosed    the fd is closed; the owner may destroy the object.
//
// Back-pressure: while more than output_pause_bytes are unsent, the connection
// neither parses buffered input nor reads from the socket (EPOLLIN is off), so a
// client that does not read its replies holds bounded memory and cannot starve the
// others on the same loop. It resumes once its output drains below the limit.
//
// Limits (ServerOptions; docs/security.md): a single reply can still take the
// output past the pause threshold, so beyond max_output_buffer the connection is
// closed at once. Unconsumed input beyond max_query_buffer is an error reply and a
// close. Until the session is authenticated, while the handler requires a password,
// requests are parsed with the small preauth_* limits. An HTTP request ("GET /
// HTTP/1.1", "POST", "Host:": a browser or a cross-protocol attack) closes the
// connection without a reply, as Redis does.
//
// Thread-safety: everything runs on the owning loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/counters.h"
#include "net/listener.h"
#include "net/proto/resp_parser.h"
#include "net/proto/resp_reply.h"
#include "net/proto/text_parser.h"
#include "net/proto/text_reply.h"
#include "net/server.h"
#include "net/socket_util.h"

namespace memento::net {

class Connection {
 public:
  enum class State { kOpen, kClosing, kLingering, kClosed };

  // "options", "*handler" and "*counters" must outlive the connection; `epoll_fd`
  // must stay open while it is not kClosed. The connection counts itself in
  // counters->connected_clients until it closes. `now_us` (MonotonicMicros()) starts
  // its idle clock.
  // `mailbox` receives this connection's deferred replies (DeferReply()).
  Connection(AcceptedSocket socket, uint64_t id, int epoll_fd, const ServerOptions& options,
             CommandHandler* handler, LoopCounters* counters, int64_t now_us,
             std::shared_ptr<ReplyMailbox> mailbox);
  ~Connection();  // closes the socket if still open
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Adds the socket to the epoll set with data.u64 = id(). On error the connection
  // is closed and the error returned.
  Status Register();

  // Handles the events epoll reported for this socket.
  void OnEvents(uint32_t events);
  // Server shutdown: executes nothing more, keeps writing queued replies and closes
  // once they are out (the loop enforces the deadline with Abort()).
  void BeginDrain();
  // Closes now, discarding unsent output.
  void Abort() { Close(/*graceful=*/false); }
  // The loop saw socket activity at `now_us` (bytes to read, or room to write: the
  // peer took some of our output). Idle time counts from the last such moment.
  void MarkActive(int64_t now_us) { last_active_us_ = now_us; }
  int64_t last_active_us() const { return last_active_us_; }
  // Closes a connection found idle for longer than idle_timeout_ms (counted).
  void CloseIdle();

  // True when requests executed in this round wait for the handler's CommitRound()
  // before their replies may be sent.
  bool awaiting_commit() const { return awaiting_commit_; }
  // Deferred replies (DeferReply()) are still due: the connection waits on us, not on
  // its peer, so it is not idle.
  bool awaiting_deferred() const { return !held_.empty(); }
  // The loop's CommitRound() finished: sends the round's replies (ok) or replaces
  // them with one error and closes (not ok).
  void OnCommitted(const Status& status);

  // Deferred reply `sequence` (DeferReply()) arrived: it and the replies held behind
  // it go out once every deferred reply before it has arrived too.
  void OnDeferredReply(uint64_t sequence, std::string bytes);

  uint64_t id() const { return session_.id; }
  State state() const { return state_; }
  // REQUIRES: state() == kLingering. MonotonicMicros() after which to Abort().
  int64_t linger_deadline_us() const { return linger_deadline_us_; }

 private:
  // Encoded and sendable, not yet sent.
  size_t unsent_output() const { return out_.size() - out_sent_; }
  // Everything this connection's replies hold: unsent plus held behind a deferred
  // reply. What the output limits and back-pressure count.
  size_t pending_output() const { return unsent_output() + held_bytes_; }
  bool output_paused() const { return pending_output() > options_.output_pause_bytes; }
  bool output_over_limit() const {
    return options_.max_output_buffer != 0 && pending_output() > options_.max_output_buffer;
  }

  // Makes the parsers apply the pre-auth limits if the session must still
  // authenticate, the normal ones otherwise (see ServerOptions::preauth_*).
  void ChooseLimits();
  void ReadInput();
  // Parses, executes and flushes until nothing more can be done now; then fixes the
  // epoll interest. May close the connection.
  void Process();
  // Executes complete requests from the input buffer. Returns true if it stopped
  // because the output crossed output_pause_bytes (there may be more to execute).
  bool ExecuteBuffered();
  // Sends as much queued output as the socket takes. Returns false if the send
  // failed and the connection was closed.
  bool Flush();
  // Executes nothing more; once the output is flushed, lingers (if `linger`) or
  // closes.
  void StartClosing(bool linger);
  // The output is flushed in kClosing: linger or close.
  void FinishClosing();
  // Reads and throws away up to `budget` bytes. Returns true if the peer has
  // closed (or reset) its side.
  bool DiscardInput(size_t budget);
  void UpdateInterest();
  // Makes room for at least kMinReadSpace bytes after in_end_.
  void ReserveInput();
  void Close(bool graceful);

  UniqueFd fd_;
  const int epoll_fd_;
  const ServerOptions& options_;
  CommandHandler* const handler_;
  LoopCounters* const counters_;

  State state_ = State::kOpen;
  bool linger_ = false;    // in kClosing: linger after the flush
  bool peer_eof_ = false;  // the peer shut down its sending side
  bool awaiting_commit_ = false;  // replies from out_[commit_mark_..] wait for CommitRound()
  // Deferred replies not yet all arrived, oldest first. Each holds its reply once it
  // arrives and the replies of the requests executed after it (before the next
  // deferral), which cannot be sent before it. While this is not empty the reply
  // encoders append to held_.back().after instead of out_ (AimReplies()).
  struct Held {
    uint64_t sequence = 0;
    bool arrived = false;
    std::string reply;
    std::string after;
  };
  std::deque<Held> held_;
  size_t held_bytes_ = 0;  // of every reply and after in held_
  uint64_t executed_ = 0;  // requests executed over the connection's life
  // Points the reply encoders at out_, or at the newest held buffer.
  void AimReplies();
  // The replies went past max_output_buffer: counted, and the connection closes
  // (output discarded) as soon as the round's commit allows.
  void OverOutputLimit();
  size_t commit_mark_ = 0;
  // A reply took the output past max_output_buffer: no more execution, and the
  // connection is closed (output discarded) as soon as the round's commit allows.
  bool output_overflow_ = false;
  // The parsers were built with the pre-auth limits (ChooseLimits()).
  bool preauth_limits_ = false;
  uint32_t interest_ = 0;  // events currently registered with epoll
  int64_t linger_deadline_us_ = 0;
  int64_t last_active_us_ = 0;

  Session session_;
  proto::TextParser parser_;
  proto::RespParser resp_parser_;  // used instead of parser_ when session_.dialect is kResp
  std::vector<std::string_view> argv_;  // views into in_, reused across requests

  // Input: bytes [in_start_, in_end_) of in_ are received but not yet consumed.
  std::unique_ptr<char[]> in_;
  size_t in_capacity_ = 0;
  size_t in_start_ = 0;
  size_t in_end_ = 0;

  // Output: bytes [out_sent_, out_.size()) are encoded but not yet sent.
  std::string out_;
  size_t out_sent_ = 0;
  proto::TextReplyBuilder text_reply_{&out_};
  proto::RespReplyBuilder resp_reply_{&out_};
  // The encoder for this connection's dialect: text until a request starts with '*'
  // (ExecuteBuffered), and RESP2 for a text connection's Redis inline commands.
  proto::ReplyBuilder* reply_ = &text_reply_;
};

}  // namespace memento::net
