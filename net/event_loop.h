// EventLoop: one thread, one epoll set, the connections handed to it.
//
// The acceptor thread hands accepted sockets over with AddConnection(), which queues
// them and wakes the loop through an eventfd; from then on only the loop thread
// touches the connection. epoll is used level-triggered: each wakeup does at most
// one recv() per ready connection, so a client that sends without pause cannot hold
// the loop, and nothing is lost if a handler stops early (the kernel reports the
// socket again). Timers are few and coarse (lingering closes, the shutdown drain,
// the idle-timeout sweep), so they are deadlines folded into epoll_wait's timeout
// rather than a timer wheel.
//
// Thread-safety: AddConnection() and RequestStop() from any thread; Start() and
// Join() from the controlling thread; counters() readable from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/connection.h"
#include "net/counters.h"
#include "net/listener.h"
#include "net/server.h"
#include "net/socket_util.h"

namespace memento::net {

class EventLoop {
 public:
  // "options", "*handler", "*counters" and "*monitors" must outlive the loop.
  EventLoop(int index, const ServerOptions& options, CommandHandler* handler,
            LoopCounters* counters, MonitorFeed* monitors);
  ~EventLoop();  // REQUIRES: the thread was never started or has been joined
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll set and the wakeup eventfd. Errors: IOError.
  Status Init();
  // Starts the loop thread. REQUIRES: Init() succeeded.
  void Start();

  // Queues an accepted socket for this loop; `id` becomes its Session::id.
  void AddConnection(AcceptedSocket socket, uint64_t id);
  // Asks the loop to execute nothing more, flush queued replies until
  // `deadline_us` (MonotonicMicros()), close every connection and exit.
  void RequestStop(int64_t deadline_us);
  // Waits for the thread to exit. REQUIRES: RequestStop() was called.
  void Join();

  // Runs `task` on the loop thread soon (after the current round), from any thread.
  // False if the loop has exited: the task will never run. A task queued before the
  // exit runs even then (with no connections left), so that whoever waits on it
  // hears back.
  bool Post(std::function<void()> task);

  // Loop thread only (inside a Post()ed task):
  // Appends the facts of this loop's connections that match `filter`.
  void CollectFacts(const ClientFilter& filter, std::vector<ClientFacts>* out);
  // Closes this loop's connections that match `filter` (connection `self` only once
  // its due replies are sent); returns how many.
  size_t Kill(const ClientFilter& filter, uint64_t self);

 private:
  struct Handoff {
    AcceptedSocket socket;
    uint64_t id;
  };

  void Run();
  // Drains the eventfd, adopts queued sockets, hands completed deferred replies and
  // MONITOR lines to their connections, runs posted tasks and notices a stop request.
  void OnWakeup();
  // Bookkeeping after a connection handled events: forget it once closed, start
  // its linger timer once it lingers.
  void AfterEvents(Connection* connection, Connection::State before);
  void ExpireLingering(int64_t now_us);
  // Closes the connections idle for longer than options_.idle_timeout_ms. A sweep
  // over every connection once a second (as Redis's clientsCron) costs far less
  // than keeping each connection's deadline in order on every read.
  void SweepIdle(int64_t now_us);
  void BeginDrain();
  // epoll_wait timeout in ms until the next deadline, or -1 for none.
  int NextTimeoutMs(int64_t now_us) const;

  const int index_;
  const ServerOptions& options_;
  CommandHandler* const handler_;
  LoopCounters* const counters_;
  MonitorFeed* const monitors_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  // Deferred replies completed on other threads; closed when the loop exits.
  std::shared_ptr<ReplyMailbox> mailbox_;
  std::thread thread_;

  std::mutex mu_;
  std::vector<Handoff> pending_;  // guarded by mu_
  std::vector<std::function<void()>> tasks_;  // guarded by mu_
  bool exited_ = false;           // guarded by mu_: tasks_ is no longer run
  bool stop_requested_ = false;   // guarded by mu_
  int64_t stop_deadline_us_ = 0;  // guarded by mu_

  // Connections whose replies wait for this round's CommitRound().
  void CommitRound();

  // Loop-thread state.
  std::vector<uint64_t> awaiting_commit_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
  // Lingering connections by deadline. Every linger lasts as long, so the deque is
  // in deadline order; entries whose connection is gone are skipped.
  std::deque<std::pair<int64_t, uint64_t>> lingering_;
  bool draining_ = false;
  int64_t drain_deadline_us_ = 0;
  int64_t next_idle_sweep_us_ = 0;  // when options_.idle_timeout_ms > 0
};

}  // namespace memento::net
