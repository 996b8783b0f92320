#include "daemon/daemon.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "common/clock.h"
#include "common/logging.h"
#include "common/version.h"

namespace memento::daemon {
namespace {

// Background expiry: every tick, look at a bounded number of keys with a TTL and
// remove the expired ones; repeat within the tick while a good share of what was
// looked at had expired (the idea of Redis's active expire cycle).
constexpr int kReaperTickMs = 100;
constexpr size_t kReaperChecksPerRound = 2000;
constexpr int64_t kReaperBudgetMicros = 20000;

// File descriptors kept for everything but clients: the listener, epoll sets and
// eventfds (two per loop), the data-directory lock, log segments, LMDB, stdio.
constexpr uint64_t kReservedFds = 64;

// As Redis's adjustOpenFilesLimit: makes room for `max_clients` client sockets by
// raising the soft RLIMIT_NOFILE (up to the hard limit). Returns how many clients
// the limit allows: `max_clients`, or fewer (with a warning) if it cannot be raised
// enough, so that accept() never fails with EMFILE while under max_clients.
uint64_t FitMaxClientsToFdLimit(uint64_t max_clients, int threads) {
  const uint64_t reserved = kReservedFds + 2 * static_cast<uint64_t>(threads);
  const uint64_t wanted = max_clients + reserved;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return max_clients;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted) return max_clients;
  rlimit raised = limit;
  raised.rlim_cur =
      limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
  if (raised.rlim_cur > limit.rlim_cur && ::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
    limit = raised;
  }
  if (limit.rlim_cur >= wanted) return max_clients;
  const uint64_t fit = limit.rlim_cur > reserved + 1 ? limit.rlim_cur - reserved : 1;
  log::Warning("the open file limit is %llu (ulimit -n; hard limit %llu), too low for "
               "server.max_clients = %llu: serving at most %llu clients. Raise the limit "
               "(LimitNOFILE= in the systemd unit) or lower server.max_clients.",
               static_cast<unsigned long long>(limit.rlim_cur),
               static_cast<unsigned long long>(limit.rlim_max),
               static_cast<unsigned long long>(max_clients),
               static_cast<unsigned long long>(fit));
  return fit;
}

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Stop(); }

Status Daemon::LockDataDir() {
  MEMENTO_ASSIGN_OR_RETURN(lock_,
                           db::DataDirLock::Exclusive(config_.data_dir, db::DaemonLockOptions()));
  return Status::OK();
}

// The order matters to operators (docs/operations.md, "Start-up"):
//   1. checks that need nothing but the configuration (the cluster's node list);
//   2. the client port is bound: a port in use stops start-up before anything is
//      created in the data directory;
//   3. the data directory is created and locked;
//   4. the server starts, "listening on HOST:PORT" is logged (once), and clients are
//      served while the data loads: every command but the few Redis allows while
//      loading gets -LOADING (Commands::SetLoading);
//   5. recovery: the snapshot, then the write-ahead log after it;
//   6. the cluster bus (cluster mode), then commands run for real: "Ready to accept
//      commands".
// A failure at any step stops what the steps before it started.
Status Daemon::Start() {
  if (config_.cluster) {
    // Checked before touching the data directory: a wrong node list is a
    // configuration error, reported as such. The client port is the node's own.
    Result<cluster::SlotMap> map = BuildSlotMap(config_);
    if (!map.ok()) return map.status();
    Result<int> self = FindSelf(*map, config_);
    if (!self.ok()) return self.status();
    config_.port = map->nodes()[static_cast<size_t>(*self)].port;
  }

  net::ServerOptions options;
  options.host = config_.bind;
  options.port = config_.port;
  options.threads = config_.EffectiveThreads();
  options.max_line = config_.max_line;
  // One line limit for both protocols: a RESP inline command is a text line too.
  options.resp_limits.max_inline = config_.max_line;
  options.resp_limits.max_bulk = config_.max_bulk;
  options.resp_limits.max_multibulk = config_.max_multibulk;
  options.max_query_buffer = config_.max_query_buffer;
  options.max_output_buffer = config_.max_output_buffer;
  options.max_clients = FitMaxClientsToFdLimit(config_.max_clients, options.threads);
  options.idle_timeout_ms = int64_t{config_.idle_timeout_s} * 1000;
  options.protected_mode = config_.protected_mode;

  table_ = std::make_unique<table::Table>();
  commands_ = std::make_unique<Commands>(table_.get());
  server_ = std::make_unique<net::Server>(options, commands_.get());
  if (Status bound = server_->Bind(); !bound.ok()) {
    Stop();
    return bound;
  }
  MEMENTO_RETURN_IF_ERROR(LockDataDir());

  commands_->SetRequirePass(config_.requirepass);
  // SHUTDOWN runs while loading too, as in Redis (the stop itself then waits for the
  // recovery to end, as SIGTERM does).
  if (request_stop_) {
    commands_->SetShutdownHandler([this](bool final_checkpoint) {
      final_checkpoint_.store(final_checkpoint, std::memory_order_relaxed);
      request_stop_();
    });
  }
  // Written before any thread that executes commands (the event loops, the bus)
  // starts: they read the facts without a lock.
  commands_->SetServerFacts(ServerFacts{
      .version = kVersion,
      .bind = config_.bind,
      .port = config_.port,
      .threads = options.threads,
      .data_dir = config_.data_dir,
      .config_file = config_.config_file,
      .started_ms = NowMillis(),
      .max_clients = options.max_clients,
      .idle_timeout_s = config_.idle_timeout_s,
      .max_bulk = options.resp_limits.max_bulk,
      .max_query_buffer = options.max_query_buffer,
      .max_output_buffer = options.max_output_buffer,
      .protected_mode = options.protected_mode,
  });
  // With -p 0 the port is known only once bound.
  commands_->SetListeningPort(server_->port());
  commands_->SetServer(server_.get());
  commands_->SetLoading(true);
  if (Status s = server_->Start(); !s.ok()) {
    Stop();
    return s;
  }
  log::Info("memento %s listening on %s (%d event-loop threads, data dir %s); loading the "
            "data set, clients get LOADING until it is loaded",
            kVersion, server_->address().c_str(), options.threads, config_.data_dir.c_str());

  db::DbOptions persistence_options;
  persistence_options.data_dir = config_.data_dir;
  persistence_options.lock = std::move(lock_);
  wal::ParseSyncPolicy(config_.fsync, &persistence_options.fsync);  // validated by config
  wal::ParseRecoveryMode(config_.wal_recovery, &persistence_options.recovery);
  persistence_options.wal_segment_bytes = static_cast<uint64_t>(config_.wal_segment_bytes);
  persistence_options.snapshot_interval_s = config_.snapshot_interval_s;
  persistence_options.snapshot_after_writes = static_cast<uint64_t>(config_.snapshot_after_writes);
  persistence_options.wal_retention_bytes = static_cast<uint64_t>(config_.wal_retention_mb) << 20;
  // A failed log leaves changes in the table that the log may not hold: stop serving
  // (as Redis exits when an fsync fails at appendfsync always), without a final
  // checkpoint (the snapshot must not get ahead of the log), exit status 1.
  persistence_options.on_log_failure = [this](const Status&) {
    final_checkpoint_.store(false, std::memory_order_relaxed);
    log_failed_.store(true, std::memory_order_relaxed);
    if (request_stop_) request_stop_();
  };
  db::RecoveryStats recovered;
  Result<std::unique_ptr<Persistence>> persistence =
      db::Db::Open(std::move(persistence_options), table_.get(), &recovered);
  if (!persistence.ok()) {
    Stop();
    return persistence.status();
  }
  persistence_ = std::move(*persistence);
  log::Info("recovered %zu keys in %.1f ms: snapshot at LSN %llu (%llu keys, %llu expired "
            "skipped), %llu log records replayed, last LSN %llu",
            table_->Size(), static_cast<double>(recovered.micros) / 1000.0,
            static_cast<unsigned long long>(recovered.snapshot_lsn),
            static_cast<unsigned long long>(recovered.snapshot_keys),
            static_cast<unsigned long long>(recovered.snapshot_expired),
            static_cast<unsigned long long>(recovered.wal_records),
            static_cast<unsigned long long>(recovered.last_lsn));
  if (const wal::RecoveryDrop& dropped = recovered.wal_dropped; dropped.truncated) {
    // Repeated here, after the WAL's own warning, so that the start-up summary says it.
    log::Warning("--wal-recovery=truncate: %llu log records lost (LSNs %llu to %llu); "
                 "the data is as of LSN %llu",
                 static_cast<unsigned long long>(dropped.records()),
                 static_cast<unsigned long long>(dropped.first_lsn),
                 static_cast<unsigned long long>(dropped.last_lsn),
                 static_cast<unsigned long long>(dropped.first_lsn - 1));
  }
  // From here on every change is logged. No command has written yet (they get
  // LOADING), and SetLoading(false) below publishes the sink to the event loops.
  commands_->InstallChangeSink(persistence_.get());
  commands_->SetPersistence(persistence_.get());

  if (config_.cluster) {
    // Once the data is here: peers' forwarded requests are served from now on.
    Result<std::unique_ptr<ClusterNode>> node = ClusterNode::Start(config_, commands_.get());
    if (!node.ok()) {
      Stop();
      return node.status();
    }
    cluster_ = std::move(node).value();
    commands_->SetCluster(cluster_.get());
  }

  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  reaper_ = std::thread([this] { ReaperLoop(); });
  commands_->SetLoading(false);
  log::Info("Ready to accept commands");
  return Status::OK();
}

void Daemon::ReaperLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(kReaperTickMs));
    if (stopping_) break;
    lock.unlock();
    int64_t started = MonotonicMicros();
    size_t removed;
    do {
      removed = table_->ReclaimExpired(NowMillis(), kReaperChecksPerRound);
    } while (removed > kReaperChecksPerRound / 4 &&
             MonotonicMicros() - started < kReaperBudgetMicros);
    lock.lock();
  }
}

void Daemon::Stop() {
  if (server_) {
    server_->Shutdown();
    if (commands_) commands_->SetServer(nullptr);
    server_.reset();
  }
  if (cluster_) {
    // After the server (whose drain lets forwarded replies come back), before the
    // data directory closes: peers' requests execute against it until here.
    cluster_->Stop();
    if (commands_) commands_->SetCluster(nullptr);
    cluster_.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  // The TAIL feeds hold subscriptions of the Db: released before it closes.
  if (commands_) commands_->tail_feed().Stop();
  if (persistence_) {
    // After the server: no request runs any more. Syncs the log and takes a final
    // checkpoint.
    Status s = persistence_->Close(final_checkpoint_.load(std::memory_order_relaxed));
    if (!s.ok()) log::Error("closing the data directory: %s", s.ToString().c_str());
    if (commands_) commands_->SetPersistence(nullptr);
    if (table_) table_->SetMutationSink(nullptr);
    persistence_.reset();
  }
  lock_.reset();  // if Start failed before the Db took it over
}

int RunUntilSignalled(const Config& config) {
  // Block the stop signals in every thread (threads inherit the mask), then wait
  // for them synchronously here: no async-signal-safety pitfalls.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  Daemon daemon(config);
  // SHUTDOWN stops the daemon exactly as SIGTERM does: the signal is blocked in
  // every thread, so it reaches the sigwait() below.
  daemon.OnShutdownCommand([] { ::kill(::getpid(), SIGTERM); });
  Status s = daemon.Start();
  if (!s.ok()) {
    log::Error("cannot start: %s", std::string(s.message()).c_str());
    return 1;
  }
  int signo = 0;
  while (sigwait(&stop_signals, &signo) != 0) {
  }
  if (daemon.log_failed()) {
    log::Error("stopping: the write-ahead log failed (the reason is logged above); fix the "
               "disk and restart: recovery keeps every acknowledged write");
  } else {
    log::Info("received %s, shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
  }
  daemon.Stop();
  log::Info("bye");
  return daemon.log_failed() ? 1 : 0;
}

}  // namespace memento::daemon
