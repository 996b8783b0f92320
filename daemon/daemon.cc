#include "daemon/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

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

}  // namespace

Daemon::Daemon(Config config) : config_(std::move(config)) {}

Daemon::~Daemon() { Stop(); }

Status Daemon::LockDataDir() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) {
    return Status::IOError("cannot create data directory " + config_.data_dir + ": " +
                           ec.message());
  }
  std::string path = config_.data_dir + "/LOCK";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char pid[32] = {0};
    ssize_t n = ::pread(fd, pid, sizeof(pid) - 1, 0);
    ::close(fd);
    if (err == EWOULDBLOCK) {
      std::string holder = n > 0 ? std::string(pid, strnlen(pid, sizeof(pid))) : "unknown";
      while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
      return Status::Busy("data directory " + config_.data_dir +
                          " is in use by another memento (pid " + holder +
                          "); stop it or start with another --data-dir");
    }
    return Status::FromErrno("lock " + path, err);
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("write " + path, err);
  }
  lock_fd_ = fd;
  return Status::OK();
}

Status Daemon::Start() {
  if (config_.cluster) {
    return Status::InvalidArgument(
        "cluster mode (-c / cluster.enabled) is not available in this version yet; "
        "start without it");
  }
  MEMENTO_RETURN_IF_ERROR(LockDataDir());

  table_ = std::make_unique<table::Table>();
  PersistenceOptions persistence_options;
  persistence_options.data_dir = config_.data_dir;
  wal::ParseSyncPolicy(config_.fsync, &persistence_options.fsync);  // validated by config
  wal::ParseRecoveryMode(config_.wal_recovery, &persistence_options.recovery);
  persistence_options.wal_segment_bytes = static_cast<uint64_t>(config_.wal_segment_bytes);
  persistence_options.snapshot_interval_s = config_.snapshot_interval_s;
  persistence_options.snapshot_after_writes = static_cast<uint64_t>(config_.snapshot_after_writes);
  RecoveryStats recovered;
  Result<std::unique_ptr<Persistence>> persistence =
      Persistence::Open(persistence_options, table_.get(), &recovered);
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
  // From here on every change is logged.
  table_->SetMutationSink(persistence_.get());

  commands_ = std::make_unique<Commands>(table_.get());
  commands_->SetPersistence(persistence_.get());
  commands_->SetRequirePass(config_.requirepass);

  net::ServerOptions options;
  options.host = config_.bind;
  options.port = config_.port;
  options.threads = config_.EffectiveThreads();
  options.max_line = config_.max_line;
  server_ = std::make_unique<net::Server>(options, commands_.get());
  commands_->SetServer(server_.get());
  Status s = server_->Start();
  if (!s.ok()) {
    server_.reset();
    Stop();
    return s;
  }
  commands_->SetServerFacts(ServerFacts{
      .version = kVersion,
      .bind = config_.bind,
      .port = server_->port(),
      .threads = options.threads,
      .data_dir = config_.data_dir,
      .config_file = config_.config_file,
      .started_ms = NowMillis(),
  });

  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  reaper_ = std::thread([this] { ReaperLoop(); });
  log::Info("memento %s listening on %s:%u (%d event-loop threads, data dir %s)", kVersion,
            config_.bind.c_str(), static_cast<unsigned>(server_->port()), options.threads,
            config_.data_dir.c_str());
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
    commands_->SetServer(nullptr);
    server_.reset();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
  if (persistence_) {
    // After the server: no request runs any more. Syncs the log and takes a final
    // checkpoint.
    Status s = persistence_->Close();
    if (!s.ok()) log::Error("closing the data directory: %s", s.ToString().c_str());
    if (commands_) commands_->SetPersistence(nullptr);
    if (table_) table_->SetMutationSink(nullptr);
    persistence_.reset();
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
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
  Status s = daemon.Start();
  if (!s.ok()) {
    log::Error("cannot start: %s", std::string(s.message()).c_str());
    return 1;
  }
  int signo = 0;
  while (sigwait(&stop_signals, &signo) != 0) {
  }
  log::Info("received %s, shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
  daemon.Stop();
  log::Info("bye");
  return 0;
}

}  // namespace memento::daemon
