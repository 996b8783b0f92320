#include "storage/wal/fault_injection_fs.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace memento::wal {

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionFileSystem* fs, std::string path,
                    std::unique_ptr<WritableFile> base)
      : fs_(fs), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (const int err = FaultInjectionFileSystem::Consume(&fs_->write_failures_, fs_->write_errno_)) {
      const size_t partial = std::min(fs_->write_partial_bytes_.load(), data.size());
      if (partial > 0 && base_->Append(data.substr(0, partial)).ok()) {
        fs_->OnAppended(path_, partial);
      }
      return Status::FromErrno("write " + path_ + " (injected)", err);
    }
    MEMENTO_RETURN_IF_ERROR(base_->Append(data));
    fs_->OnAppended(path_, data.size());
    fs_->writes_.fetch_add(1);
    return Status::OK();
  }

  Status Sync() override {
    if (const int64_t delay = fs_->sync_delay_us_.load(); delay > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(delay));
    }
    if (const int err = FaultInjectionFileSystem::Consume(&fs_->sync_failures_, fs_->sync_errno_)) {
      return Status::FromErrno("fdatasync " + path_ + " (injected)", err);
    }
    MEMENTO_RETURN_IF_ERROR(base_->Sync());
    fs_->OnSynced(path_);
    fs_->syncs_.fetch_add(1);
    return Status::OK();
  }

  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::string path_;
  const std::unique_ptr<WritableFile> base_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* base) : base_(base) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::FailWrites(int errnum, int count, size_t partial_bytes) {
  write_errno_ = errnum;
  write_partial_bytes_ = partial_bytes;
  write_failures_ = count;
}

void FaultInjectionFileSystem::FailSyncs(int errnum, int count) {
  sync_errno_ = errnum;
  sync_failures_ = count;
}

void FaultInjectionFileSystem::FailCreates(int errnum, int count) {
  create_errno_ = errnum;
  create_failures_ = count;
}

void FaultInjectionFileSystem::SetSyncDelay(std::chrono::microseconds delay) {
  sync_delay_us_ = delay.count();
}

int FaultInjectionFileSystem::Consume(std::atomic<int>* count, const std::atomic<int>& errnum) {
  int n = count->load();
  while (n > 0) {
    if (count->compare_exchange_weak(n, n - 1)) return errnum.load();
  }
  return 0;
}

void FaultInjectionFileSystem::OnAppended(const std::string& path, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].size += bytes;
}

void FaultInjectionFileSystem::OnSynced(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[path];
  f.synced_size = f.size;
}

Status FaultInjectionFileSystem::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [path, f] : files_) {
    if (f.synced_size == f.size) continue;
    Result<uint64_t> size = base_->GetFileSize(path);
    if (!size.ok()) continue;  // removed or renamed since: nothing to drop
    MEMENTO_RETURN_IF_ERROR(base_->Truncate(path, f.synced_size));
    f.size = f.synced_size;
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  if (const int err = Consume(&create_failures_, create_errno_)) {
    return Status::FromErrno("create " + path + " (injected)", err);
  }
  Result<std::unique_ptr<WritableFile>> base = base_->NewWritableFile(path);
  if (!base.ok()) return base.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_[path] = FileState{};
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultWritableFile>(this, path, std::move(base).value()));
}

Result<std::unique_ptr<RandomAccessFile>> FaultInjectionFileSystem::NewRandomAccessFile(
    const std::string& path) {
  return base_->NewRandomAccessFile(path);
}

Result<uint64_t> FaultInjectionFileSystem::GetFileSize(const std::string& path) {
  return base_->GetFileSize(path);
}

Status FaultInjectionFileSystem::GetChildren(const std::string& dir,
                                             std::vector<std::string>* names) {
  return base_->GetChildren(dir, names);
}

Status FaultInjectionFileSystem::CreateDirIfMissing(const std::string& dir) {
  return base_->CreateDirIfMissing(dir);
}

Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  MEMENTO_RETURN_IF_ERROR(base_->RemoveFile(path));
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  return Status::OK();
}

Status FaultInjectionFileSystem::RenameFile(const std::string& from, const std::string& to) {
  MEMENTO_RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(from);
  return Status::OK();
}

Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  MEMENTO_RETURN_IF_ERROR(base_->Truncate(path, size));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(path); it != files_.end()) {
    it->second.size = it->second.synced_size = size;  // Truncate is durable
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& dir) {
  MEMENTO_RETURN_IF_ERROR(base_->SyncDir(dir));
  dir_syncs_.fetch_add(1);
  return Status::OK();
}

}  // namespace memento::wal
