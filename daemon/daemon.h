// Daemon: owns the data directory lock, the table, the command layer, the network
// server and the background expiry reaper, and starts/stops them in order.
//
// Thread-safety: Start/Stop from one controlling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/status.h"
#include "daemon/cluster_node.h"
#include "daemon/commands.h"
#include "daemon/config.h"
#include "net/server.h"
#include "storage/db/data_dir_lock.h"
#include "storage/table/table.h"

namespace memento::daemon {

class Daemon {
 public:
  explicit Daemon(Config config);
  ~Daemon();  // Stop()s if running
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Binds the port, creates and locks the data directory, starts serving (LOADING to
  // every command Redis refuses while loading), recovers the data, joins the cluster,
  // then serves every command (the steps are listed above Start() in daemon.cc).
  // Blocks until all that is done. Errors:
  //   Busy            - another memento holds the data directory, or the port is taken
  //   InvalidArgument - a setting this build cannot honour (e.g. -c, see docs/cluster.md)
  //   IOError         - the data directory cannot be created or locked
  Status Start();
  // The port clients connect to (the bound one when the config said 0).
  uint16_t port() const { return server_ ? server_->port() : 0; }
  // Stops accepting, flushes replies in flight, stops background work, releases
  // the data directory lock. Idempotent.
  void Stop();

  // What the SHUTDOWN command calls (on an event-loop thread) to stop the process:
  // it must return at once and make the controlling thread call Stop(). Unset,
  // SHUTDOWN replies an error. Call before Start().
  void OnShutdownCommand(std::function<void()> request_stop) {
    request_stop_ = std::move(request_stop);
  }
  // True once the write-ahead log failed: the daemon then stops itself through
  // request_stop (no final checkpoint) and RunUntilSignalled returns 1.
  bool log_failed() const { return log_failed_.load(std::memory_order_relaxed); }

 private:
  Status LockDataDir();
  void ReaperLoop();

  Config config_;
  // Held from LockDataDir() until Db::Open takes it over (the Db releases it at Close).
  std::unique_ptr<db::DataDirLock> lock_;
  std::unique_ptr<table::Table> table_;
  std::unique_ptr<Persistence> persistence_;
  std::unique_ptr<Commands> commands_;
  std::unique_ptr<ClusterNode> cluster_;  // cluster mode only
  std::unique_ptr<net::Server> server_;

  std::function<void()> request_stop_;
  // Cleared by SHUTDOWN NOSAVE: Stop() then takes no final checkpoint.
  std::atomic<bool> final_checkpoint_{true};
  std::atomic<bool> log_failed_{false};

  std::thread reaper_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

// Blocks SIGINT and SIGTERM, starts a Daemon and waits for one of them, then stops
// it cleanly. Returns the process exit code: 0 after a clean stop, 1 when start-up
// failed or the write-ahead log failed while serving (the reason is logged).
int RunUntilSignalled(const Config& config);

}  // namespace memento::daemon
