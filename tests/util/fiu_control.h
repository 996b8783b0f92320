// Test utilities that make system calls fail inside a daemon started by DaemonProcess,
// with libfiu's POSIX preload library (Debian package fiu-utils, installed by
// scripts/install-deps.sh). This is what `fiu-run -x` does, without its shell
// wrapper: DaemonProcess execs the binary itself, so the preload goes through the
// environment the child inherits.
//
//   FiuPreload preload(dir.path() + "/fiu");      // children started now are preloaded
//   daemon.Start(...);
//   preload.Restore();                            // later children are not
//   FiuCommand(preload.fifo_prefix(), daemon.pid(), "enable name=posix/io/sync/fdatasync");
//
// Failure point names are libfiu's (/usr/share/doc/fiu-utils/function_list.gz), e.g.
// posix/io/sync/fdatasync, posix/io/rw/write. With failinfo=N the call fails with
// errno N (5 = EIO), otherwise with an errno libfiu picks.
//
// Thread-safety: FiuPreload changes the test process's environment (setenv); create it
// while no other thread starts processes.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace memento::testing {

// True if libfiu's preload libraries are installed.
bool FiuAvailable();

// Sets LD_PRELOAD, FIU_CTRL_FIFO and FIU_ENABLE for processes started while it is in
// force. When this process runs with the shared ASan runtime (a sanitizer build, whose
// daemon is built the same way), that runtime is preloaded first and ASAN_OPTIONS is
// extended: libfiu's malloc wrapper must not come before ASan's.
class FiuPreload {
 public:
  // `fifo_prefix`: the control fifos are `<fifo_prefix>-<pid>.in/.out`.
  explicit FiuPreload(std::string fifo_prefix);
  ~FiuPreload();  // Restore()
  FiuPreload(const FiuPreload&) = delete;
  FiuPreload& operator=(const FiuPreload&) = delete;

  const std::string& fifo_prefix() const { return fifo_prefix_; }
  // Puts the environment back as it was. Idempotent.
  void Restore();

 private:
  std::string fifo_prefix_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
  bool restored_ = false;
};

// Sends one remote-control command ("enable name=...,failinfo=5", "disable name=...")
// to process `pid` started under a FiuPreload with `fifo_prefix`. Returns libfiu's
// reply ("0" on success, "-1" on error), or nullopt if the process has no control
// fifo or does not answer within two seconds.
std::optional<std::string> FiuCommand(const std::string& fifo_prefix, pid_t pid,
                                      const std::string& command);

}  // namespace memento::testing
