// Test utilities for end-to-end tests: start the real `memento` binary on a port the
// kernel picks (-p 0; the port is read from its "listening on" log line), talk to it
// over TCP, signal it, and read what it logged.
//
// Thread-safety: one test thread per object, except that DaemonProcess collects the
// daemon's stderr on a background thread (Log() may be called at any time).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace memento::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on
// destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A port in [20000, 32768) free to bind on 127.0.0.1 right now (and port + 100 too if
// `with_bus_port`, for cluster nodes). Below Linux's ephemeral range (32768-60999), so
// no other process's outgoing connection takes it between this check and a daemon's
// bind, or after a daemon on it stops: for tests that must know a port before the
// daemon starts (cluster nodes) or restart a daemon on the same port. Ports already
// returned by this process are not returned again.
uint16_t PickFreePort(bool with_bus_port = false);

// Path of a binary built by this tree, e.g. BinaryPath("memento").
std::string BinaryPath(const std::string& name);

class DaemonProcess {
 public:
  DaemonProcess() = default;
  ~DaemonProcess();  // SIGKILLs the daemon if it is still running
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts `memento` with `args` (add "-p", "0" yourself unless testing a port) and
  // waits up to `timeout` for it to log that it listens. False if it exited or
  // timed out first (Log() says why).
  bool Start(const std::vector<std::string>& args,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Sends `signo`. Returns false if the process is gone.
  bool Signal(int signo);
  // Waits up to `timeout` for the process to exit; its exit code, or -signal if a
  // signal ended it, or nullopt on time-out. After it returns a code, Log() is
  // complete.
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything it wrote to stderr so far.
  std::string Log();
  // Waits until the log contains `needle`.
  bool WaitForLog(const std::string& needle,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void ReadStderr(int fd);

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::optional<int> exit_code_;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
};

// Runs `memento` with `args` to completion (for --help, --version, config errors):
// returns its exit code and fills *output with stdout+stderr.
int RunToCompletion(const std::vector<std::string>& args, std::string* output,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The same for another binary of this tree ("memento-dump", "memento-restore"...).
int RunBinaryToCompletion(const std::string& binary, const std::vector<std::string>& args,
                          std::string* output,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A blocking TCP client with time-outs on every read.
class Client {
 public:
  Client() = default;
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&&) = delete;
  Client(const Client&) = delete;

  bool Connect(uint16_t port, const std::string& host = "127.0.0.1");
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void Close();

  // Writes all of `data`.
  bool Send(const std::string& data);
  // Reads one line; the "\r\n" (or "\n") is stripped. nullopt on time-out or EOF.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads exactly n bytes. nullopt on time-out or EOF.
  std::optional<std::string> ReadBytes(size_t n,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Sends `line` + "\r\n" and reads one reply line ("" on failure).
  std::string Call(const std::string& line);
  // Sends `line` + "\r\n" and reads a counted block (KEYS, INFO): a line with the
  // count N, then N lines. nullopt on a malformed count or time-out.
  std::optional<std::vector<std::string>> CallBlock(const std::string& line);
  // True if the server closes the connection within `timeout` (reads and drops
  // anything still buffered first).
  bool WaitForEof(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace memento::testing
