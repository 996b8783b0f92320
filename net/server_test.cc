// Tests for Server over real loopback sockets, against a stub CommandHandler.
//
// Every server binds port 0, every read waits with poll() and a deadline, so no
// test depends on a fixed port or can hang.
#include "net/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"
#include "net/proto/reply_builder.h"
#include "tests/util/interfaces.h"

namespace memento::net {
namespace {

int64_t NowMs() { return MonotonicMicros() / 1000; }

// The backend: ECHO x -> x; BIG n -> n bytes of 'x'; QUIT -> OK and close;
// ID -> the session id; PEER -> the session's peer; DIALECT -> the dialect number;
// AUTH -> OK and the session is authenticated; ARGC ... -> the number of arguments.
// AuthRequired() is what SetAuthRequired() said (false at first).
// Thread-safe: called from every loop at once.
class StubHandler : public CommandHandler {
 public:
  ~StubHandler() override {
    for (std::thread& t : completers_) t.join();
  }
  void Execute(Session& session, std::span<const std::string_view> argv,
               proto::ReplyBuilder& reply) override {
    executed_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.insert(std::this_thread::get_id());
    }
    const std::string_view command = argv[0];
    if (command == "ECHO" && argv.size() == 2) {
      reply.Bulk(argv[1]);
    } else if (command == "BIG" && argv.size() == 2) {
      reply.Bulk(std::string(std::strtoul(std::string(argv[1]).c_str(), nullptr, 10), 'x'));
    } else if (command == "QUIT") {
      reply.Ok();
      session.close_after_reply = true;
    } else if (command == "ID") {
      reply.Integer(static_cast<int64_t>(session.id));
    } else if (command == "PEER") {
      reply.Bulk(session.peer);
    } else if (command == "DIALECT" || command == "INLINE") {
      reply.Integer(static_cast<int64_t>(session.dialect));
    } else if (command == "AUTH") {
      session.authenticated = true;
      reply.Ok();
    } else if (command == "ARGC") {
      reply.Integer(static_cast<int64_t>(argv.size()));
    } else if ((command == "LATER" || command == "WLATER") && argv.size() == 3) {
      // LATER x ms: the reply "x" comes from another thread after ms milliseconds
      // (a request forwarded to another node). WLATER also "writes" first.
      if (command == "WLATER") t_uncommitted = true;
      DeferredReply deferred = DeferReply(session);
      const int delay_ms = std::atoi(std::string(argv[2]).c_str());
      std::string bytes = std::string(argv[1]) + "\r\n";
      std::lock_guard<std::mutex> lock(mu_);
      completers_.emplace_back([deferred, delay_ms, bytes]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        deferred.Complete(std::move(bytes));
      });
    } else if (command == "PARK" && argv.size() == 2) {
      // PARK x: deferred until the test calls ReleaseParked().
      DeferredReply deferred = DeferReply(session);
      std::lock_guard<std::mutex> lock(mu_);
      parked_.emplace_back(deferred, std::string(argv[1]) + "\r\n");
    } else if (command == "WRITE" && argv.size() == 2) {
      // A "write": its reply must wait for CommitRound().
      t_uncommitted = true;
      reply.Bulk(argv[1]);
    } else {
      reply.Error("ERR unknown command");
    }
  }

  bool AuthRequired() const override { return auth_required_.load(); }
  // INLINE stands for a command the text protocol does not have (a Redis inline one).
  bool IsTextCommand(std::string_view name) const override { return name != "INLINE"; }
  void SetAuthRequired(bool required) { auth_required_.store(required); }

  bool HasUncommitted() override { return t_uncommitted; }
  Status CommitRound() override {
    t_uncommitted = false;
    commits_.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock<std::mutex> lock(gate_mu_);
    gate_cv_.wait(lock, [&] { return gate_open_; });
    return fail_commits_ ? Status::IOError("fdatasync wal-1.log: No space left on device")
                         : Status::OK();
  }
  // While closed, CommitRound() blocks (a slow disk).
  void SetGate(bool open) {
    {
      std::lock_guard<std::mutex> lock(gate_mu_);
      gate_open_ = open;
    }
    gate_cv_.notify_all();
  }
  void FailCommits() {
    std::lock_guard<std::mutex> lock(gate_mu_);
    fail_commits_ = true;
  }
  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }
  // Completes every PARKed request, newest first (the opposite of their order).
  void ReleaseParked() {
    std::vector<std::pair<DeferredReply, std::string>> parked;
    {
      std::lock_guard<std::mutex> lock(mu_);
      parked.swap(parked_);
    }
    for (auto it = parked.rbegin(); it != parked.rend(); ++it) it->first.Complete(it->second);
  }

  uint64_t executed() const { return executed_.load(std::memory_order_relaxed); }
  size_t distinct_threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_.size();
  }

 private:
  std::atomic<uint64_t> executed_{0};
  std::atomic<bool> auth_required_{false};
  std::mutex mu_;
  std::set<std::thread::id> threads_;
  std::vector<std::thread> completers_;  // guarded by mu_
  std::vector<std::pair<DeferredReply, std::string>> parked_;  // guarded by mu_
  static thread_local bool t_uncommitted;
  std::atomic<uint64_t> commits_{0};
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool gate_open_ = true;      // guarded by gate_mu_
  bool fail_commits_ = false;  // guarded by gate_mu_
};

thread_local bool StubHandler::t_uncommitted = false;

// A blocking-style client on a non-blocking socket: every call takes a timeout.
class TestClient {
 public:
  // `rcvbuf` > 0 shrinks the receive buffer (set before connect, so the window
  // is small from the start): a client that does not read then fills up fast.
  // `address` (network byte order) is where to connect: 127.0.0.1 unless a test
  // needs a non-loopback peer.
  explicit TestClient(uint16_t port, int rcvbuf = 0, in_addr_t address = htonl(INADDR_LOOPBACK)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = address;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~TestClient() { Close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }
  // Closes with a reset (SO_LINGER 0): the server sees the client gone, not a
  // half-close after which it would still owe the replies.
  void Reset() {
    linger l{};
    l.l_onoff = 1;
    l.l_linger = 0;
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }

  // "ip:port" of our end, as the server should see it.
  std::string LocalAddress() const {
    sockaddr_in addr{};
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    char ip[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof(ip));
    return std::string(ip) + ":" + std::to_string(ntohs(addr.sin_port));
  }

  bool Send(std::string_view data, int timeout_ms = 10000) {
    const int64_t deadline = NowMs() + timeout_ms;
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (!Wait(POLLOUT, deadline)) return false;
    }
    return true;
  }

  // One reply line without its "\r\n"; nullopt on timeout or EOF.
  std::optional<std::string> ReadLine(int timeout_ms = 5000) {
    const int64_t deadline = NowMs() + timeout_ms;
    size_t scan = head_;
    for (;;) {
      size_t pos = buffer_.find("\r\n", scan);
      if (pos != std::string::npos) {
        std::string line = buffer_.substr(head_, pos - head_);
        Consume(pos + 2 - head_);
        return line;
      }
      scan = buffer_.size() > head_ ? buffer_.size() - 1 : head_;
      if (Fill(deadline) <= 0) return std::nullopt;
    }
  }

  // Exactly `n` bytes; nullopt on timeout or EOF.
  std::optional<std::string> ReadBytes(size_t n, int timeout_ms = 5000) {
    const int64_t deadline = NowMs() + timeout_ms;
    while (buffer_.size() - head_ < n) {
      if (Fill(deadline) <= 0) return std::nullopt;
    }
    std::string out = buffer_.substr(head_, n);
    Consume(n);
    return out;
  }

  // Reads until the server closes; returns the bytes read, nullopt on timeout.
  std::optional<size_t> ReadUntilClosed(int timeout_ms = 10000) {
    const int64_t deadline = NowMs() + timeout_ms;
    size_t total = buffer_.size() - head_;
    Consume(total);
    for (;;) {
      int got = Fill(deadline);
      if (got < 0) return std::nullopt;
      if (got == 0) return total;
      total += buffer_.size();
      Consume(buffer_.size());
    }
  }

  // True if the server closes (EOF or reset) before any more data arrives.
  bool WaitClosed(int timeout_ms = 5000) {
    if (buffer_.size() > head_) return false;
    return Fill(NowMs() + timeout_ms) == 0;
  }

 private:
  bool Wait(short events, int64_t deadline) {
    for (;;) {
      const int64_t left = deadline - NowMs();
      if (left <= 0) return false;
      pollfd pfd{fd_, events, 0};
      int n = ::poll(&pfd, 1, static_cast<int>(left));
      if (n > 0) return true;
      if (n < 0 && errno != EINTR) return false;
    }
  }

  // Appends what arrives before `deadline`. Returns 1 on data, 0 on EOF or reset,
  // -1 on timeout.
  int Fill(int64_t deadline) {
    char chunk[64 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0) return 0;
      if (errno != EAGAIN && errno != EINTR) return 0;  // ECONNRESET counts as closed
      if (!Wait(POLLIN, deadline)) return -1;
    }
  }

  void Consume(size_t n) {
    head_ += n;
    if (head_ == buffer_.size()) {
      buffer_.clear();
      head_ = 0;
    } else if (head_ > buffer_.size() / 2) {
      buffer_.erase(0, head_);
      head_ = 0;
    }
  }

  int fd_ = -1;
  std::string buffer_;
  size_t head_ = 0;
};

// Polls `done` until it holds or `timeout_ms` passes.
bool WaitFor(const std::function<bool()>& done, int timeout_ms = 5000) {
  const int64_t deadline = NowMs() + timeout_ms;
  while (!done()) {
    if (NowMs() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

class ServerTest : public ::testing::Test {
 protected:
  // Starts a server on 127.0.0.1, port 0, with `options` otherwise.
  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(options, &handler_);
    Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  std::unique_ptr<TestClient> Connect(int rcvbuf = 0) {
    auto client = std::make_unique<TestClient>(server_->port(), rcvbuf);
    EXPECT_TRUE(client->connected());
    return client;
  }

  StubHandler handler_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoundTrip) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO hello\r\n"));
  EXPECT_EQ(client->ReadLine(), "hello");
  ASSERT_TRUE(client->Send("NOPE\n"));
  EXPECT_EQ(client->ReadLine(), "(error) ERR unknown command");
}

TEST_F(ServerTest, TenThousandPipelinedRequestsInOneWriteAnswerInOrder) {
  StartServer();
  auto client = Connect();
  constexpr int kRequests = 10000;
  std::string batch;
  for (int i = 0; i < kRequests; ++i) batch += "ECHO v" + std::to_string(i) + "\r\n";
  // Send from another thread: the replies may fill our receive buffer before the
  // server has read every request.
  std::thread sender([&] { EXPECT_TRUE(client->Send(batch)); });
  for (int i = 0; i < kRequests; ++i) {
    std::optional<std::string> line = client->ReadLine();
    ASSERT_TRUE(line.has_value()) << "reply " << i;
    ASSERT_EQ(*line, "v" + std::to_string(i));
  }
  sender.join();
  EXPECT_EQ(handler_.executed(), uint64_t{kRequests});
}

TEST_F(ServerTest, RequestSentByteByByteGetsOneReply) {
  StartServer();
  auto client = Connect();
  for (char c : std::string("ECHO split\r\n")) {
    ASSERT_TRUE(client->Send(std::string_view(&c, 1)));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(client->ReadLine(), "split");
  // Nothing else came out of those bytes: the next reply is the next request's.
  ASSERT_TRUE(client->Send("ECHO next\r\n"));
  EXPECT_EQ(client->ReadLine(), "next");
  EXPECT_EQ(handler_.executed(), 2u);
}

TEST_F(ServerTest, BlankLinesAreNotRequests) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("\r\n\n   \r\nECHO a\r\n"));
  EXPECT_EQ(client->ReadLine(), "a");
  EXPECT_EQ(handler_.executed(), 1u);
}

TEST_F(ServerTest, ManyClientsOnTwoLoopsAllGetTheirOwnReplies) {
  ServerOptions options;
  options.threads = 2;
  StartServer(options);
  constexpr int kClients = 32;
  constexpr int kRequests = 1000;
  constexpr int kBatch = 10;  // pipelined per round trip
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      TestClient client(server_->port());
      if (!client.connected()) {
        failures.fetch_add(1);
        return;
      }
      for (int i = 0; i < kRequests; i += kBatch) {
        std::string batch;
        for (int j = i; j < i + kBatch; ++j) {
          batch += "ECHO c" + std::to_string(c) + "-" + std::to_string(j) + "\r\n";
        }
        if (!client.Send(batch)) {
          failures.fetch_add(1);
          return;
        }
        for (int j = i; j < i + kBatch; ++j) {
          if (client.ReadLine(10000) != "c" + std::to_string(c) + "-" + std::to_string(j)) {
            failures.fetch_add(1);
            return;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(handler_.executed(), uint64_t{kClients} * kRequests);
  EXPECT_EQ(handler_.distinct_threads(), 2u) << "connections should spread over both loops";
}

TEST_F(ServerTest, SlowReaderLosesNoBytesAndDoesNotBlockOthers) {
  ServerOptions options;
  options.threads = 1;  // same loop for both clients
  options.output_pause_bytes = 64 * 1024;
  StartServer(options);

  // 100 replies of 200 kB (20 MB) are far more than the kernel buffers between the
  // server and a client with a small receive window, so the server must hold back.
  constexpr int kReplies = 100;
  constexpr size_t kReplySize = 200 * 1000;
  auto slow = Connect(/*rcvbuf=*/64 * 1024);
  std::string requests;
  for (int i = 0; i < kReplies; ++i) requests += "BIG " + std::to_string(kReplySize) + "\r\n";
  ASSERT_TRUE(slow->Send(requests));
  ASSERT_TRUE(WaitFor([&] { return handler_.executed() > 0; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it fill up

  auto other = Connect();
  const int64_t start = NowMs();
  ASSERT_TRUE(other->Send("ECHO fast\r\n"));
  EXPECT_EQ(other->ReadLine(1000), "fast");
  EXPECT_LT(NowMs() - start, 1000);
  // Back-pressure: the server stopped executing the slow client's requests once
  // the kernel buffers (a few MB) and output_pause_bytes were full (~22 of 100).
  EXPECT_LT(handler_.executed(), uint64_t{kReplies} / 2);

  const std::string expected = std::string(kReplySize, 'x') + "\r\n";
  for (int i = 0; i < kReplies; ++i) {
    std::optional<std::string> reply = slow->ReadBytes(expected.size(), 10000);
    ASSERT_TRUE(reply.has_value()) << "reply " << i;
    ASSERT_TRUE(*reply == expected) << "reply " << i << " is damaged";
  }
  ASSERT_TRUE(slow->Send("ECHO done\r\n"));
  EXPECT_EQ(slow->ReadLine(), "done");
}

TEST_F(ServerTest, LineTooLongRepliesWithErrorThenCloses) {
  ServerOptions options;
  options.max_line = 1024;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send(std::string(4096, 'a')));
  std::optional<std::string> line = client->ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("(error) ", 0), 0u) << *line;
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().protocol_errors == 1; }));
  EXPECT_EQ(handler_.executed(), 0u);
}

TEST_F(ServerTest, LineTooLongWhileClientKeepsSendingStillDeliversTheError) {
  ServerOptions options;
  options.max_line = 1024;
  StartServer(options);
  auto client = Connect();
  // Far more than the server reads before it gives up on the line: the rest arrives
  // after the error reply, and must not make the server reset the connection.
  ASSERT_TRUE(client->Send(std::string(2 << 20, 'a')));
  std::optional<std::string> line = client->ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("(error) ", 0), 0u) << *line;
  EXPECT_TRUE(client->WaitClosed());
}

TEST_F(ServerTest, QuitRepliesThenClosesAndSkipsLaterRequests) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO a\r\nQUIT\r\nECHO b\r\nECHO c\r\n"));
  EXPECT_EQ(client->ReadLine(), "a");
  EXPECT_EQ(client->ReadLine(), "OK");
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_EQ(handler_.executed(), 2u);
  client->Close();  // else the server lingers a second for our FIN
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 0; }));
}

TEST_F(ServerTest, HalfClosedClientStillGetsItsReplies) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO a\r\nECHO b\r\n"));
  client->ShutdownWrite();
  EXPECT_EQ(client->ReadLine(), "a");
  EXPECT_EQ(client->ReadLine(), "b");
  EXPECT_TRUE(client->WaitClosed());
}

// Bind() holds the port without serving: a client that connects meanwhile waits in the
// backlog, and is served once Start() runs (what the daemon does while it recovers).
TEST_F(ServerTest, BindHoldsThePortAndStartServesWhoConnectedMeanwhile) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  server_ = std::make_unique<Server>(options, &handler_);
  ASSERT_TRUE(server_->Bind().ok());
  ASSERT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
  ServerOptions same = options;
  same.port = server_->port();
  Server second(same, &handler_);
  EXPECT_TRUE(second.Bind().IsBusy());  // the port is taken from Bind() on
  auto early = Connect();
  ASSERT_TRUE(early->Send("ECHO early\r\n"));
  EXPECT_EQ(early->ReadLine(200), std::nullopt);  // not served yet
  EXPECT_EQ(handler_.executed(), 0u);
  ASSERT_TRUE(server_->Start().ok());
  EXPECT_EQ(early->ReadLine(), "early");
}

TEST_F(ServerTest, StartOnPortInUseIsBusyAndNamesTheAddress) {
  StartServer();
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = server_->port();
  Server second(options, &handler_);
  Status status = second.Start();
  EXPECT_TRUE(status.IsBusy()) << status.ToString();
  EXPECT_EQ(status.message(), "127.0.0.1:" + std::to_string(server_->port()) +
                                  " is already in use (is another memento running?)");
  // The first server is unaffected.
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO still\r\n"));
  EXPECT_EQ(client->ReadLine(), "still");
}

TEST_F(ServerTest, HostMustBeALiteralOrLocalhost) {
  ServerOptions options;
  options.port = 0;
  options.host = "example.com";
  Server bad(options, &handler_);
  EXPECT_TRUE(bad.Start().IsInvalidArgument());

  options.host = "localhost";
  Server local(options, &handler_);
  ASSERT_TRUE(local.Start().ok());
  TestClient client(local.port());
  ASSERT_TRUE(client.Send("ECHO local\r\n"));
  EXPECT_EQ(client.ReadLine(), "local");
}

TEST_F(ServerTest, ListensOnAnIpv6Literal) {
  ServerOptions options;
  options.host = "::1";
  options.port = 0;
  Server server(options, &handler_);
  Status status = server.Start();
  if (!status.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << status.ToString();

  int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_port = htons(server.port());
  addr.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::send(fd, "PEER\r\n", 6, MSG_NOSIGNAL), 6);
  char reply[128] = {};
  ssize_t n = ::recv(fd, reply, sizeof(reply) - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(reply).rfind("[::1]:", 0), 0u) << reply;
}

TEST_F(ServerTest, SessionsHaveUniqueIdsFromOneAndTheirPeerAddress) {
  StartServer();
  auto first = Connect();
  auto second = Connect();
  ASSERT_TRUE(first->Send("ID\r\nPEER\r\nDIALECT\r\n"));
  EXPECT_EQ(first->ReadLine(), "1");
  EXPECT_EQ(first->ReadLine(), first->LocalAddress());
  EXPECT_EQ(first->ReadLine(), "0");  // Dialect::kText
  ASSERT_TRUE(second->Send("ID\r\n"));
  EXPECT_EQ(second->ReadLine(), "2");
}

TEST_F(ServerTest, FirstByteStarSelectsResp) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("*1\r\n$7\r\nDIALECT\r\n*2\r\n$4\r\nECHO\r\n$5\r\na\r\nb\n\r\n"));
  EXPECT_EQ(client->ReadLine(), ":1");  // Dialect::kResp, RESP-encoded
  EXPECT_EQ(client->ReadLine(), "$5");
  EXPECT_EQ(client->ReadLine(), "a");   // binary-safe: the value holds CR LF
  EXPECT_EQ(client->ReadLine(), "b\n");
}

TEST_F(ServerTest, RespPipelinedRequestsSplitAcrossWrites) {
  StartServer();
  auto client = Connect();
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += "*2\r\n$4\r\nECHO\r\n$4\r\n" + std::to_string(1000 + i) + "\r\n";
  for (size_t at = 0; at < batch.size(); at += 7) ASSERT_TRUE(client->Send(batch.substr(at, 7)));
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(client->ReadLine(), "$4");
    ASSERT_EQ(client->ReadLine(), std::to_string(1000 + i));
  }
}

TEST_F(ServerTest, RespProtocolErrorRepliesThenCloses) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("*1\r\n$-10\r\n"));
  EXPECT_EQ(client->ReadLine(), "-ERR Protocol error: invalid bulk length");
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_EQ(server_->Stats().protocol_errors, 1u);
}

TEST_F(ServerTest, RepliesOfAWriteWaitForCommitRound) {
  StartServer();
  auto client = Connect();
  handler_.SetGate(false);
  ASSERT_TRUE(client->Send("WRITE a\r\n"));
  EXPECT_FALSE(client->ReadLine(/*timeout_ms=*/300).has_value());  // not durable yet
  handler_.SetGate(true);
  EXPECT_EQ(client->ReadLine(), "a");
}

TEST_F(ServerTest, ReadOnlyRequestsNeedNoCommit) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO a\r\nECHO b\r\n"));
  EXPECT_EQ(client->ReadLine(), "a");
  EXPECT_EQ(client->ReadLine(), "b");
  EXPECT_EQ(handler_.commits(), 0u);
}

TEST_F(ServerTest, PipelinedWritesShareOneCommit) {
  StartServer();
  auto client = Connect();
  std::string batch;
  for (int i = 0; i < 100; ++i) batch += "WRITE " + std::to_string(i) + "\r\n";
  handler_.SetGate(false);  // hold the first commit so the rest pile up
  ASSERT_TRUE(client->Send(batch));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  handler_.SetGate(true);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(client->ReadLine(), std::to_string(i));
  EXPECT_LT(handler_.commits(), 10u);
}

TEST_F(ServerTest, DeferredRepliesKeepRequestOrder) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO a\r\nLATER b 100\r\nECHO c\r\nLATER d 0\r\nECHO e\r\n"));
  for (const char* want : {"a", "b", "c", "d", "e"}) EXPECT_EQ(client->ReadLine(), want);
}

TEST_F(ServerTest, RequestsAfterADeferredOneRunAtOnceButTheirRepliesWait) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("PARK a\r\nECHO b\r\nPARK c\r\nLATER d 0\r\nECHO e\r\n"));
  // Every request ran (a pipelining client keeps several forwarded requests in
  // flight) ...
  const int64_t deadline = NowMs() + 5000;
  while (handler_.executed() < 5 && NowMs() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(handler_.executed(), 5u);
  // ... but nothing is sent before the first reply, which has not come.
  EXPECT_FALSE(client->ReadLine(/*timeout_ms=*/200).has_value());
  handler_.ReleaseParked();  // completes c, then a
  for (const char* want : {"a", "b", "c", "d", "e"}) EXPECT_EQ(client->ReadLine(), want);
}

TEST_F(ServerTest, ManyDeferredRepliesArrivingInAnyOrderLeaveInRequestOrder) {
  StartServer();
  auto client = Connect();
  std::string batch;
  for (int i = 0; i < 600; ++i) {  // past kMaxDeferredReplies: execution pauses, resumes
    batch += i % 3 == 0 ? "ECHO e" + std::to_string(i) + "\r\n"
                        : "LATER l" + std::to_string(i) + " " + std::to_string(i % 7) + "\r\n";
  }
  std::thread sender([&] { EXPECT_TRUE(client->Send(batch)); });
  for (int i = 0; i < 600; ++i) {
    ASSERT_EQ(client->ReadLine(), (i % 3 == 0 ? "e" : "l") + std::to_string(i)) << i;
  }
  sender.join();
}

TEST_F(ServerTest, ADeferredReplyDoesNotHoldOtherConnections) {
  ServerOptions options;
  options.threads = 1;  // both clients on the same loop
  StartServer(options);
  auto waiting = Connect();
  auto other = Connect();
  ASSERT_TRUE(waiting->Send("LATER slow 1500\r\n"));
  const int64_t start = NowMs();
  ASSERT_TRUE(other->Send("ECHO quick\r\n"));
  EXPECT_EQ(other->ReadLine(), "quick");
  EXPECT_LT(NowMs() - start, 1000);
  EXPECT_EQ(waiting->ReadLine(/*timeout_ms=*/5000), "slow");
}

TEST_F(ServerTest, ADeferredReplyAfterAWriteWaitsForTheCommit) {
  StartServer();
  auto client = Connect();
  handler_.SetGate(false);
  ASSERT_TRUE(client->Send("WLATER w 0\r\n"));
  EXPECT_FALSE(client->ReadLine(/*timeout_ms=*/300).has_value());  // not durable yet
  handler_.SetGate(true);
  EXPECT_EQ(client->ReadLine(), "w");
}

TEST_F(ServerTest, AClientGoneBeforeItsDeferredReplyIsForgotten) {
  StartServer();
  {
    auto client = Connect();
    ASSERT_TRUE(client->Send("LATER lost 300\r\nECHO never\r\n"));
    ASSERT_TRUE(WaitFor([&] { return handler_.executed() > 0; }));
    client->Reset();  // gone while its reply is pending
  }
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 0; }));
  // Connected before the reply completes: the server likely gives it the gone client's
  // fd number, so a reply delivered by fd instead of by connection id would reach it.
  auto client = Connect();
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 1; }));
  EXPECT_EQ(server_->Stats().deferred_replies_dropped, 0u);
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().deferred_replies_dropped == 1; }));
  ASSERT_TRUE(client->Send("ECHO alive\r\n"));
  EXPECT_EQ(client->ReadLine(), "alive");  // not "lost"
  // The loop counts a send after it returns, so the client may read first: wait for the
  // count, then check that it is exactly the one reply (nothing of "lost" went out).
  const uint64_t alive = std::string("alive\r\n").size();
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().net_output_bytes >= alive; }));
  EXPECT_EQ(server_->Stats().net_output_bytes, alive);
}

TEST_F(ServerTest, HalfClosedClientStillGetsItsDeferredReply) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("LATER x 200\r\nECHO y\r\n"));
  client->ShutdownWrite();
  EXPECT_EQ(client->ReadLine(), "x");
  EXPECT_EQ(client->ReadLine(), "y");
}

TEST_F(ServerTest, FailedCommitDiscardsTheRoundsRepliesAndCloses) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO before\r\n"));
  ASSERT_EQ(client->ReadLine(), "before");  // replied before the failure: kept
  handler_.FailCommits();
  ASSERT_TRUE(client->Send("ECHO x\r\nWRITE y\r\n"));
  EXPECT_EQ(client->ReadLine(),
            "(error) ERR write-ahead log failed, durability unknown, connection closed: "
            "fdatasync wal-1.log: No space left on device");
  EXPECT_TRUE(client->WaitClosed());  // and "x" / "y" were never sent
}

TEST_F(ServerTest, TextClientSwitchesToRespAtItsFirstMultibulk) {
  StartServer();
  auto client = Connect();
  // Split inside the multibulk: the switch happens at its first byte, once.
  ASSERT_TRUE(client->Send("DIALECT\r\n\r\n*1\r\n$7\r\nDIA"));
  EXPECT_EQ(client->ReadLine(), "0");  // Dialect::kText
  ASSERT_TRUE(client->Send("LECT\r\nDIALECT\r\n"));
  EXPECT_EQ(client->ReadLine(), ":1");  // the multibulk: RESP
  EXPECT_EQ(client->ReadLine(), ":1");  // and every request after it, inline ones too
}

TEST_F(ServerTest, EmptyMultibulksSwitchToRespWithoutAReply) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("*-10\r\n*0\r\nDIALECT\r\n"));
  EXPECT_EQ(client->ReadLine(), ":1");
}

TEST_F(ServerTest, NonTextCommandOnATextConnectionRunsAsResp) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("INLINE\r\nDIALECT\r\nINLINE\r\n"));
  EXPECT_EQ(client->ReadLine(), ":1");  // run as kResp, answered in RESP2
  EXPECT_EQ(client->ReadLine(), "0");   // the connection is still a text one
  EXPECT_EQ(client->ReadLine(), ":1");
}

TEST_F(ServerTest, AStarThatIsNotAMultibulkIsAProtocolError) {
  StartServer();
  auto client = Connect();
  ASSERT_TRUE(client->Send("DIALECT\r\n*foo\r\nDIALECT\r\n"));
  EXPECT_EQ(client->ReadLine(), "0");
  EXPECT_EQ(client->ReadLine(), "-ERR Protocol error: invalid multibulk length");
  EXPECT_TRUE(client->WaitClosed());
}

TEST_F(ServerTest, ShutdownWithIdleAndNonReadingClientsReturnsPromptly) {
  ServerOptions options;
  options.threads = 2;
  options.output_pause_bytes = 64 * 1024;
  StartServer(options);
  auto idle = Connect();
  auto slow = Connect(/*rcvbuf=*/64 * 1024);
  std::string requests;
  for (int i = 0; i < 50; ++i) requests += "BIG 1000000\r\n";
  ASSERT_TRUE(slow->Send(requests));
  ASSERT_TRUE(idle->Send("ECHO x\r\n"));
  ASSERT_EQ(idle->ReadLine(), "x");
  ASSERT_TRUE(WaitFor([&] { return handler_.executed() > 1; }));

  const int64_t start = NowMs();
  server_->Shutdown(/*drain_ms=*/200);
  EXPECT_LT(NowMs() - start, 1500);
  EXPECT_TRUE(idle->WaitClosed());
  EXPECT_EQ(server_->Stats().connected_clients, 0u);
  server_->Shutdown();  // idempotent
}

TEST_F(ServerTest, ShutdownFlushesEveryReplyAlreadyProduced) {
  ServerOptions options;
  options.output_pause_bytes = 64 * 1024;
  StartServer(options);
  constexpr size_t kReplySize = 100 * 1000;
  auto client = Connect(/*rcvbuf=*/64 * 1024);
  std::string requests;
  for (int i = 0; i < 100; ++i) requests += "BIG " + std::to_string(kReplySize) + "\r\n";
  ASSERT_TRUE(client->Send(requests));
  ASSERT_TRUE(WaitFor([&] { return handler_.executed() > 0; }));

  // Shut down while the client is not reading, then read: whatever was executed
  // before the stop arrives whole, and nothing after it runs.
  std::thread stopper([&] { server_->Shutdown(/*drain_ms=*/10000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::optional<size_t> received = client->ReadUntilClosed();
  stopper.join();
  ASSERT_TRUE(received.has_value());
  EXPECT_GT(handler_.executed(), 0u);
  EXPECT_LT(handler_.executed(), 100u);
  EXPECT_EQ(*received, handler_.executed() * (kReplySize + 2));
}

TEST_F(ServerTest, ShutdownRefusesNewConnections) {
  StartServer();
  const uint16_t port = server_->port();
  server_->Shutdown();
  TestClient late(port);
  EXPECT_FALSE(late.connected());
}

TEST_F(ServerTest, StatsCountConnectionsCommandsErrorsAndBytes) {
  ServerOptions options;
  options.threads = 2;
  options.max_line = 64;
  StartServer(options);
  auto a = Connect();
  auto b = Connect();
  ASSERT_TRUE(a->Send("ECHO hello\r\n"));  // 12 bytes in, 7 out
  EXPECT_EQ(a->ReadLine(), "hello");
  ASSERT_TRUE(b->Send("ECHO x\n"));  // 7 bytes in, 3 out
  EXPECT_EQ(b->ReadLine(), "x");

  // A loop counts sent bytes after send() returns, which may be after the client
  // has read them: wait for the numbers to settle.
  ServerStats stats;
  WaitFor([&] {
    stats = server_->Stats();
    return stats.connected_clients == 2 && stats.net_output_bytes == 10;
  });
  EXPECT_EQ(stats.connected_clients, 2u);
  EXPECT_EQ(stats.total_connections, 2u);
  EXPECT_EQ(stats.total_commands, 2u);
  EXPECT_EQ(stats.protocol_errors, 0u);
  EXPECT_EQ(stats.net_input_bytes, 19u);
  EXPECT_EQ(stats.net_output_bytes, 10u);

  a->Close();
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 1; }));

  auto c = Connect();
  ASSERT_TRUE(c->Send(std::string(100, 'z')));
  ASSERT_TRUE(c->ReadLine().has_value());
  EXPECT_TRUE(c->WaitClosed());
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().protocol_errors == 1; }));
  stats = server_->Stats();
  EXPECT_EQ(stats.total_connections, 3u);
  EXPECT_EQ(stats.total_commands, 2u);

  server_->Shutdown();
  EXPECT_EQ(server_->Stats().connected_clients, 0u);
}

// --- Limits and hostile clients ----------------------------------------------------

TEST_F(ServerTest, MaxClientsRefusesOneMoreWithAnErrorLineThenEof) {
  ServerOptions options;
  options.threads = 2;
  options.max_clients = 2;
  StartServer(options);
  auto a = Connect();
  auto b = Connect();
  ASSERT_TRUE(a->Send("ECHO a\r\n"));
  ASSERT_EQ(a->ReadLine(), "a");

  auto extra = Connect();
  // Before the client says anything, so in neither dialect: Redis's RESP error.
  EXPECT_EQ(extra->ReadLine(), "-ERR max number of clients reached");
  EXPECT_TRUE(extra->WaitClosed());
  ServerStats stats = server_->Stats();
  EXPECT_EQ(stats.rejected_connections, 1u);
  EXPECT_EQ(stats.total_connections, 2u);

  // The admitted ones are untouched, and a freed slot is usable again.
  ASSERT_TRUE(b->Send("ECHO b\r\n"));
  EXPECT_EQ(b->ReadLine(), "b");
  a->Close();
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 1; }));
  auto c = Connect();
  ASSERT_TRUE(c->Send("ECHO c\r\n"));
  EXPECT_EQ(c->ReadLine(), "c");
}

TEST_F(ServerTest, QueryBufferLimitRepliesThenCloses) {
  ServerOptions options;
  options.max_query_buffer = 64 * 1024;
  StartServer(options);
  auto client = Connect();
  // Each bulk is allowed (512 MB at most), their sum is not.
  std::string request = "*3\r\n$4\r\nECHO\r\n$100000\r\n" + std::string(100000, 'v') + "\r\n";
  ASSERT_TRUE(client->Send(request));
  EXPECT_EQ(client->ReadLine(),
            "-ERR Protocol error: request exceeds the query buffer limit of 65536 bytes");
  EXPECT_TRUE(client->WaitClosed());
  EXPECT_EQ(server_->Stats().query_limit_disconnections, 1u);
  EXPECT_EQ(handler_.executed(), 0u);
}

TEST_F(ServerTest, RequestJustUnderTheQueryBufferLimitIsServed) {
  ServerOptions options;
  options.max_query_buffer = 64 * 1024;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send("*2\r\n$4\r\nECHO\r\n$60000\r\n" + std::string(60000, 'v') + "\r\n"));
  EXPECT_EQ(client->ReadLine(), "$60000");
  EXPECT_EQ(client->ReadLine(), std::string(60000, 'v'));
}

TEST_F(ServerTest, OneReplyOverTheOutputLimitClosesTheConnection) {
  ServerOptions options;
  options.max_output_buffer = 1 << 20;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send("ECHO before\r\n"));
  ASSERT_EQ(client->ReadLine(), "before");
  ASSERT_TRUE(client->Send("BIG 2000000\r\nECHO after\r\n"));
  // The oversized reply is discarded, not sent, and nothing after it runs.
  std::optional<size_t> received = client->ReadUntilClosed();
  ASSERT_TRUE(received.has_value());
  EXPECT_EQ(*received, 0u);
  EXPECT_EQ(server_->Stats().output_limit_disconnections, 1u);
  EXPECT_EQ(handler_.executed(), 2u);
  // Replies under the limit are fine.
  auto other = Connect();
  ASSERT_TRUE(other->Send("BIG 900000\r\n"));
  EXPECT_TRUE(other->ReadBytes(900000 + 2).has_value());
}

TEST_F(ServerTest, PipelinedLargeRepliesToANonReaderHitTheOutputLimit) {
  // With the pause threshold at the hard limit, the reply that crosses one crosses
  // the other: a client that never reads is disconnected, and holds at most about
  // 1 MB + one reply meanwhile.
  ServerOptions options;
  options.output_pause_bytes = 1 << 20;
  options.max_output_buffer = 1 << 20;
  StartServer(options);
  auto slow = Connect(/*rcvbuf=*/64 * 1024);
  std::string requests;
  for (int i = 0; i < 1000; ++i) requests += "BIG 300000\r\n";
  std::thread sender([&] { (void)slow->Send(requests, /*timeout_ms=*/5000); });
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().output_limit_disconnections == 1; }, 10000));
  sender.join();
  EXPECT_LT(handler_.executed(), 1000u);
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 0; }));
}

TEST_F(ServerTest, IdleConnectionsAreClosedActiveOnesAreNot) {
  ServerOptions options;
  options.idle_timeout_ms = 300;
  StartServer(options);
  auto idle = Connect();
  auto busy = Connect();
  const int64_t start = NowMs();
  // `busy` talks every 50 ms for 900 ms (three timeouts).
  while (NowMs() - start < 900) {
    ASSERT_TRUE(busy->Send("ECHO x\r\n"));
    ASSERT_EQ(busy->ReadLine(), "x");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(idle->WaitClosed(/*timeout_ms=*/1000));
  EXPECT_EQ(server_->Stats().idle_disconnections, 1u);
  ASSERT_TRUE(busy->Send("ECHO still\r\n"));
  EXPECT_EQ(busy->ReadLine(), "still");
}

TEST_F(ServerTest, AConnectionWaitingForADeferredReplyIsNotIdle) {
  ServerOptions options;
  options.idle_timeout_ms = 200;
  StartServer(options);
  auto client = Connect();
  ASSERT_TRUE(client->Send("PARK late\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // several sweeps
  handler_.ReleaseParked();
  EXPECT_EQ(client->ReadLine(), "late");
}

TEST_F(ServerTest, NoIdleTimeoutByDefault) {
  StartServer();
  auto client = Connect();
  EXPECT_FALSE(client->ReadLine(/*timeout_ms=*/300).has_value());  // nothing, no EOF
  ASSERT_TRUE(client->Send("ECHO x\r\n"));
  EXPECT_EQ(client->ReadLine(), "x");
}

TEST_F(ServerTest, HttpRequestLineClosesWithoutReply) {
  StartServer();
  for (const char* request :
       {"GET / HTTP/1.1\r\nHost: 127.0.0.1:6737\r\n\r\n", "POST /x HTTP/1.1\r\n",
        "post\r\n", "Host: example.com\r\n", "HEAD /index.html HTTP/1.0\r\n"}) {
    auto client = Connect();
    ASSERT_TRUE(client->Send(request));
    EXPECT_TRUE(client->WaitClosed()) << request;
  }
  EXPECT_EQ(handler_.executed(), 0u);
  EXPECT_TRUE(WaitFor([&] { return server_->Stats().protocol_errors == 5; }));
}

TEST_F(ServerTest, HttpLookalikesThatAreRequestsStillRun) {
  StartServer();
  auto client = Connect();
  // A GET of a key, a SET whose value is "HTTP/1.1", a lower-case "get".
  ASSERT_TRUE(client->Send("ECHO a\r\nGET mykey\r\nARGC / HTTP/1.1\r\nget / HTTP/1.1\r\n"));
  EXPECT_EQ(client->ReadLine(), "a");
  EXPECT_EQ(client->ReadLine(), "(error) ERR unknown command");
  EXPECT_EQ(client->ReadLine(), "3");
  EXPECT_EQ(client->ReadLine(), "(error) ERR unknown command");
  // After a request, an HTTP line is still caught.
  ASSERT_TRUE(client->Send("Host: x\r\nECHO b\r\n"));
  EXPECT_TRUE(client->WaitClosed());
}

TEST_F(ServerTest, BeforeAuthOnlySmallRequestsAreAccepted) {
  handler_.SetAuthRequired(true);
  StartServer();
  const std::string twenty_kb(20000, 'v');
  // RESP: more than 10 elements, or a bulk over 16 KiB: error, then close.
  {
    auto client = Connect();
    std::string request = "*11\r\n";
    for (int i = 0; i < 11; ++i) request += "$1\r\na\r\n";
    ASSERT_TRUE(client->Send(request));
    EXPECT_EQ(client->ReadLine(), "-ERR Protocol error: unauthenticated multibulk length");
    EXPECT_TRUE(client->WaitClosed());
  }
  {
    auto client = Connect();
    ASSERT_TRUE(client->Send("*2\r\n$4\r\nECHO\r\n$20000\r\n"));
    EXPECT_EQ(client->ReadLine(), "-ERR Protocol error: unauthenticated bulk length");
    EXPECT_TRUE(client->WaitClosed());
  }
  // Text: a line over 16 KiB.
  {
    auto client = Connect();
    ASSERT_TRUE(client->Send("ECHO " + twenty_kb + "\r\n"));
    std::optional<std::string> line = client->ReadLine();
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(line->rfind("(error) ERR line too long", 0), 0u) << *line;
    EXPECT_TRUE(client->WaitClosed());
  }
  EXPECT_EQ(handler_.executed(), 0u);
  // Small requests pass (the handler answers NOAUTH in real life); after AUTH the
  // normal limits apply, even to a request already partly received.
  {
    auto client = Connect();
    std::string request = "*10\r\n$4\r\nARGC\r\n";
    for (int i = 0; i < 9; ++i) request += "$1\r\na\r\n";
    ASSERT_TRUE(client->Send(request + "*1\r\n$4\r\nAUTH\r\n*2\r\n$4\r\nECHO\r\n$20000\r\n"));
    EXPECT_EQ(client->ReadLine(), ":10");
    EXPECT_EQ(client->ReadLine(), "+OK");
    ASSERT_TRUE(client->Send(twenty_kb + "\r\n"));
    EXPECT_EQ(client->ReadLine(), "$20000");
    EXPECT_EQ(client->ReadLine(), twenty_kb);
    request = "*11\r\n$4\r\nARGC\r\n";
    for (int i = 0; i < 10; ++i) request += "$1\r\na\r\n";
    ASSERT_TRUE(client->Send(request));
    EXPECT_EQ(client->ReadLine(), ":11");
  }
  {
    auto client = Connect();
    ASSERT_TRUE(client->Send("AUTH\r\nECHO " + twenty_kb + "\r\n"));
    EXPECT_EQ(client->ReadLine(), "OK");
    EXPECT_EQ(client->ReadLine(), twenty_kb);
  }
}

TEST_F(ServerTest, WithoutAPasswordTheNormalLimitsApplyFromTheStart) {
  StartServer();
  auto client = Connect();
  const std::string twenty_kb(20000, 'v');
  ASSERT_TRUE(client->Send("*2\r\n$4\r\nECHO\r\n$20000\r\n" + twenty_kb + "\r\n"));
  EXPECT_EQ(client->ReadLine(), "$20000");
  EXPECT_EQ(client->ReadLine(), twenty_kb);
}

using testing_util::NonLoopbackAddress;

TEST_F(ServerTest, ProtectedModeRefusesNonLoopbackPeersWithoutAPassword) {
  std::optional<in_addr_t> external = NonLoopbackAddress();
  if (!external) GTEST_SKIP() << "no non-loopback IPv4 interface";
  ServerOptions options;
  options.host = "0.0.0.0";
  options.port = 0;
  Server server(options, &handler_);
  ASSERT_TRUE(server.Start().ok());

  TestClient denied(server.port(), 0, *external);  // our peer address is that interface's
  ASSERT_TRUE(denied.connected());
  std::optional<std::string> line = denied.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("-DENIED Memento is running in protected mode", 0), 0u) << *line;
  EXPECT_TRUE(denied.WaitClosed());
  EXPECT_EQ(server.Stats().rejected_connections, 1u);

  TestClient local(server.port());  // loopback peers are always welcome
  ASSERT_TRUE(local.Send("ECHO local\r\n"));
  EXPECT_EQ(local.ReadLine(), "local");

  handler_.SetAuthRequired(true);  // with a password, anyone may try to AUTH
  TestClient remote(server.port(), 0, *external);
  ASSERT_TRUE(remote.Send("AUTH\r\nECHO remote\r\n"));
  EXPECT_EQ(remote.ReadLine(), "OK");
  EXPECT_EQ(remote.ReadLine(), "remote");
}

TEST_F(ServerTest, ProtectedModeOffAcceptsNonLoopbackPeers) {
  std::optional<in_addr_t> external = NonLoopbackAddress();
  if (!external) GTEST_SKIP() << "no non-loopback IPv4 interface";
  ServerOptions options;
  options.host = "0.0.0.0";
  options.port = 0;
  options.protected_mode = false;
  Server server(options, &handler_);
  ASSERT_TRUE(server.Start().ok());
  TestClient remote(server.port(), 0, *external);
  ASSERT_TRUE(remote.Send("ECHO remote\r\n"));
  EXPECT_EQ(remote.ReadLine(), "remote");
}

// ---- Connection administration (CLIENT LIST / KILL) and the MONITOR feed ------------

// ListClients() from the test thread, waited for.
std::vector<ClientFacts> ListAll(Server& server, ClientFilter filter = {}) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<std::vector<ClientFacts>> result;
  server.ListClients(std::move(filter), [&](std::vector<ClientFacts> facts) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(facts);
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait_for(lock, std::chrono::seconds(5), [&] { return result.has_value(); });
  return result.value_or(std::vector<ClientFacts>{});
}

size_t KillAll(Server& server, ClientFilter filter) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<size_t> result;
  server.KillClients(std::move(filter), /*self=*/0, [&](size_t killed) {
    std::lock_guard<std::mutex> lock(mu);
    result = killed;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait_for(lock, std::chrono::seconds(5), [&] { return result.has_value(); });
  return result.value_or(999);
}

TEST_F(ServerTest, ListClientsGathersEveryLoopsConnectionsById) {
  ServerOptions options;
  options.threads = 3;
  StartServer(options);
  std::vector<std::unique_ptr<TestClient>> clients;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(Connect());
    ASSERT_TRUE(clients.back()->Send("ID\r\n"));
    std::optional<std::string> id = clients.back()->ReadLine();
    ASSERT_TRUE(id.has_value());
    ids.push_back(*id);
  }
  const std::vector<ClientFacts> facts = ListAll(*server_);
  ASSERT_EQ(facts.size(), 5u);
  for (size_t i = 0; i < facts.size(); ++i) {
    EXPECT_EQ(std::to_string(facts[i].id), ids[i]);
    EXPECT_EQ(facts[i].addr, clients[i]->LocalAddress());
    EXPECT_EQ(facts[i].laddr, "127.0.0.1:" + std::to_string(server_->port()));
    EXPECT_GE(facts[i].fd, 0);
    EXPECT_TRUE(facts[i].reading);
    EXPECT_GT(facts[i].rbs, 0u);
  }
  ClientFilter second;
  second.ids = {facts[1].id};
  ASSERT_EQ(ListAll(*server_, second).size(), 1u);
  ClientFilter by_addr;
  by_addr.addr = clients[3]->LocalAddress();
  EXPECT_EQ(ListAll(*server_, by_addr).at(0).id, facts[3].id);
}

TEST_F(ServerTest, KillClientsClosesThemOnTheirOwnLoops) {
  ServerOptions options;
  options.threads = 2;
  StartServer(options);
  auto a = Connect();
  auto b = Connect();
  auto c = Connect();
  ASSERT_TRUE(WaitFor([&] { return server_->Stats().connected_clients == 3; }));
  ClientFilter filter;
  filter.addr = b->LocalAddress();
  EXPECT_EQ(KillAll(*server_, filter), 1u);
  EXPECT_TRUE(b->WaitClosed());
  ClientFilter everyone_but_a;
  everyone_but_a.skip_id = ListAll(*server_).at(0).id;
  EXPECT_EQ(KillAll(*server_, everyone_but_a), 1u);
  EXPECT_TRUE(c->WaitClosed());
  ASSERT_TRUE(a->Send("ECHO still\r\n"));
  EXPECT_EQ(a->ReadLine(), "still");
  // After Shutdown() no loop runs: the answer comes at once, empty.
  server_->Shutdown();
  EXPECT_TRUE(ListAll(*server_).empty());
  EXPECT_EQ(KillAll(*server_, ClientFilter{}), 0u);
}

}  // namespace
}  // namespace memento::net
