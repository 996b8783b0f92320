// RedisServer: a real redis-server (Debian redis-server, 7.0) on a free loopback port,
// for end-to-end tests that compare Memento's replies with Redis's byte for byte.
// No persistence (--save "" --appendonly no); its files go to the given directory.
//
// Thread-safety: one test thread per object.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace memento::testing {

class RedisServer {
 public:
  RedisServer() = default;
  ~RedisServer();  // SIGKILLs the server and reaps it
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server (found on PATH) with its working directory `dir` and waits up
  // to 10 s for it to answer PING. False, with *why set, if it did not.
  bool Start(const std::string& dir, std::string* why);
  uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace memento::testing
