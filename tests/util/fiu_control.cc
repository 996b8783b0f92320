#include "tests/util/fiu_control.h"

#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

namespace memento::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Where Debian's libfiu0 puts them (what fiu-run's -l defaults to).
constexpr char kRunPreload[] = "/usr/lib/fiu/fiu_run_preload.so";
constexpr char kPosixPreload[] = "/usr/lib/fiu/fiu_posix_preload.so";

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// The shared ASan runtime this process runs with ("" if none, or linked statically).
// A daemon built like this test (same flags) needs it first in LD_PRELOAD: libfiu's
// preload wraps malloc, and a wrapper that comes before ASan's own crashes it at start.
std::string SharedAsanRuntime() {
  std::string path;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* out) {
        const std::string name = info->dlpi_name != nullptr ? info->dlpi_name : "";
        if (name.find("/libasan.so") == std::string::npos) return 0;
        *static_cast<std::string*>(out) = name;
        return 1;
      },
      &path);
  return path;
}

}  // namespace

bool FiuAvailable() {
  std::error_code ec;
  return std::filesystem::exists(kRunPreload, ec) && std::filesystem::exists(kPosixPreload, ec);
}

FiuPreload::FiuPreload(std::string fifo_prefix) : fifo_prefix_(std::move(fifo_prefix)) {
  auto set = [this](const std::string& name, const std::string& value) {
    const char* old = getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    setenv(name.c_str(), value.c_str(), 1);
  };
  const char* asan = getenv("ASAN_OPTIONS");
  std::string asan_options = asan && *asan ? std::string(asan) + ":" : "";
  // ASan checks that it comes first in the initial library list; with the runtime
  // preloaded first (below) it does, but let a statically linked one pass too.
  asan_options += "verify_asan_link_order=0";
  set("ASAN_OPTIONS", asan_options);
  set("FIU_CTRL_FIFO", fifo_prefix_);
  set("FIU_ENABLE", "");
  const std::string asan_runtime = SharedAsanRuntime();
  set("LD_PRELOAD",
      (asan_runtime.empty() ? "" : asan_runtime + " ") + kRunPreload + " " + kPosixPreload);
}

FiuPreload::~FiuPreload() { Restore(); }

void FiuPreload::Restore() {
  if (restored_) return;
  restored_ = true;
  for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
    if (it->second) {
      setenv(it->first.c_str(), it->second->c_str(), 1);
    } else {
      unsetenv(it->first.c_str());
    }
  }
}

std::optional<std::string> FiuCommand(const std::string& fifo_prefix, pid_t pid,
                                      const std::string& command) {
  const std::string base = fifo_prefix + "-" + std::to_string(pid);
  const std::string in_path = base + ".in";
  const std::string out_path = base + ".out";
  const auto deadline = Clock::now() + std::chrono::seconds(2);

  // libfiu's control thread blocks opening <base>.in for reading, then <base>.out for
  // writing. Open ours without blocking (ENXIO: its reader is not there yet).
  int in_fd = -1;
  while (in_fd < 0) {
    in_fd = ::open(in_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (in_fd >= 0) break;
    if ((errno != ENXIO && errno != ENOENT) || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int out_fd = ::open(out_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (out_fd < 0) {
    ::close(in_fd);
    return std::nullopt;
  }
  const std::string line = command + "\n";
  bool sent = ::write(in_fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  std::string reply;
  while (sent) {
    pollfd pfd{out_fd, POLLIN, 0};
    if (::poll(&pfd, 1, RemainingMs(deadline)) <= 0) break;
    char buf[64];
    ssize_t n = ::read(out_fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
    if (reply.find('\n') != std::string::npos) break;
  }
  // Closing our end makes the control thread reopen both fifos for the next command.
  ::close(in_fd);
  ::close(out_fd);
  size_t nl = reply.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  return reply.substr(0, nl);
}

}  // namespace memento::testing
