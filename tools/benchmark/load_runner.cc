#include "tools/benchmark/load_runner.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "net/socket_util.h"

namespace memento::benchmark {

namespace {

using net::UniqueFd;

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxSamplesPerThread = 10;
constexpr size_t kMaxSamples = 10;
constexpr int kEpollBatch = 64;
constexpr int kEpollWaitMs = 50;            // how often deadlines and time-outs are checked
constexpr int64_t kConnectTimeoutMs = 5000;
constexpr size_t kReplySlack = 64 * 1024;   // a reply may exceed the value by this much

// ---- connecting ----------------------------------------------------------------------

std::string Where(const LoadConfig& config) {
  return config.host + ":" + std::to_string(config.port);
}

Result<std::unique_ptr<addrinfo, void (*)(addrinfo*)>> Resolve(const LoadConfig& config) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const std::string port = std::to_string(config.port);
  const int rc = getaddrinfo(config.host.c_str(), port.c_str(), &hints, &list);
  if (rc != 0) {
    return Status::IOError("cannot resolve host '" + config.host + "': " + gai_strerror(rc));
  }
  return std::unique_ptr<addrinfo, void (*)(addrinfo*)>(list, freeaddrinfo);
}

// Connects to one address within kConnectTimeoutMs; the socket is left non-blocking,
// with TCP_NODELAY (requests are written in whole batches; Nagle would only delay
// them).
Result<UniqueFd> ConnectOne(const addrinfo& ai, const LoadConfig& config) {
  UniqueFd fd(socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     ai.ai_protocol));
  if (!fd.valid()) return Status::FromErrno("socket", errno);
  if (connect(fd.get(), ai.ai_addr, ai.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      return Status::FromErrno("cannot connect to " + Where(config), errno);
    }
    pollfd pfd{fd.get(), POLLOUT, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(kConnectTimeoutMs));
    if (ready == 0) {
      return Status::IOError("cannot connect to " + Where(config) + ": no answer within " +
                             std::to_string(kConnectTimeoutMs / 1000) + " s");
    }
    if (ready < 0) return Status::FromErrno("cannot connect to " + Where(config), errno);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Status::FromErrno("cannot connect to " + Where(config), err);
  }
  const int one = 1;
  setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Opens `count` connections, all to the first address that accepts one.
Result<std::vector<UniqueFd>> ConnectAll(const LoadConfig& config, int count) {
  auto resolved = Resolve(config);
  if (!resolved.ok()) return resolved.status();
  const addrinfo* chosen = nullptr;
  std::vector<UniqueFd> fds;
  Status last = Status::IOError("cannot connect to " + Where(config) + ": no address");
  for (const addrinfo* ai = resolved->get(); ai != nullptr; ai = ai->ai_next) {
    auto fd = ConnectOne(*ai, config);
    if (fd.ok()) {
      chosen = ai;
      fds.push_back(std::move(fd).value());
      break;
    }
    last = fd.status();
  }
  if (chosen == nullptr) return last;
  while (static_cast<int>(fds.size()) < count) {
    auto fd = ConnectOne(*chosen, config);
    if (!fd.ok()) {
      return Status::IOError(std::string(fd.status().message()) + " (connection " +
                             std::to_string(fds.size() + 1) + " of " +
                             std::to_string(count) + ")");
    }
    fds.push_back(std::move(fd).value());
  }
  return fds;
}

// One blocking request/reply on a non-blocking socket (the get phase's untimed SET).
Status RoundTrip(int fd, const LoadConfig& config, const std::string& request,
                 ReplyParser* parser, std::string* error) {
  size_t sent = 0;
  const int timeout_ms = static_cast<int>(config.timeout_s * 1000);
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      pollfd pfd{fd, POLLOUT, 0};
      if (poll(&pfd, 1, timeout_ms) <= 0) return Status::IOError("send timed out");
    } else {
      return Status::FromErrno("send", errno);
    }
  }
  std::string in;
  char buf[4096];
  for (;;) {
    Reply reply;
    ParseResult r = parser->Parse(in, &reply);
    if (r.status == ParseStatus::kOk) {
      *error = CheckReply(config.protocol, Op::kSet, kKeyOne, config.value_size, false, reply);
      return Status::OK();
    }
    if (r.status == ParseStatus::kError) return Status::IOError("protocol error: " + r.error);
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout_ms) <= 0) return Status::IOError("no reply in time");
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return Status::IOError("connection closed by the server");
    if (n < 0 && errno != EAGAIN) return Status::FromErrno("recv", errno);
    if (n > 0) in.append(buf, static_cast<size_t>(n));
  }
}

// ---- the load threads ----------------------------------------------------------------

// Received bytes not yet parsed: [begin_, end_) of data_. Reading appends at the end,
// parsing consumes at the front; the front is only moved down when room is needed,
// so a partial reply stays at the front of view() as the parsers require.
class InBuffer {
 public:
  std::string_view view() const { return {data_.data() + begin_, end_ - begin_}; }
  bool empty() const { return begin_ == end_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Room for at least n more bytes at end().
  char* Reserve(size_t n) {
    if (data_.size() - end_ < n) {
      if (begin_ > 0) {
        std::memmove(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (data_.size() - end_ < n) data_.resize(end_ + n);
    }
    return data_.data() + end_;
  }
  void Commit(size_t n) { end_ += n; }

 private:
  std::vector<char> data_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

// A request waiting for its reply.
struct InFlight {
  Op op;
  bool written;    // kGet: this run's SET of the key was answered before the GET was sent
  uint64_t index;  // the key's index (AppendKey)
};

struct Connection {
  int id = 0;  // 1-based, over the whole phase, for messages
  UniqueFd fd;
  std::unique_ptr<ReplyParser> parser;
  InBuffer in;
  std::string out;
  size_t out_pos = 0;
  std::vector<InFlight> inflight;
  size_t inflight_next = 0;  // the oldest request without a reply
  int64_t batch_start_us = 0;
  int64_t last_activity_us = 0;
  bool want_write = false;  // EPOLLOUT is registered
  bool finished = false;

  size_t outstanding() const { return inflight.size() - inflight_next; }
};

// What the threads of one phase share. `written` is read and set by every thread:
// a relaxed flag per key is enough, because a thread only needs to see "written" if
// the SET's reply came before it sends a GET, and a stale "not written" only makes
// the check more lenient (nil is then accepted), never wrong.
struct Shared {
  const LoadConfig* config;
  PhaseKind kind;
  int64_t start_us = 0;
  int64_t deadline_us = 0;  // 0: requests mode
  std::vector<std::atomic<uint8_t>> written;
};

class Worker {
 public:
  Worker(Shared* shared, int id, uint64_t quota)
      : shared_(shared), config_(*shared->config), id_(id), quota_(quota) {
    // xorshift64* state: any non-zero seed, distinct per thread.
    rng_ = (config_.seed + 1) * 0x9E3779B97F4A7C15ull ^ (static_cast<uint64_t>(id) + 1);
    if (rng_ == 0) rng_ = 1;
    if (shared_->kind != PhaseKind::kGrow && shared_->kind != PhaseKind::kMixed) {
      AppendValue(kKeyOne, config_.value_size, &fixed_value_);
    }
  }

  void Add(Connection conn) { conns_.push_back(std::move(conn)); }
  void Run();

  uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  void MergeInto(PhaseResult* result) const;

 private:
  uint64_t NextRandom() {
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545F4914F6CDD1Dull;
  }
  bool MoreToSend(int64_t now) const {
    if (shared_->deadline_us != 0) return now < shared_->deadline_us;
    return issued_ < quota_;
  }
  void StartBatch(Connection* c);
  void Flush(Connection* c);
  void ReadReplies(Connection* c, int64_t now);
  void Fail(Connection* c, const std::string& what);
  void Finish(Connection* c);
  void AddError(const Connection& c, const std::string& what);
  void SetWriteInterest(Connection* c, bool on);

  Shared* shared_;
  const LoadConfig& config_;
  const int id_;
  const uint64_t quota_;
  uint64_t issued_ = 0;
  uint64_t rng_;
  int epoll_fd_ = -1;
  int active_ = 0;
  std::vector<Connection> conns_;
  std::string key_;          // scratch
  std::string value_;        // scratch
  std::string fixed_value_;  // kSet, kGet: the one key's value

  std::atomic<uint64_t> completed_{0};  // written by this thread only
  std::atomic<bool> done_{false};
  LatencyHistogram latency_;
  uint64_t errors_ = 0;
  uint64_t sets_ = 0;
  uint64_t gets_ = 0;
  uint64_t get_misses_ = 0;
  int64_t end_us_ = 0;
  std::vector<std::string> samples_;
};

void Worker::AddError(const Connection& c, const std::string& what) {
  if (samples_.size() < kMaxSamplesPerThread) {
    samples_.push_back("connection " + std::to_string(c.id) + ": " + what);
  }
}

void Worker::SetWriteInterest(Connection* c, bool on) {
  if (c->want_write == on) return;
  c->want_write = on;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
  ev.data.u32 = static_cast<uint32_t>(c - conns_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd.get(), &ev);
}

void Worker::Finish(Connection* c) {
  if (c->finished) return;
  c->finished = true;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd.get(), nullptr);
  c->fd.Reset();
  active_--;
}

void Worker::Fail(Connection* c, const std::string& what) {
  // The unanswered requests of a dead connection count as errors, at least one error
  // in all so that a failure is never silent.
  const uint64_t lost = c->outstanding();
  errors_ += std::max<uint64_t>(lost, 1);
  AddError(*c, what + (lost != 0 ? " (" + std::to_string(lost) + " requests unanswered)" : ""));
  Finish(c);
}

void Worker::StartBatch(Connection* c) {
  const int64_t now = MonotonicMicros();
  if (!MoreToSend(now)) {
    Finish(c);
    return;
  }
  uint64_t n = static_cast<uint64_t>(config_.pipeline);
  if (shared_->deadline_us == 0) n = std::min(n, quota_ - issued_);
  c->out.clear();
  c->out_pos = 0;
  c->inflight.clear();
  c->inflight_next = 0;
  const PhaseKind kind = shared_->kind;
  for (uint64_t i = 0; i < n; i++) {
    InFlight req{Op::kSet, false, 0};
    switch (kind) {
      case PhaseKind::kSet:
        AppendSet(config_.protocol, kKeyOne, fixed_value_, &c->out);
        break;
      case PhaseKind::kGet:
        req.op = Op::kGet;
        req.written = true;  // written before the phase started
        AppendGet(config_.protocol, kKeyOne, &c->out);
        break;
      case PhaseKind::kGrow:
        // Thread t takes indices t, t + T, t + 2T, ...: distinct over the threads and,
        // in requests mode, exactly 0 .. requests-1 in all.
        req.index = static_cast<uint64_t>(id_) +
                    issued_ * static_cast<uint64_t>(config_.threads);
        key_.clear();
        AppendKey(kind, req.index, &key_);
        value_.clear();
        AppendValue(key_, config_.value_size, &value_);
        AppendSet(config_.protocol, key_, value_, &c->out);
        break;
      case PhaseKind::kMixed: {
        req.index = NextRandom() % config_.keyspace;
        const uint64_t total = uint64_t{config_.set_ratio} + config_.get_ratio;
        req.op = NextRandom() % total < config_.set_ratio ? Op::kSet : Op::kGet;
        key_.clear();
        AppendKey(kind, req.index, &key_);
        if (req.op == Op::kSet) {
          value_.clear();
          AppendValue(key_, config_.value_size, &value_);
          AppendSet(config_.protocol, key_, value_, &c->out);
        } else {
          req.written = shared_->written[req.index].load(std::memory_order_relaxed) != 0;
          AppendGet(config_.protocol, key_, &c->out);
        }
        break;
      }
    }
    c->inflight.push_back(req);
    issued_++;
  }
  c->batch_start_us = MonotonicMicros();
  c->last_activity_us = c->batch_start_us;
  Flush(c);
}

void Worker::Flush(Connection* c) {
  while (c->out_pos < c->out.size()) {
    const ssize_t n = send(c->fd.get(), c->out.data() + c->out_pos, c->out.size() - c->out_pos,
                           MSG_NOSIGNAL);
    if (n > 0) {
      c->out_pos += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (errno == EAGAIN) {
        SetWriteInterest(c, true);
        return;
      }
      continue;
    }
    Fail(c, std::string("send failed: ") + strerror(errno));
    return;
  }
  SetWriteInterest(c, false);
}

void Worker::ReadReplies(Connection* c, int64_t now) {
  char* dst = c->in.Reserve(kReadChunk);
  const ssize_t n = recv(c->fd.get(), dst, kReadChunk, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Fail(c, std::string("recv failed: ") + strerror(errno));
    return;
  }
  if (n == 0) {
    Fail(c, "connection closed by the server");
    return;
  }
  c->in.Commit(static_cast<size_t>(n));
  c->last_activity_us = now;
  const int64_t latency = std::max<int64_t>(0, now - c->batch_start_us);
  uint64_t done = 0;
  while (c->outstanding() > 0) {
    Reply reply;
    ParseResult r = c->parser->Parse(c->in.view(), &reply);
    if (r.status == ParseStatus::kNeedMore) break;
    if (r.status == ParseStatus::kError) {
      completed_.store(completed_.load(std::memory_order_relaxed) + done,
                       std::memory_order_relaxed);
      Fail(c, "not a reply of the protocol: " + r.error);
      return;
    }
    const InFlight& req = c->inflight[c->inflight_next++];
    latency_.Record(static_cast<uint64_t>(latency));
    done++;
    key_.clear();
    AppendKey(shared_->kind, req.index, &key_);
    if (req.op == Op::kSet) {
      sets_++;
    } else {
      gets_++;
      if (reply.type == ReplyType::kNil) get_misses_++;
    }
    std::string error =
        CheckReply(config_.protocol, req.op, key_, config_.value_size, req.written, reply);
    if (!error.empty()) {
      errors_++;
      AddError(*c, error);
    } else if (req.op == Op::kSet && shared_->kind == PhaseKind::kMixed) {
      shared_->written[req.index].store(1, std::memory_order_relaxed);
    }
    c->in.Consume(r.consumed);
  }
  // One writer: a plain load + store is enough, no locked add on every reply.
  completed_.store(completed_.load(std::memory_order_relaxed) + done, std::memory_order_relaxed);
  if (c->outstanding() == 0) {
    if (!c->in.empty()) {
      Fail(c, "the server sent " + std::to_string(c->in.view().size()) +
                  " bytes more than the replies to the requests sent");
      return;
    }
    StartBatch(c);
  }
}

void Worker::Run() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  active_ = static_cast<int>(conns_.size());
  for (size_t i = 0; i < conns_.size(); i++) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, conns_[i].fd.get(), &ev);
  }
  for (Connection& c : conns_) StartBatch(&c);
  const auto timeout_us = static_cast<int64_t>(config_.timeout_s * 1e6);
  epoll_event events[kEpollBatch];
  int64_t last_check_us = MonotonicMicros();
  while (active_ > 0) {
    const int n = epoll_wait(epoll_fd_, events, kEpollBatch, kEpollWaitMs);
    const int64_t now = MonotonicMicros();
    for (int i = 0; i < n; i++) {
      Connection* c = &conns_[events[i].data.u32];
      if (c->finished) continue;
      if ((events[i].events & EPOLLOUT) != 0) Flush(c);
      if (c->finished) continue;
      if ((events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        ReadReplies(c, now);
      }
    }
    if (now - last_check_us >= kEpollWaitMs * 1000) {
      last_check_us = now;
      for (Connection& c : conns_) {
        if (!c.finished && c.outstanding() > 0 && now - c.last_activity_us > timeout_us) {
          Fail(&c, "no reply within " + std::to_string(config_.timeout_s) + " s");
        }
      }
    }
  }
  end_us_ = MonotonicMicros();
  close(epoll_fd_);
  done_.store(true, std::memory_order_release);
}

void Worker::MergeInto(PhaseResult* result) const {
  result->replies += completed();
  result->errors += errors_;
  result->sets += sets_;
  result->gets += gets_;
  result->get_misses += get_misses_;
  result->latency.Merge(latency_);
  const double secs = static_cast<double>(end_us_ - shared_->start_us) / 1e6;
  result->seconds = std::max(result->seconds, secs);
  for (const std::string& s : samples_) {
    if (result->error_samples.size() < kMaxSamples) result->error_samples.push_back(s);
  }
}

}  // namespace

Result<PhaseResult> RunPhase(const LoadConfig& config, PhaseKind kind) {
  const int threads = std::max(1, std::min(config.threads, config.connections));
  LoadConfig effective = config;
  effective.threads = threads;
  const size_t max_reply = config.value_size + kReplySlack;

  auto fds = ConnectAll(effective, config.connections);
  if (!fds.ok()) return fds.status();

  if (kind == PhaseKind::kGet) {
    // The get phase reads one key: write it first (untimed), so every GET has a value
    // to return and to check, even when the phase runs alone.
    std::string request;
    AppendSet(config.protocol, kKeyOne, MakeValue(kKeyOne, config.value_size), &request);
    auto parser = ReplyParser::Create(config.protocol, max_reply);
    std::string wrong;
    Status st = RoundTrip((*fds)[0].get(), effective, request, parser.get(), &wrong);
    if (!st.ok()) {
      return Status::IOError("get phase: writing " + std::string(kKeyOne) + " first on " +
                             Where(config) + " failed: " + std::string(st.message()));
    }
    if (!wrong.empty()) {
      return Status::IOError("get phase: writing " + std::string(kKeyOne) + " first on " +
                             Where(config) + " failed: " + wrong);
    }
  }

  Shared shared{&effective, kind};
  if (kind == PhaseKind::kMixed) {
    shared.written = std::vector<std::atomic<uint8_t>>(config.keyspace);
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; t++) {
    uint64_t quota = config.requests / static_cast<uint64_t>(threads);
    if (static_cast<uint64_t>(t) < config.requests % static_cast<uint64_t>(threads)) quota++;
    workers.push_back(std::make_unique<Worker>(&shared, t, quota));
  }
  for (size_t i = 0; i < fds->size(); i++) {
    Connection conn;
    conn.id = static_cast<int>(i) + 1;
    conn.fd = std::move((*fds)[i]);
    conn.parser = ReplyParser::Create(config.protocol, max_reply);
    conn.inflight.reserve(static_cast<size_t>(config.pipeline));
    workers[i % static_cast<size_t>(threads)]->Add(std::move(conn));
  }

  tools::Progress progress(std::string(PhaseName(kind)),
                           config.duration_s > 0 ? 0 : config.requests, "requests",
                           config.progress);
  shared.start_us = MonotonicMicros();
  if (config.duration_s > 0) {
    shared.deadline_us = shared.start_us + static_cast<int64_t>(config.duration_s * 1e6);
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });
  for (;;) {
    uint64_t done = 0;
    bool all_done = true;
    for (auto& w : workers) {
      done += w->completed();
      all_done = all_done && w->done();
    }
    progress.Update(done);
    if (all_done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : running) t.join();
  progress.Finish();

  PhaseResult result;
  result.kind = kind;
  for (auto& w : workers) w->MergeInto(&result);
  return result;
}

}  // namespace memento::benchmark
