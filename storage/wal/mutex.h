// Mutex, MutexLock and CondVar with clang thread-safety annotations (-Wthread-safety),
// for the WAL's lock-protected state. std::mutex lacks the annotations in libstdc++.
// The CondVar waits on the wrapped std::mutex directly (the leveldb port::CondVar
// idea), so a waiter needs no std::unique_lock of its own.
//
// TODO(lead): storage/table/table.h has the same wrapper (its own TODO asks for a
// common/thread_annotations.h); merge the two there. The macros below are prefixed
// so that they cannot clash with table.h's MEMENTO_TSA or with abseil's names.
//
// Thread-safety: that is the point; a CondVar must always be used with the same Mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define MEMENTO_WAL_TSA(x) __attribute__((x))
#else
#define MEMENTO_WAL_TSA(x)
#endif
#define MEMENTO_GUARDED_BY(mu) MEMENTO_WAL_TSA(guarded_by(mu))
#define MEMENTO_REQUIRES(mu) MEMENTO_WAL_TSA(requires_capability(mu))
#define MEMENTO_EXCLUDES(mu) MEMENTO_WAL_TSA(locks_excluded(mu))

namespace memento::wal::internal {

class MEMENTO_WAL_TSA(capability("mutex")) Mutex {
 public:
  void Lock() MEMENTO_WAL_TSA(acquire_capability()) { mu_.lock(); }
  void Unlock() MEMENTO_WAL_TSA(release_capability()) { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class MEMENTO_WAL_TSA(scoped_lockable) MutexLock {
 public:
  explicit MutexLock(Mutex* mu) MEMENTO_WAL_TSA(acquire_capability(mu)) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() MEMENTO_WAL_TSA(release_capability()) { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
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

}  // namespace memento::wal::internal
