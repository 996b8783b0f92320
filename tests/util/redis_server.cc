#include "tests/util/redis_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "tests/util/daemon_process.h"

namespace memento::testing {

RedisServer::~RedisServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

bool RedisServer::Start(const std::string& dir, std::string* why) {
  port_ = PickFreePort();
  const std::string port = std::to_string(port_);
  pid_ = ::fork();
  if (pid_ < 0) {
    *why = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    // Its start-up banner is of no use to the test's output.
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
    ::execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", dir.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    Client probe;
    if (probe.Connect(port_) && probe.Call("PING") == "+PONG") return true;
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      break;  // exited: not installed (127), or the port was taken
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *why = "redis-server (Debian package redis-server, installed by scripts/install-deps.sh) "
         "did not answer PING on port " + port;
  return false;
}

}  // namespace memento::testing
