#include "tests/util/daemon_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <system_error>

namespace memento::testing {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

std::vector<char*> Argv(const std::string& binary, const std::vector<std::string>& args,
                        std::vector<std::string>* storage) {
  storage->clear();
  storage->push_back(binary);
  storage->insert(storage->end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : *storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return argv;
}

// Parses the port from "... listening on 127.0.0.1:PORT ...".
std::optional<uint16_t> FindPort(const std::string& log) {
  size_t at = log.find("listening on ");
  if (at == std::string::npos) return std::nullopt;
  size_t colon = log.find(':', at + 13);
  size_t space = log.find_first_of(" \n", colon);
  if (colon == std::string::npos || space == std::string::npos) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(log.data() + colon + 1, log.data() + space, value);
  if (ec != std::errc() || ptr != log.data() + space || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/memento-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string BinaryPath(const std::string& name) { return std::string(MEMENTO_BINARY_DIR) + "/" + name; }

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
}

bool DaemonProcess::Start(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(BinaryPath("memento"), args, &storage);
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(pipe_fds[1]);
  pid_ = pid;
  reader_ = std::thread([this, fd = pipe_fds[0]] { ReadStderr(fd); });

  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto port = FindPort(log_)) {
        port_ = *port;
        return true;
      }
    }
    if (Wait(std::chrono::milliseconds(0))) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

void DaemonProcess::ReadStderr(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    log_.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
}

bool DaemonProcess::Signal(int signo) {
  if (pid_ <= 0 || exit_code_) return false;
  return ::kill(pid_, signo) == 0;
}

std::optional<int> DaemonProcess::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  if (pid_ <= 0) return std::nullopt;
  auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t got = ::waitpid(pid_, &status, WNOHANG);
    if (got == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      // The process is gone, so its stderr reaches EOF: once the reader has drained
      // it, Log() holds everything the process wrote.
      if (reader_.joinable()) reader_.join();
      return exit_code_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string DaemonProcess::Log() {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

bool DaemonProcess::WaitForLog(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (Log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return Log().find(needle) != std::string::npos;
}

int RunToCompletion(const std::vector<std::string>& args, std::string* output,
                    std::chrono::milliseconds timeout) {
  return RunBinaryToCompletion("memento", args, output, timeout);
}

int RunBinaryToCompletion(const std::string& binary, const std::vector<std::string>& args,
                          std::string* output, std::chrono::milliseconds timeout) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return -1000;
  std::vector<std::string> storage;
  std::vector<char*> argv = Argv(BinaryPath(binary), args, &storage);
  pid_t pid = ::fork();
  if (pid < 0) return -1000;
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(pipe_fds[1]);
  output->clear();
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    pollfd pfd{pipe_fds[0], POLLIN, 0};
    int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    ssize_t n = ::read(pipe_fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    output->append(buf, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

Client::~Client() { Close(); }

Client::Client(Client&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

bool Client::Connect(uint16_t port, const std::string& host) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return true;
}

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool Client::Send(const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool Client::Fill(Clock::time_point deadline) {
  pollfd pfd{fd_, POLLIN, 0};
  int ready = ::poll(&pfd, 1, RemainingMs(deadline));
  if (ready <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  return true;
}

std::optional<std::string> Client::ReadLine(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      size_t end = nl > 0 && buffer_[nl - 1] == '\r' ? nl - 1 : nl;
      std::string line = buffer_.substr(0, end);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (!Fill(deadline)) return std::nullopt;
  }
}

std::optional<std::string> Client::ReadBytes(size_t n, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (buffer_.size() < n) {
    if (!Fill(deadline)) return std::nullopt;
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

std::string Client::Call(const std::string& line) {
  if (!Send(line + "\r\n")) return "";
  return ReadLine().value_or("");
}

std::optional<std::vector<std::string>> Client::CallBlock(const std::string& line) {
  if (!Send(line + "\r\n")) return std::nullopt;
  std::optional<std::string> header = ReadLine();
  if (!header) return std::nullopt;
  size_t count = 0;
  auto [ptr, ec] = std::from_chars(header->data(), header->data() + header->size(), count);
  if (ec != std::errc() || ptr != header->data() + header->size()) return std::nullopt;
  std::vector<std::string> lines;
  for (size_t i = 0; i < count; ++i) {
    std::optional<std::string> l = ReadLine();
    if (!l) return std::nullopt;
    lines.push_back(*l);
  }
  return lines;
}

bool Client::WaitForEof(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, RemainingMs(deadline));
    if (ready <= 0) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

namespace {
bool CanBind(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}
}  // namespace

uint16_t PickFreePort(bool with_bus_port) {
  static std::mutex mu;
  static std::set<uint16_t> given;
  static std::mt19937 rng(static_cast<uint32_t>(getpid()) ^
                          static_cast<uint32_t>(std::chrono::steady_clock::now()
                                                    .time_since_epoch()
                                                    .count()));
  std::lock_guard<std::mutex> lock(mu);
  std::uniform_int_distribution<int> dist(20000, 32767 - 100);
  for (;;) {
    const auto port = static_cast<uint16_t>(dist(rng));
    const auto bus = static_cast<uint16_t>(port + 100);
    if (given.count(port) || given.count(bus)) continue;
    if (!CanBind(port) || (with_bus_port && !CanBind(bus))) continue;
    given.insert(port);
    if (with_bus_port) given.insert(bus);
    return port;
  }
}

}  // namespace memento::testing
