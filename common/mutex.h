// Mutex, SharedMutex, their scoped locks and CondVar, with clang's thread-safety
// annotations (-Wthread-safety): libstdc++'s std::mutex carries none. Annotate
// lock-protected fields with MEMENTO_GUARDED_BY(mu_) as leveldb does.
//
// The CondVar waits on the wrapped std::mutex directly (leveldb's port::CondVar idea),
// so a waiter needs no std::unique_lock of its own.
//
// Thread-safety: that is the point; a CondVar must always be used with the same Mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define MEMENTO_TSA(x) __attribute__((x))
#else
#define MEMENTO_TSA(x)
#endif
#define MEMENTO_GUARDED_BY(mu) MEMENTO_TSA(guarded_by(mu))
#define MEMENTO_REQUIRES(mu) MEMENTO_TSA(requires_capability(mu))
#define MEMENTO_EXCLUDES(mu) MEMENTO_TSA(locks_excluded(mu))

namespace memento {

class MEMENTO_TSA(capability("mutex")) Mutex {
 public:
  void Lock() MEMENTO_TSA(acquire_capability()) { mu_.lock(); }
  void Unlock() MEMENTO_TSA(release_capability()) { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class MEMENTO_TSA(capability("mutex")) SharedMutex {
 public:
  void Lock() MEMENTO_TSA(acquire_capability()) { mu_.lock(); }
  void Unlock() MEMENTO_TSA(release_capability()) { mu_.unlock(); }
  void LockShared() MEMENTO_TSA(acquire_shared_capability()) { mu_.lock_shared(); }
  void UnlockShared() MEMENTO_TSA(release_shared_capability()) { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

// Holds a Mutex for its scope.
class MEMENTO_TSA(scoped_lockable) MutexLock {
 public:
  explicit MutexLock(Mutex* mu) MEMENTO_TSA(acquire_capability(mu)) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() MEMENTO_TSA(release_capability()) { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Holds a SharedMutex in shared mode for its scope.
class MEMENTO_TSA(scoped_lockable) SharedLock {
 public:
  explicit SharedLock(SharedMutex* mu) MEMENTO_TSA(acquire_shared_capability(mu)) : mu_(mu) {
    mu_->LockShared();
  }
  ~SharedLock() MEMENTO_TSA(release_capability()) { mu_->UnlockShared(); }
  SharedLock(const SharedLock&) = delete;
  SharedLock& operator=(const SharedLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// Holds a SharedMutex exclusively for its scope.
class MEMENTO_TSA(scoped_lockable) ExclusiveLock {
 public:
  explicit ExclusiveLock(SharedMutex* mu) MEMENTO_TSA(acquire_capability(mu)) : mu_(mu) {
    mu_->Lock();
  }
  ~ExclusiveLock() MEMENTO_TSA(release_capability()) { mu_->Unlock(); }
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;

 private:
  SharedMutex* const mu_;
};

class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Atomically releases the mutex and waits; holds it again on return. May wake
  // spuriously: callers re-check their condition in a loop.
  // REQUIRES: the mutex is held. (Not annotated: the analysis cannot tell that the
  // CondVar's mu_ is the caller's mutex.)
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // As Wait, for at most `timeout`.
  template <typename Rep, typename Period>
  void WaitFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lock(mu_->mu_, std::adopt_lock);
    cv_.wait_for(lock, timeout);
    lock.release();
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace memento
