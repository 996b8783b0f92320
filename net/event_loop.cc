#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "common/clock.h"
#include "common/logging.h"

namespace memento::net {

namespace {

// epoll data of the wakeup eventfd; connection ids start at 1.
constexpr uint64_t kWakeId = 0;
constexpr int kMaxEventsPerWait = 256;
// How often idle connections are looked for: every second, or twice per timeout
// when the timeout is shorter (tests), but not more often than every 10 ms.
int64_t IdleSweepMicros(int64_t idle_timeout_ms) {
  return std::clamp<int64_t>(idle_timeout_ms / 2, 10, 1000) * 1000;
}

}  // namespace

EventLoop::EventLoop(int index, const ServerOptions& options, CommandHandler* handler,
                     LoopCounters* counters, MonitorFeed* monitors)
    : index_(index),
      options_(options),
      handler_(handler),
      counters_(counters),
      monitors_(monitors) {}

EventLoop::~EventLoop() {
  assert(!thread_.joinable());
  if (mailbox_ != nullptr) mailbox_->Close();  // before wake_fd_ closes
}

Status EventLoop::Init() {
  epoll_fd_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return Status::FromErrno("epoll_create1", errno);
  wake_fd_.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_fd_.valid()) return Status::FromErrno("eventfd", errno);
  mailbox_ = std::make_shared<ReplyMailbox>(wake_fd_.get());
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeId;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &event) != 0) {
    return Status::FromErrno("epoll_ctl(ADD) for the wakeup eventfd", errno);
  }
  return Status::OK();
}

void EventLoop::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

// ---------------------------------------------------------------------------
// Cross-thread entry points

void EventLoop::AddConnection(AcceptedSocket socket, uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The acceptor is stopped before the loops, so this does not race with a stop;
    // if it did, OnWakeup() closes whatever is still queued.
    pending_.push_back(Handoff{std::move(socket), id});
  }
  uint64_t one = 1;
  // Cannot fail short of a counter overflow (2^64 - 1 wakeups without a read).
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

bool EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (exited_) return false;
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
  return true;
}

void EventLoop::RequestStop(int64_t deadline_us) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
    stop_deadline_us_ = deadline_us;
  }
  uint64_t one = 1;
  (void)!::write(wake_fd_.get(), &one, sizeof(one));
}

// ---------------------------------------------------------------------------
// The loop

void EventLoop::Run() {
  epoll_event events[kMaxEventsPerWait];
  if (options_.idle_timeout_ms > 0) {
    next_idle_sweep_us_ = MonotonicMicros() + IdleSweepMicros(options_.idle_timeout_ms);
  }
  for (;;) {
    int n =
        ::epoll_wait(epoll_fd_.get(), events, kMaxEventsPerWait, NextTimeoutMs(MonotonicMicros()));
    // One clock read per wakeup dates every event of the batch (idle accounting
    // needs no finer grain).
    const int64_t woke_us = MonotonicMicros();
    if (n < 0) {
      if (errno == EINTR) continue;
      // Only EBADF/EFAULT/EINVAL are possible: a programming error. Stop serving
      // rather than spin.
      log::Error("event loop %d: epoll_wait: %s; closing its connections", index_,
                 std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[i].data.u64;
      if (id == kWakeId) {
        OnWakeup();
        continue;
      }
      // A connection closed earlier in this batch is already gone: ids are never
      // reused, so a stale event finds nothing (an fd number could have been).
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      Connection* connection = it->second.get();
      const Connection::State before = connection->state();
      connection->MarkActive(woke_us);
      connection->OnEvents(events[i].events);
      if (connection->awaiting_commit()) awaiting_commit_.push_back(id);
      AfterEvents(connection, before);
    }
    if (!awaiting_commit_.empty()) CommitRound();
    const int64_t now_us = MonotonicMicros();
    ExpireLingering(now_us);
    if (options_.idle_timeout_ms > 0 && !draining_ && now_us >= next_idle_sweep_us_) {
      SweepIdle(now_us);
      next_idle_sweep_us_ = now_us + IdleSweepMicros(options_.idle_timeout_ms);
    }
    if (draining_ && (connections_.empty() || now_us >= drain_deadline_us_)) break;
  }
  // Whatever is left did not drain in time (or the loop failed): close it. Replies
  // completed from now on have nowhere to go.
  mailbox_->Close();
  connections_.clear();
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.clear();
    exited_ = true;
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();  // they find no connection, but report back
}

void EventLoop::CommitRound() {
  // A connection's resumed Process() may execute more requests (ones held back by
  // back-pressure) and wait again: commit until nobody waits.
  while (!awaiting_commit_.empty()) {
    const Status status = handler_->CommitRound();
    std::vector<uint64_t> round;
    round.swap(awaiting_commit_);
    for (uint64_t id : round) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      Connection* connection = it->second.get();
      const Connection::State before = connection->state();
      connection->OnCommitted(status);
      if (connection->awaiting_commit()) awaiting_commit_.push_back(id);
      AfterEvents(connection, before);
    }
  }
}

void EventLoop::OnWakeup() {
  uint64_t count;
  (void)!::read(wake_fd_.get(), &count, sizeof(count));

  std::vector<Handoff> adopted;
  std::vector<std::function<void()>> tasks;
  bool stop = false;
  int64_t deadline_us = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    adopted.swap(pending_);
    tasks.swap(tasks_);
    stop = stop_requested_;
    deadline_us = stop_deadline_us_;
  }
  for (Handoff& handoff : adopted) {
    if (draining_ || stop) break;  // the queued sockets close with `adopted`
    auto connection =
        std::make_unique<Connection>(std::move(handoff.socket), handoff.id, epoll_fd_.get(),
                                     options_, handler_, counters_, MonotonicMicros(), mailbox_,
                                     monitors_);
    Status status = connection->Register();
    if (!status.ok()) {
      log::Warning("event loop %d: %s; dropping the connection", index_, status.ToString().c_str());
      continue;
    }
    connections_.emplace(handoff.id, std::move(connection));
  }
  std::vector<uint64_t> monitors_fed;  // given lines in this wakeup (a repeat is harmless)
  for (ReplyMailbox::Completed& done : mailbox_->Take()) {
    auto it = connections_.find(done.connection_id);
    if (it == connections_.end()) {  // closed meanwhile: the reply is dropped
      // (MONITOR lines for a monitor that closed are not replies: not counted)
      if (!done.monitor_lines) LoopCounters::Add(counters_->deferred_replies_dropped, 1);
      continue;
    }
    Connection* connection = it->second.get();
    if (done.monitor_lines) {
      // Every batch of this wakeup first, then one send (below).
      connection->QueueMonitorLines(done.bytes);
      if (monitors_fed.empty() || monitors_fed.back() != done.connection_id) {
        monitors_fed.push_back(done.connection_id);
      }
      continue;
    }
    const Connection::State before = connection->state();
    const bool was_awaiting = connection->awaiting_commit();
    connection->OnDeferredReply(done.sequence, std::move(done.bytes));
    if (connection->awaiting_commit() && !was_awaiting) {
      awaiting_commit_.push_back(done.connection_id);
    }
    AfterEvents(connection, before);
  }
  // MONITOR lines show requests whose changes may not be durable yet (they were
  // published before their loop's CommitRound): like replies, they leave only once
  // the handler's barrier covers them; if it fails, they are never sent.
  const bool monitors_commit_failed =
      !monitors_fed.empty() && handler_->HasUncommitted() && !handler_->CommitRound().ok();
  for (uint64_t id : monitors_fed) {
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;
    Connection* connection = it->second.get();
    const Connection::State before = connection->state();
    if (monitors_commit_failed) {
      connection->Abort();
    } else {
      connection->SendQueued();  // may close it (over the output limit)
    }
    AfterEvents(connection, before);
  }
  for (auto& task : tasks) task();
  if (stop && !draining_) {
    draining_ = true;
    drain_deadline_us_ = deadline_us;
    BeginDrain();
  }
}

void EventLoop::CollectFacts(const ClientFilter& filter, std::vector<ClientFacts>* out) {
  const int64_t now_us = MonotonicMicros();
  const int64_t now_ms = NowMillis();
  for (const auto& [id, connection] : connections_) {
    if (connection->state() == Connection::State::kClosed) continue;
    if (!connection->Matches(filter)) continue;
    out->push_back(connection->Facts(now_us, now_ms));
  }
}

size_t EventLoop::Kill(const ClientFilter& filter, uint64_t self) {
  size_t killed = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection* connection = it->second.get();
    const bool alive = connection->state() == Connection::State::kOpen ||
                       connection->state() == Connection::State::kClosing;
    if (!alive || !connection->Matches(filter)) {
      ++it;
      continue;
    }
    ++killed;
    if (connection->id() == self) {
      // Its CLIENT KILL reply is still due: it closes after sending it (as Redis's
      // CLIENT_CLOSE_AFTER_REPLY).
      connection->CloseAfterReplies();
      ++it;
      continue;
    }
    connection->Abort();
    it = connections_.erase(it);
  }
  return killed;
}

void EventLoop::AfterEvents(Connection* connection, Connection::State before) {
  const Connection::State after = connection->state();
  if (after == Connection::State::kClosed) {
    connections_.erase(connection->id());
  } else if (after == Connection::State::kLingering && before != after) {
    lingering_.emplace_back(connection->linger_deadline_us(), connection->id());
  }
}

void EventLoop::ExpireLingering(int64_t now_us) {
  while (!lingering_.empty() && lingering_.front().first <= now_us) {
    auto it = connections_.find(lingering_.front().second);
    lingering_.pop_front();
    if (it != connections_.end()) connections_.erase(it);  // closes it
  }
}

void EventLoop::SweepIdle(int64_t now_us) {
  const int64_t limit_us = options_.idle_timeout_ms * 1000;
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection* connection = it->second.get();
    // A lingering connection has its own (shorter) deadline; one awaiting a commit
    // is in the middle of this round; one awaiting a deferred reply (a forwarded
    // request) waits on us.
    const bool idle = connection->state() != Connection::State::kLingering &&
                      !connection->awaiting_commit() && !connection->awaiting_deferred() &&
                      now_us - connection->last_active_us() > limit_us;
    if (idle) {
      connection->CloseIdle();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void EventLoop::BeginDrain() {
  lingering_.clear();
  for (auto it = connections_.begin(); it != connections_.end();) {
    it->second->BeginDrain();
    if (it->second->state() == Connection::State::kClosed) {
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

int EventLoop::NextTimeoutMs(int64_t now_us) const {
  int64_t deadline_us = -1;
  if (!lingering_.empty()) deadline_us = lingering_.front().first;
  if (draining_ && (deadline_us < 0 || drain_deadline_us_ < deadline_us)) {
    deadline_us = drain_deadline_us_;
  }
  if (options_.idle_timeout_ms > 0 && !draining_ &&
      (deadline_us < 0 || next_idle_sweep_us_ < deadline_us)) {
    deadline_us = next_idle_sweep_us_;
  }
  if (deadline_us < 0) return -1;
  if (deadline_us <= now_us) return 0;
  // Round up so the loop does not wake a little early and spin until the deadline.
  return static_cast<int>((deadline_us - now_us + 999) / 1000);
}

}  // namespace memento::net
