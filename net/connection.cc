#include "net/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <span>
#include <utility>

#include "common/clock.h"
#include "common/logging.h"
#include "common/strings.h"
#include "net/monitor_feed.h"

namespace memento::net {

namespace {

// Each read asks for at least this much; also the first input buffer's size.
constexpr size_t kMinReadSpace = 16 * 1024;
// An empty input buffer bigger than this is released.
constexpr size_t kMaxIdleInputCapacity = 4 * kMinReadSpace;
// An empty output buffer bigger than this is released (one big reply should not
// pin its memory for the life of an idle connection).
constexpr size_t kMaxIdleOutputCapacity = 64 * 1024;
// How long a closing connection waits for the peer to close after our last reply.
constexpr int64_t kLingerMicros = 1'000'000;
// Bytes thrown away per wakeup while lingering, and before a graceful close.
constexpr size_t kDiscardBudget = 64 * 1024;

// True for a request that is really HTTP: a browser pointed at our port, or a web
// page making the browser post to it (the cross-protocol attack Redis guards
// against: a form whose body holds commands, sent to 127.0.0.1). As Redis does,
// "POST" or "Host:" as a first token is enough wherever it appears (neither is a
// command, and "Host:" is the header every HTTP/1.1 request carries). Other methods
// need the whole request-line shape, "<METHOD> <target> HTTP/<version>", so that
// "GET key" stays a GET; the method is matched as HTTP spells it (upper case).
bool IsHttpRequest(std::span<const std::string_view> argv) {
  const std::string_view first = argv[0];
  if (EqualsIgnoreCase(first, "post") || EqualsIgnoreCase(first, "host:")) return true;
  if (argv.size() != 3 || !argv[2].starts_with("HTTP/")) return false;
  for (std::string_view method :
       {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"}) {
    if (first == method) return true;
  }
  return false;
}

// The limits a connection's parsers apply: the normal ones, or before
// authentication the pre-auth ones (never looser than the normal ones, which an
// operator may have set lower).
size_t LineLimit(const ServerOptions& options, bool preauth) {
  return preauth ? std::min(options.preauth_max_line, options.max_line) : options.max_line;
}
proto::RespLimits RespLimitsFor(const ServerOptions& options, bool preauth) {
  if (!preauth) return options.resp_limits;
  return proto::RespLimits{
      .max_bulk = std::min(options.preauth_resp_limits.max_bulk, options.resp_limits.max_bulk),
      .max_multibulk =
          std::min(options.preauth_resp_limits.max_multibulk, options.resp_limits.max_multibulk),
      .max_inline =
          std::min(options.preauth_resp_limits.max_inline, options.resp_limits.max_inline),
      .unauthenticated = true,
  };
}

}  // namespace

Connection::Connection(AcceptedSocket socket, uint64_t id, int epoll_fd,
                       const ServerOptions& options, CommandHandler* handler,
                       LoopCounters* counters, int64_t now_us,
                       std::shared_ptr<ReplyMailbox> mailbox, MonitorFeed* monitors)
    : fd_(std::move(socket.fd)),
      monitors_(monitors),
      epoll_fd_(epoll_fd),
      options_(options),
      handler_(handler),
      counters_(counters),
      preauth_limits_(handler->AuthRequired()),
      last_active_us_(now_us),
      parser_(LineLimit(options, preauth_limits_)),
      resp_parser_(RespLimitsFor(options, preauth_limits_)) {
  session_.id = id;
  session_.peer = std::move(socket.peer);
  session_.connected_ms = NowMillis();
  session_.mailbox = std::move(mailbox);
  session_.monitor_feed = monitors;
  SocketAddress local;
  local.length = sizeof(local.storage);
  if (::getsockname(fd_.get(), local.get(), &local.length) == 0) {
    local_address_ = FormatAddress(local);
  }
  LoopCounters::Add(counters_->connected_clients, 1);
}

Connection::~Connection() { Close(/*graceful=*/false); }

Status Connection::Register() {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = session_.id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd_.get(), &event) != 0) {
    Status status = Status::FromErrno("epoll_ctl(ADD) for client " + session_.peer, errno);
    Close(/*graceful=*/false);
    return status;
  }
  interest_ = EPOLLIN;
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Events

void Connection::OnEvents(uint32_t events) {
  if (state_ == State::kClosed) return;
  if (events & EPOLLERR) {
    Close(/*graceful=*/false);
    return;
  }
  if (state_ == State::kLingering) {
    // EPOLLHUP shows up here as a recv() of 0 or an error.
    if (DiscardInput(kDiscardBudget)) Close(/*graceful=*/false);
    return;
  }
  if (events & EPOLLHUP) {
    // Both directions are gone (reset, or shut down on both sides): nothing queued
    // can be delivered any more.
    Close(/*graceful=*/false);
    return;
  }
  // The interest may have changed since epoll_wait() reported EPOLLIN, so check
  // again that reading is wanted.
  if ((events & EPOLLIN) && state_ == State::kOpen && !peer_eof_ && !output_paused()) {
    ReadInput();
    if (state_ == State::kClosed) return;
  }
  // EPOLLOUT needs nothing special: Process() flushes and, if that brought the
  // output below the pause limit, executes the requests that were held back.
  Process();
}

void Connection::BeginDrain() {
  switch (state_) {
    case State::kClosed:
      return;
    case State::kLingering:
      Close(/*graceful=*/false);
      return;
    case State::kOpen:
    case State::kClosing:
      state_ = State::kClosing;
      linger_ = false;  // the server is going away; no time to wait for the peer
      // A forwarded request's reply is still due: wait for it (the loop's drain
      // deadline bounds the wait).
      if (unsent_output() == 0 && held_.empty()) {
        Close(/*graceful=*/true);
        return;
      }
      UpdateInterest();
      return;
  }
}

// ---------------------------------------------------------------------------
// Input

void Connection::ReserveInput() {
  if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  if (in_capacity_ - in_end_ >= kMinReadSpace) return;
  const size_t used = in_end_ - in_start_;
  // Moving the unconsumed tail to the front costs a memmove, so do it only when it
  // frees at least half the buffer; otherwise grow (which compacts as it copies).
  if (in_start_ > 0 && in_start_ >= in_capacity_ / 2) {
    std::memmove(in_.get(), in_.get() + in_start_, used);
    in_start_ = 0;
    in_end_ = used;
    if (in_capacity_ - in_end_ >= kMinReadSpace) return;
  }
  size_t capacity = in_capacity_ == 0 ? kMinReadSpace : in_capacity_ * 2;
  while (capacity - used < kMinReadSpace) capacity *= 2;
  // Not zero-filled: the pages of a large buffer become resident only as bytes
  // actually arrive.
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (used > 0) std::memcpy(bigger.get(), in_.get() + in_start_, used);
  in_ = std::move(bigger);
  in_capacity_ = capacity;
  in_start_ = 0;
  in_end_ = used;
  // The input never holds more than max_query_buffer plus one read of unconsumed
  // bytes (ExecuteBuffered() closes the connection beyond it; the parsers fail
  // longer lines and over-limit lengths on sight; reading stops while output is
  // paused), so this growth is bounded.
}

void Connection::ReadInput() {
  ReserveInput();
  ssize_t n = ::recv(fd_.get(), in_.get() + in_end_, in_capacity_ - in_end_, 0);
  if (n > 0) {
    in_end_ += static_cast<size_t>(n);
    LoopCounters::Add(counters_->net_input_bytes, static_cast<uint64_t>(n));
    return;
  }
  if (n == 0) {
    // The peer will send nothing more. Requests already received still run and
    // their replies are still sent (a client may half-close after its last
    // request); then the connection closes.
    peer_eof_ = true;
    return;
  }
  // Level-triggered: after EAGAIN or EINTR epoll simply reports the socket again.
  if (errno == EAGAIN || errno == EINTR) return;
  // ECONNRESET and friends: the peer is gone.
  Close(/*graceful=*/false);
}

bool Connection::DiscardInput(size_t budget) {
  char scratch[4096];
  while (budget > 0) {
    ssize_t n = ::recv(fd_.get(), scratch, sizeof(scratch), 0);
    if (n > 0) {
      LoopCounters::Add(counters_->net_input_bytes, static_cast<uint64_t>(n));
      budget -= std::min(budget, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return false;
    return true;  // EOF or an error: the peer is done
  }
  return false;
}

// ---------------------------------------------------------------------------
// Execution

void Connection::Process() {
  if (awaiting_commit_) return;  // OnCommitted() resumes
  for (;;) {
    const size_t mark = out_.size();
    const uint64_t executed_before = executed_;
    bool stalled_on_output = state_ == State::kOpen && ExecuteBuffered();
    // Not "did out_ grow": a reply may be held behind a deferred one, or be the
    // deferred one itself (which may acknowledge a write made in this round, e.g. the
    // local part of a multi-node DEL). Whatever this round executed waits for the
    // commit; held replies leave only after it anyway (OnCommitted drops them on
    // failure).
    if (executed_ != executed_before && handler_->HasUncommitted()) {
      // Hold this round's replies until the loop's CommitRound() (see
      // CommandHandler::HasUncommitted). Nothing after `mark` is sent until then.
      awaiting_commit_ = true;
      commit_mark_ = mark;
      return;
    }
    if (output_overflow_) {
      Close(/*graceful=*/false);  // the output is not worth sending
      return;
    }
    if (!Flush()) return;
    if (state_ == State::kClosing && unsent_output() == 0 && held_.empty()) {
      FinishClosing();
      return;
    }
    // Requests were held back by back-pressure but the flush made room: go on.
    if (!stalled_on_output || state_ != State::kOpen || output_paused()) break;
  }
  UpdateInterest();
}

void Connection::OnCommitted(const Status& status) {
  if (!awaiting_commit_) return;
  awaiting_commit_ = false;
  if (state_ == State::kClosed) return;
  if (!status.ok()) {
    // Never acknowledge what may not be durable: drop the round's replies, and the
    // held ones (some may be this round's; the connection closes anyway).
    out_.resize(commit_mark_);
    held_.clear();
    held_bytes_ = 0;
    AimReplies();
    std::string message = "ERR write-ahead log failed, durability unknown, connection closed: ";
    for (char ch : status.message()) message.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
    reply_->Error(message);
    if (state_ == State::kOpen) StartClosing(/*linger=*/true);
  }
  Process();
}

void Connection::OnDeferredReply(uint64_t sequence, std::string bytes) {
  if (state_ == State::kClosed || state_ == State::kLingering) return;
  auto it = held_.begin();
  while (it != held_.end() && it->sequence != sequence) ++it;
  if (it == held_.end() || it->arrived) return;  // dropped (failed commit) or twice
  it->arrived = true;
  if (it->discard) bytes.clear();  // CLIENT REPLY OFF/SKIP
  held_bytes_ += bytes.size();
  it->reply = std::move(bytes);
  // Release, in order, every deferred reply that has arrived with nothing before it
  // still missing, and the replies held behind each.
  while (!held_.empty() && held_.front().arrived) {
    Held& front = held_.front();
    held_bytes_ -= front.reply.size() + front.after.size();
    out_ += front.reply;
    out_ += front.after;
    held_.pop_front();
  }
  AimReplies();
  if (output_over_limit()) {
    OverOutputLimit();
  }
  Process();
}

void Connection::QueueMonitorLines(const std::string& lines) {
  if (state_ != State::kOpen && state_ != State::kClosing) return;
  if (output_overflow_) return;  // closing for that already
  if (session_.reply_off) return;  // Redis's CLIENT REPLY OFF silences monitors too
  std::string* target = held_.empty() ? &out_ : &held_.back().after;
  target->append(lines);
  if (!held_.empty()) held_bytes_ += lines.size();
  if (session_.feed != nullptr) {
    session_.feed->delivered.fetch_add(lines.size(), std::memory_order_relaxed);
    session_.feed->unsent.store(pending_output(), std::memory_order_relaxed);
  }
  if (output_over_limit()) OverOutputLimit();
}

void Connection::CloseAfterReplies() {
  if (state_ != State::kOpen) return;
  StartClosing(/*linger=*/true);
  // Nothing more is read; what is queued still goes out (Process() finishes the
  // close once the deferred reply has arrived and been sent).
  in_start_ = in_end_ = 0;
  UpdateInterest();
}

ClientFacts Connection::Facts(int64_t now_us, int64_t now_ms) const {
  ClientFacts f;
  f.id = session_.id;
  f.addr = session_.peer;
  f.laddr = local_address_;
  f.fd = fd_.get();
  f.name = session_.name;
  f.age_s = (now_ms - session_.connected_ms) / 1000;
  f.idle_s = (now_us - last_active_us_) / 1000000;
  f.monitor = session_.monitoring;
  f.dialect = session_.dialect;
  f.multi = session_.command_state != nullptr ? session_.command_state->QueuedCommands() : -1;
  f.qbuf = in_end_ - in_start_;
  f.qbuf_free = in_capacity_ - in_end_;
  f.rbs = in_capacity_;
  f.obl = unsent_output();
  f.oll = held_.size();
  f.omem = held_bytes_;
  f.tot_mem = sizeof(*this) + in_capacity_ + out_.capacity() + held_bytes_ +
              session_.name.capacity() + session_.peer.capacity();
  f.reading = (interest_ & EPOLLIN) != 0;
  f.writing = (interest_ & EPOLLOUT) != 0;
  f.cmd = session_.last_command.empty() ? "NULL" : session_.last_command;
  return f;
}

void Connection::OverOutputLimit() {
  log::Warning("client %s: %zu bytes of unsent replies, over the output buffer limit "
               "(%zu); closing it",
               session_.peer.c_str(), pending_output(), options_.max_output_buffer);
  LoopCounters::Add(counters_->output_limit_disconnections, 1);
  output_overflow_ = true;
  in_start_ = in_end_ = 0;
  StartClosing(/*linger=*/false);
}

void Connection::AimReplies() {
  std::string* target = held_.empty() ? &out_ : &held_.back().after;
  text_reply_.set_output(target);
  resp_reply_.set_output(target);
}

void Connection::ChooseLimits() {
  // An authenticated session never asks again: the common case costs one branch.
  const bool want = !session_.authenticated && handler_->AuthRequired();
  if (want == preauth_limits_) return;
  preauth_limits_ = want;
  // Fresh parsers: a pending request is parsed again from its first byte, which is
  // still at the front of the input; the old parser's saved progress was measured
  // against the other limits. Happens about once per connection (after AUTH).
  parser_ = proto::TextParser(LineLimit(options_, want));
  resp_parser_ = proto::RespParser(RespLimitsFor(options_, want));
}

void Connection::CloseIdle() {
  log::Debug("client %s: idle for over %lld ms; closing", session_.peer.c_str(),
             static_cast<long long>(options_.idle_timeout_ms));
  LoopCounters::Add(counters_->idle_disconnections, 1);
  Close(/*graceful=*/true);
}

bool Connection::ExecuteBuffered() {
  uint64_t executed = 0;
  bool stalled = false;
  while (state_ == State::kOpen && held_.size() < kMaxDeferredReplies) {
    if (output_paused()) {
      stalled = true;
      break;
    }
    ChooseLimits();
    proto::ParseResult result;
    if (in_end_ > in_start_) {
      std::string_view input(in_.get() + in_start_, in_end_ - in_start_);
      // The front byte is always the first byte of the pending request (a partial one
      // included). A request starting with '*' is a RESP2 multibulk: the client is a
      // Redis client (redis-cli, client libraries, redis-benchmark's *_MBULK tests),
      // and, as Redis accepts multibulk requests on a connection that began with
      // inline ones, the connection speaks RESP2 from then on (docs/protocol.md,
      // "One port, two protocols"). Nothing else is a RESP2 client's first byte.
      if (session_.dialect == Dialect::kText && input.front() == '*') {
        session_.dialect = Dialect::kResp;
        reply_ = &resp_reply_;
      }
      result = session_.dialect == Dialect::kResp ? resp_parser_.Parse(input, &argv_)
                                                  : parser_.Parse(input, &argv_);
    }
    if (result.status == proto::ParseStatus::kNeedMore) {
      if (in_end_ - in_start_ > options_.max_query_buffer) {
        // A request (say, many large bulks) still arriving after this much: as
        // Redis's client-query-buffer-limit, but with a reply saying why.
        log::Debug("client %s: unconsumed input over %zu bytes; closing", session_.peer.c_str(),
                   options_.max_query_buffer);
        reply_->Error("ERR Protocol error: request exceeds the query buffer limit of " +
                      std::to_string(options_.max_query_buffer) + " bytes");
        LoopCounters::Add(counters_->query_limit_disconnections, 1);
        in_start_ = in_end_ = 0;
        StartClosing(/*linger=*/true);
        break;
      }
      if (peer_eof_) StartClosing(/*linger=*/false);  // a partial last line is dropped
      break;
    }
    if (result.status == proto::ParseStatus::kError) {
      // As Redis' setProtocolError: say why, then close. The rest of the input is
      // never read or parsed.
      log::Debug("client %s: %.*s; closing", session_.peer.c_str(),
                 static_cast<int>(result.error.size()), result.error.data());
      reply_->Error(result.error);
      LoopCounters::Add(counters_->protocol_errors, 1);
      in_start_ = in_end_ = 0;
      StartClosing(/*linger=*/true);
      break;
    }
    // argv_ views stay valid through Execute(): the buffer only moves in ReadInput().
    in_start_ += result.consumed;
    if (argv_.empty()) continue;  // a blank line is not a request
    if (IsHttpRequest(argv_)) {
      // No reply: whatever reads it is not a client of ours (Redis does the same).
      log::Debug("client %s: HTTP request (a browser, or a cross-protocol attack); closing",
                 session_.peer.c_str());
      LoopCounters::Add(counters_->protocol_errors, 1);
      in_start_ = in_end_ = 0;
      StartClosing(/*linger=*/false);
      break;
    }
    // Replies go to a held buffer while a deferred reply is outstanding (AimReplies).
    std::string* const target = held_.empty() ? &out_ : &held_.back().after;
    const size_t target_before = target->size();
    // A text connection's request for a command Memento's text protocol does not
    // have is a Redis inline command: it runs, and is answered, as RESP2 (Redis's
    // inline protocol), so `PING` gets "+PONG" and `INCR n` ":1".
    const bool redis_inline =
        session_.dialect == Dialect::kText && !handler_->IsTextCommand(argv_[0]);
    if (redis_inline) {
      session_.dialect = Dialect::kResp;
      reply_ = &resp_reply_;
    }
    // CLIENT REPLY SKIP drops the reply of the request after it (Redis's
    // CLIENT_REPLY_SKIP_NEXT becoming CLIENT_REPLY_SKIP).
    const bool skip_this = session_.reply_skip_next;
    session_.reply_skip_next = false;
    handler_->Execute(session_, argv_, *reply_);
    if (redis_inline) {
      session_.dialect = Dialect::kText;
      reply_ = &text_reply_;
    }
    ++executed;
    ++executed_;
    // Under CLIENT REPLY OFF (including the request that turned it off) or SKIP the
    // reply is encoded, then dropped: the command layer need not know.
    const bool discard = skip_this || session_.reply_off;
    if (discard) target->resize(target_before);
    if (!held_.empty()) held_bytes_ += target->size() - target_before;
    if (session_.deferred) {
      // The reply comes later (OnDeferredReply); the replies of later requests are
      // held behind it.
      session_.deferred = false;
      held_.push_back(Held{.sequence = session_.next_deferred - 1, .discard = discard});
      AimReplies();
    }
    if (output_over_limit()) {
      // One reply (a large value, KEYS) went past the hard limit: back-pressure
      // cannot help, the memory is already taken. Process() closes the connection
      // once this round's writes are committed.
      OverOutputLimit();
      break;
    }
    if (session_.close_after_reply) StartClosing(/*linger=*/true);
  }
  if (in_start_ == in_end_) {
    in_start_ = in_end_ = 0;
    // A buffer that grew for one long line goes back to the allocator once empty.
    if (in_capacity_ > kMaxIdleInputCapacity) {
      in_.reset();
      in_capacity_ = 0;
    }
  }
  if (executed > 0) LoopCounters::Add(counters_->total_commands, executed);
  if (!session_.monitor_lines.empty()) {
    // One post per monitor for the whole batch (see MonitorFeed).
    monitors_->Publish(session_.monitor_lines);
    session_.monitor_lines.clear();
    // A long pipelined batch should not pin its lines' memory for the connection's life.
    if (session_.monitor_lines.capacity() > kMaxIdleOutputCapacity) {
      std::string().swap(session_.monitor_lines);
    }
  }
  return stalled;
}

// ---------------------------------------------------------------------------
// Output

bool Connection::Flush() {
  while (out_sent_ < out_.size()) {
    // MSG_NOSIGNAL: a peer that is gone yields EPIPE here instead of a SIGPIPE that
    // would kill the process unless someone remembered to ignore it.
    ssize_t n = ::send(fd_.get(), out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n > 0) {
      out_sent_ += static_cast<size_t>(n);
      LoopCounters::Add(counters_->net_output_bytes, static_cast<uint64_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;  // the rest waits for EPOLLOUT
    Close(/*graceful=*/false);            // EPIPE, ECONNRESET: the peer is gone
    return false;
  }
  if (out_sent_ == out_.size()) {
    out_.clear();
    out_sent_ = 0;
    if (out_.capacity() > kMaxIdleOutputCapacity) std::string().swap(out_);
  } else if (out_sent_ > out_.size() / 2) {
    // Compact once more than half is sent, so the memmove is paid for by the sends.
    out_.erase(0, out_sent_);
    out_sent_ = 0;
  }
  if (session_.feed != nullptr) {
    session_.feed->unsent.store(pending_output(), std::memory_order_relaxed);
  }
  return true;
}

void Connection::UpdateInterest() {
  uint32_t want = 0;
  switch (state_) {
    case State::kOpen:
      // Not at the deferred-reply limit: the input stays bounded by what is already
      // buffered until the oldest arrives.
      if (!peer_eof_ && !output_paused() && held_.size() < kMaxDeferredReplies) {
        want |= EPOLLIN;
      }
      if (unsent_output() > 0) want |= EPOLLOUT;
      break;
    case State::kClosing:
      if (unsent_output() > 0) want |= EPOLLOUT;
      break;
    case State::kLingering:
      want = EPOLLIN;
      break;
    case State::kClosed:
      return;
  }
  if (want == interest_) return;
  epoll_event event{};
  event.events = want;
  event.data.u64 = session_.id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_.get(), &event) != 0) {
    log::Warning("epoll_ctl(MOD) for client %s: %s; closing it", session_.peer.c_str(),
                 std::strerror(errno));
    Close(/*graceful=*/false);
    return;
  }
  interest_ = want;
}

// ---------------------------------------------------------------------------
// Closing

void Connection::StartClosing(bool linger) {
  if (state_ != State::kOpen) return;
  state_ = State::kClosing;
  linger_ = linger;
}

void Connection::FinishClosing() {
  assert(state_ == State::kClosing && unsent_output() == 0 && held_.empty());
  if (!linger_ || peer_eof_) {
    Close(/*graceful=*/true);
    return;
  }
  // Our FIN follows the last reply, so the client sees it and then EOF. The peer
  // may still be sending (the rest of an over-long line, requests pipelined after
  // QUIT); reading those bytes until it closes keeps the kernel from answering
  // them with RST, which could destroy replies not yet delivered.
  if (::shutdown(fd_.get(), SHUT_WR) != 0) {
    Close(/*graceful=*/false);
    return;
  }
  state_ = State::kLingering;
  linger_deadline_us_ = MonotonicMicros() + kLingerMicros;
  in_.reset();
  in_capacity_ = in_start_ = in_end_ = 0;
  UpdateInterest();
}

void Connection::Close(bool graceful) {
  if (state_ == State::kClosed) return;
  if (session_.monitoring) {
    monitors_->Remove(session_.id);
    session_.monitoring = false;
  }
  session_.feed.reset();  // its feeder stops (TAIL)
  // Unread input at close() makes the kernel reset the connection and drop unsent
  // bytes; take in what is already there (bounded) to avoid that in the common case.
  if (graceful && !peer_eof_) (void)DiscardInput(kDiscardBudget);
  // The fd is never duplicated, so closing it also removes it from the epoll set.
  fd_.Reset();
  state_ = State::kClosed;
  in_.reset();
  in_capacity_ = in_start_ = in_end_ = 0;
  std::string().swap(out_);
  out_sent_ = 0;
  held_.clear();
  held_bytes_ = 0;
  AimReplies();
  LoopCounters::Sub(counters_->connected_clients, 1);
  LoopCounters::Add(counters_->closed_connections, 1);
}

}  // namespace memento::net
