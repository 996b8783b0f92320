// End-to-end tests of the client limits (docs/security.md) against the real daemon:
// malformed and oversized RESP headers, many connections that promise huge bulks,
// slow senders, HTTP requests, max clients, a client that pipelines large GETs and
// never reads, pre-auth limits, protected mode. Each checks that the daemon stays
// small (its VmRSS) and responsive (a fresh client's PING latency).
//
// Every wait is bounded; the binary runs in well under a minute. It opens up to
// ~2000 sockets at once (and so does the daemon, which inherits our fd limit), so
// SetUpTestSuite raises RLIMIT_NOFILE to its hard limit.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int64_t kMiB = 1024 * 1024;

// The daemon's resident set (VmRSS in /proc/PID/status), in bytes; -1 if unreadable.
int64_t RssBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// Polls `done` every 10 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

// A field of the text protocol's INFO (e.g. "connected_clients"), or -1.
int64_t InfoField(Client& client, const std::string& name) {
  std::optional<std::vector<std::string>> lines = client.CallBlock("INFO");
  if (!lines) return -1;
  for (const std::string& line : *lines) {
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  }
  return -1;
}

// Sends `count` PINGs over a new connection, one round trip at a time, `gap` apart;
// returns the 99th-percentile round trip in microseconds (-1 if one failed).
int64_t PingP99Micros(uint16_t port, int count = 200, milliseconds gap = milliseconds(0)) {
  Client client;
  if (!client.Connect(port)) return -1;
  std::vector<int64_t> micros;
  for (int i = 0; i < count; ++i) {
    const auto start = Clock::now();
    if (client.Call("PING") != "+PONG") return -1;
    micros.push_back(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
  }
  std::sort(micros.begin(), micros.end());
  return micros[(micros.size() * 99 + 99) / 100 - 1];
}

// Reads until the daemon closes the connection; the bytes read, or nullopt if it is
// still open after `timeout`. A reset counts as closed.
std::optional<std::string> ReadToEof(Client& client, milliseconds timeout = milliseconds(5000)) {
  const auto deadline = Clock::now() + timeout;
  std::string got;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd pfd{client.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left)) <= 0) continue;
    char buf[65536];
    ssize_t n = ::recv(client.fd(), buf, sizeof(buf), 0);
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || errno == ECONNRESET) return got;
    if (errno != EINTR && errno != EAGAIN) return got;
  }
}

// A RESP request from its arguments.
std::string Resp(const std::vector<std::string>& argv) {
  std::string out = "*" + std::to_string(argv.size()) + "\r\n";
  for (const std::string& arg : argv) {
    out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  }
  return out;
}

// Opens `count` connections; fails the test (and returns fewer) if one cannot.
std::vector<Client> OpenMany(uint16_t port, int count) {
  std::vector<Client> clients;
  clients.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Client c;
    if (!c.Connect(port)) {
      ADD_FAILURE() << "connection " << i << " of " << count << " failed";
      break;
    }
    clients.push_back(std::move(c));
  }
  return clients;
}

class HostileClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rlimit limit{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
    }
    fd_limit_ = limit.rlim_cur;
    dir_ = new TempDir();
    daemon_ = new DaemonProcess();
    ASSERT_TRUE(daemon_->Start({"-p", "0", "--data-dir", dir_->path() + "/data", "--threads", "2",
                                "--fsync", "no"}))
        << daemon_->Log();
  }
  static void TearDownTestSuite() {
    delete daemon_;
    delete dir_;
  }

  // Starts a second daemon with `flags` for a test that needs other limits.
  static std::unique_ptr<DaemonProcess> StartWith(const TempDir& dir,
                                                  std::vector<std::string> flags) {
    auto daemon = std::make_unique<DaemonProcess>();
    std::vector<std::string> args = {"-p", "0", "--data-dir", dir.path() + "/data", "--threads",
                                     "1", "--fsync", "no"};
    args.insert(args.end(), flags.begin(), flags.end());
    EXPECT_TRUE(daemon->Start(args)) << daemon->Log();
    return daemon;
  }

  static uint16_t port() { return daemon_->port(); }
  static int64_t Rss() { return RssBytes(daemon_->pid()); }

  static rlim_t fd_limit_;
  static TempDir* dir_;
  static DaemonProcess* daemon_;
};

rlim_t HostileClientsTest::fd_limit_ = 0;
TempDir* HostileClientsTest::dir_ = nullptr;
DaemonProcess* HostileClientsTest::daemon_ = nullptr;

// --- Malformed headers ----------------------------------------------------------------

TEST_F(HostileClientsTest, OversizedOrMalformedHeadersGetAnErrorThenClose) {
  struct Case {
    std::string request;
    std::string reply;
  };
  const Case cases[] = {
      {"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length"},
      {"*1\r\n$2147483648\r\n", "-ERR Protocol error: invalid bulk length"},
      {"*1\r\n$-10\r\n", "-ERR Protocol error: invalid bulk length"},
      {"*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length"},
      {"*1\r\nPING\r\n", "-ERR Protocol error: expected '$', got 'P'"},
      {"*99999999999999999999999999999999999\r\n",
       "-ERR Protocol error: too big mbulk count string"},
  };
  for (const Case& c : cases) {
    const int64_t before = Rss();
    Client client;
    ASSERT_TRUE(client.Connect(port()));
    ASSERT_TRUE(client.Send(c.request));
    EXPECT_EQ(client.ReadLine(), c.reply) << c.request;
    EXPECT_TRUE(client.WaitForEof()) << c.request;
    const int64_t grown = Rss() - before;
    EXPECT_LT(grown, 5 * kMiB) << c.request;
  }
  Client check;
  ASSERT_TRUE(check.Connect(port()));
  EXPECT_EQ(check.Call("PING"), "+PONG");
}

TEST_F(HostileClientsTest, NullMultibulkIsNoRequestAndTheConnectionStays) {
  Client client;
  ASSERT_TRUE(client.Connect(port()));
  // As Redis: "*-1" (and "*0") are empty requests, no reply.
  ASSERT_TRUE(client.Send("*-1\r\n*0\r\n" + Resp({"PING"})));
  EXPECT_EQ(client.ReadLine(), "+PONG");
  ASSERT_TRUE(client.Send(Resp({"ECHO", "still here"})));
  EXPECT_EQ(client.ReadLine(), "$10");
  EXPECT_EQ(client.ReadLine(), "still here");
}

// --- Many connections that promise huge bulks ----------------------------------------

TEST_F(HostileClientsTest, ThousandPromisedHugeBulksCostLittleAndOthersStayFast) {
  constexpr int kConnections = 1000;
  ASSERT_GT(fd_limit_, rlim_t{kConnections + 100});
  Client info;
  ASSERT_TRUE(info.Connect(port()));
  const int64_t input_before = InfoField(info, "total_net_input_bytes");
  const int64_t before = Rss();

  const std::string header = "*1\r\n$536870000\r\n";  // just under 512 MB, never sent
  std::vector<Client> clients = OpenMany(port(), kConnections);
  ASSERT_EQ(clients.size(), size_t{kConnections});
  for (Client& c : clients) ASSERT_TRUE(c.Send(header));
  // Every header has been read by the daemon (it buffers, waiting for the bulk).
  ASSERT_TRUE(WaitFor([&] {
    return InfoField(info, "total_net_input_bytes") - input_before >=
           int64_t{kConnections} * static_cast<int64_t>(header.size());
  }));
  const int64_t grown = Rss() - before;
  const int64_t p99 = PingP99Micros(port());
  std::printf("[ measure  ] %d connections promising 512 MB bulks: RSS +%.1f MB; "
              "PING p99 %.2f ms\n",
              kConnections, static_cast<double>(grown) / kMiB, static_cast<double>(p99) / 1000);
  EXPECT_LT(grown, 64 * kMiB);
  EXPECT_GE(p99, 0);
  EXPECT_LT(p99, 10000);
  // Every promise is still pending (the PING client may still be closing).
  EXPECT_TRUE(
      WaitFor([&] { return InfoField(info, "connected_clients") == kConnections + 1; }));
  clients.clear();
  EXPECT_TRUE(WaitFor([&] { return InfoField(info, "connected_clients") == 1; }));
}

// --- HTTP -----------------------------------------------------------------------------

TEST_F(HostileClientsTest, HttpRequestsAreClosedWithoutAReply) {
  for (const char* request :
       {"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n\r\n",
        "POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 14\r\n\r\nSET pwned yes\r\n"}) {
    Client client;
    ASSERT_TRUE(client.Connect(port()));
    ASSERT_TRUE(client.Send(request));
    std::optional<std::string> got = ReadToEof(client);
    ASSERT_TRUE(got.has_value()) << "still open after: " << request;
    EXPECT_EQ(*got, "") << request;
  }
  Client client;
  ASSERT_TRUE(client.Connect(port()));
  EXPECT_EQ(client.Call("GET pwned"), "(null)");  // the POST body never ran
  EXPECT_EQ(client.Call("SET mykey v1"), "OK");
  EXPECT_EQ(client.Call("GET mykey"), "v1");  // a GET is still a GET
  EXPECT_GE(InfoField(client, "protocol_errors"), 2);
}

// --- Slow senders -------------------------------------------------------------------------

TEST_F(HostileClientsTest, TwoThousandSlowSendersDoNotSlowOthers) {
  constexpr int kConnections = 2000;
  ASSERT_GT(fd_limit_, rlim_t{kConnections + 100});
  std::vector<Client> clients = OpenMany(port(), kConnections);
  ASSERT_EQ(clients.size(), size_t{kConnections});

  // One byte a second on each connection, for three seconds: "SET" never completes.
  // The connections take turns through each second (20 every 10 ms), as independent
  // slow clients would, rather than all at the same instant.
  std::atomic<bool> failed{false};
  std::thread trickle([&] {
    constexpr int kPerTick = 20;
    const auto start = Clock::now();
    for (int second = 0; second < 3; ++second) {
      const char byte = "SET"[second];
      for (int i = 0; i < kConnections; ++i) {
        if (i % kPerTick == 0) {
          std::this_thread::sleep_until(start + std::chrono::seconds(second) +
                                        milliseconds(10 * (i / kPerTick)));
        }
        if (::send(clients[static_cast<size_t>(i)].fd(), &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) !=
            1) {
          failed = true;
        }
      }
    }
  });
  // Meanwhile: 200 PINGs spread over the three seconds.
  const int64_t p99 = PingP99Micros(port(), 200, milliseconds(14));
  trickle.join();
  std::printf("[ measure  ] %d slow senders: PING p99 %.2f ms\n", kConnections,
              static_cast<double>(p99) / 1000);
  EXPECT_FALSE(failed.load());
  EXPECT_GE(p99, 0);
  EXPECT_LT(p99, 10000);
  Client info;
  ASSERT_TRUE(info.Connect(port()));
  EXPECT_TRUE(
      WaitFor([&] { return InfoField(info, "connected_clients") == kConnections + 1; }));
  clients.clear();
  EXPECT_TRUE(WaitFor([&] { return InfoField(info, "connected_clients") == 1; }));
}

// --- Max clients ----------------------------------------------------------------------------

TEST_F(HostileClientsTest, ClientsOverMaxClientsGetAnErrorAndEof) {
  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon = StartWith(dir, {"--max-clients", "10"});
  std::vector<Client> admitted = OpenMany(daemon->port(), 10);
  ASSERT_EQ(admitted.size(), 10u);
  for (Client& c : admitted) ASSERT_EQ(c.Call("PING"), "+PONG");
  for (int i = 0; i < 2; ++i) {
    Client extra;
    ASSERT_TRUE(extra.Connect(daemon->port()));  // the kernel accepts; memento refuses
    EXPECT_EQ(extra.ReadLine(), "-ERR max number of clients reached");
    EXPECT_TRUE(extra.WaitForEof());
  }
  EXPECT_EQ(InfoField(admitted[0], "rejected_connections"), 2);
  EXPECT_EQ(InfoField(admitted[0], "connected_clients"), 10);

  // A freed slot is usable again.
  admitted.pop_back();
  ASSERT_TRUE(WaitFor([&] { return InfoField(admitted[0], "connected_clients") == 9; }));
  Client late;  // over RESP, to see CONFIG GET too
  ASSERT_TRUE(late.Connect(daemon->port()));
  ASSERT_TRUE(late.Send(Resp({"CONFIG", "GET", "maxclients"})));
  EXPECT_EQ(late.ReadLine(), "*2");
  EXPECT_EQ(late.ReadLine(), "$10");
  EXPECT_EQ(late.ReadLine(), "maxclients");
  EXPECT_EQ(late.ReadLine(), "$2");
  EXPECT_EQ(late.ReadLine(), "10");
}

// --- A client that never reads -------------------------------------------------------------

class BigValueTest : public HostileClientsTest {
 protected:
  // Stores a 1 MB value under "bigkey" (over RESP: too long for a text line).
  static void SetBigKey(uint16_t port) {
    Client client;
    ASSERT_TRUE(client.Connect(port));
    ASSERT_TRUE(client.Send(Resp({"SET", "bigkey", std::string(kMiB, 'b')})));
    ASSERT_EQ(client.ReadLine(), "+OK");
  }
  static const std::string& Pipeline() {
    static const std::string* requests = [] {
      auto* s = new std::string;
      for (int i = 0; i < 1000; ++i) *s += "GET bigkey\r\n";
      return s;
    }();
    return *requests;
  }
};

TEST_F(BigValueTest, NonReaderIsHeldBackByDefaultAndMemoryStaysBounded) {
  SetBigKey(port());
  const int64_t before = Rss();
  Client reader;
  ASSERT_TRUE(reader.Connect(port()));
  const int64_t commands_before = InfoField(reader, "total_commands_processed");
  Client pipeliner;
  ASSERT_TRUE(pipeliner.Connect(port()));
  ASSERT_TRUE(pipeliner.Send(Pipeline()));  // 1000 x 1 MB of replies, never read
  std::this_thread::sleep_for(milliseconds(500));
  const int64_t grown = Rss() - before;
  const int64_t executed = InfoField(reader, "total_commands_processed") - commands_before - 1;
  std::printf("[ measure  ] non-reading pipeliner (default limits): RSS +%.1f MB, %lld of its "
              "1000 GETs executed\n",
              static_cast<double>(grown) / kMiB, static_cast<long long>(executed));
  // Back-pressure: the daemon stops executing its GETs at 1 MB of unsent output
  // (plus what the kernel buffers hold).
  EXPECT_LT(grown, 16 * kMiB);
  EXPECT_LT(executed, 100);
  EXPECT_EQ(reader.Call("PING"), "+PONG");
}

TEST_F(BigValueTest, NonReaderIsDisconnectedOverTheOutputLimit) {
  TempDir dir;
  // Below one reply, so the very first GET crosses it.
  std::unique_ptr<DaemonProcess> daemon = StartWith(dir, {"--max-output-buffer", "524288"});
  SetBigKey(daemon->port());
  const int64_t before = RssBytes(daemon->pid());
  Client pipeliner;
  ASSERT_TRUE(pipeliner.Connect(daemon->port()));
  ASSERT_TRUE(pipeliner.Send(Pipeline()));
  std::optional<std::string> got = ReadToEof(pipeliner);
  ASSERT_TRUE(got.has_value()) << "still connected";
  EXPECT_EQ(*got, "");  // the oversized reply was dropped, not sent
  const int64_t grown = RssBytes(daemon->pid()) - before;
  std::printf("[ measure  ] non-reading pipeliner over a 512 KB output limit: RSS +%.1f MB\n",
              static_cast<double>(grown) / kMiB);
  EXPECT_LT(grown, 16 * kMiB);
  Client info;
  ASSERT_TRUE(info.Connect(daemon->port()));
  EXPECT_EQ(InfoField(info, "client_output_buffer_limit_disconnections"), 1);
  // The daemon's stderr is collected by a thread: wait for the line, do not race it.
  EXPECT_TRUE(daemon->WaitForLog("over the output buffer limit")) << daemon->Log();
}

// --- Idle clients, queries over the limit ----------------------------------------------------

TEST_F(HostileClientsTest, IdleClientsAreClosedAfterTheTimeout) {
  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon = StartWith(dir, {"--idle-timeout", "1"});
  Client idle;
  ASSERT_TRUE(idle.Connect(daemon->port()));
  ASSERT_EQ(idle.Call("PING"), "+PONG");
  const auto start = Clock::now();
  EXPECT_TRUE(idle.WaitForEof(milliseconds(4000)));
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
  EXPECT_GE(took, 900);
  EXPECT_LT(took, 3000);
  Client info;
  ASSERT_TRUE(info.Connect(daemon->port()));
  EXPECT_EQ(InfoField(info, "client_idle_timeout_disconnections"), 1);
}

TEST_F(HostileClientsTest, RequestOverTheQueryBufferLimitGetsAnErrorThenClose) {
  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon =
      StartWith(dir, {"--max-query-buffer", "1048576", "--max-bulk", "1048576"});
  const int64_t before = RssBytes(daemon->pid());
  Client client;
  ASSERT_TRUE(client.Connect(daemon->port()));
  // Three bulks of 600 KB: each allowed, together over 1 MB.
  const std::string bulk = "$614400\r\n" + std::string(614400, 'q') + "\r\n";
  ASSERT_TRUE(client.Send("*4\r\n$4\r\nMSET\r\n" + bulk + bulk));
  EXPECT_EQ(client.ReadLine(),
            "-ERR Protocol error: request exceeds the query buffer limit of 1048576 bytes");
  EXPECT_TRUE(client.WaitForEof());
  EXPECT_LT(RssBytes(daemon->pid()) - before, 16 * kMiB);
}

// --- Authentication and protected mode ----------------------------------------------------

TEST_F(HostileClientsTest, BeforeAuthOnlySmallRequestsAreRead) {
  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon = StartWith(dir, {"--requirepass", "s3cret"});
  {
    Client client;
    ASSERT_TRUE(client.Connect(daemon->port()));
    ASSERT_TRUE(client.Send("*1\r\n$20000\r\n"));  // a 20 KB bulk before AUTH
    EXPECT_EQ(client.ReadLine(), "-ERR Protocol error: unauthenticated bulk length");
    EXPECT_TRUE(client.WaitForEof());
  }
  {
    Client client;
    ASSERT_TRUE(client.Connect(daemon->port()));
    ASSERT_TRUE(client.Send("*11\r\n"));  // 11 elements before AUTH
    EXPECT_EQ(client.ReadLine(), "-ERR Protocol error: unauthenticated multibulk length");
    EXPECT_TRUE(client.WaitForEof());
  }
  {
    Client client;
    ASSERT_TRUE(client.Connect(daemon->port()));
    ASSERT_TRUE(client.Send(Resp({"GET", "k"})));
    EXPECT_EQ(client.ReadLine(), "-NOAUTH Authentication required.");
    ASSERT_TRUE(client.Send(Resp({"AUTH", "s3cret"})));
    EXPECT_EQ(client.ReadLine(), "+OK");
    ASSERT_TRUE(client.Send(Resp({"SET", "k", std::string(20000, 'v')})));  // now fine
    EXPECT_EQ(client.ReadLine(), "+OK");
    // Even an authenticated client cannot move the data files or lift the limits.
    for (const char* name : {"dir", "maxclients", "proto-max-bulk-len", "protected-mode"}) {
      ASSERT_TRUE(client.Send(Resp({"CONFIG", "SET", name, "/tmp"})));
      EXPECT_EQ(client.ReadLine(), "-ERR CONFIG SET failed (possibly related to argument '" +
                                       std::string(name) + "') - can't set immutable config");
    }
  }
}

// The first IPv4 address of a non-loopback interface; nullopt if there is none.
std::optional<std::string> NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* i = list; i != nullptr && !found; i = i->ifa_next) {
    if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
    const in_addr address = reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr;
    if ((ntohl(address.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN];
    if (::inet_ntop(AF_INET, &address, text, sizeof(text)) != nullptr) found = text;
  }
  ::freeifaddrs(list);
  return found;
}

TEST_F(HostileClientsTest, ProtectedModeRefusesOtherHostsWithoutAPassword) {
  std::optional<std::string> external = NonLoopbackAddress();
  if (!external) GTEST_SKIP() << "no non-loopback IPv4 interface";
  TempDir dir;
  std::unique_ptr<DaemonProcess> daemon = StartWith(dir, {"-a", "0.0.0.0"});
  Client remote;  // connecting to our own interface address makes it our peer address
  ASSERT_TRUE(remote.Connect(daemon->port(), *external));
  std::optional<std::string> line = remote.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_THAT(*line, ::testing::StartsWith("-DENIED Memento is running in protected mode"));
  EXPECT_TRUE(remote.WaitForEof());
  Client local;
  ASSERT_TRUE(local.Connect(daemon->port()));
  ASSERT_TRUE(local.Send(Resp({"CONFIG", "SET", "requirepass", "s3cret"})));
  EXPECT_EQ(local.ReadLine(), "+OK");
  // With a password set, other hosts may connect (and must AUTH).
  Client authed;
  ASSERT_TRUE(authed.Connect(daemon->port(), *external));
  ASSERT_TRUE(authed.Send(Resp({"PING"})));
  EXPECT_EQ(authed.ReadLine(), "-NOAUTH Authentication required.");
  ASSERT_TRUE(authed.Send(Resp({"AUTH", "s3cret"}) + Resp({"PING"})));
  EXPECT_EQ(authed.ReadLine(), "+OK");
  EXPECT_EQ(authed.ReadLine(), "+PONG");
}

}  // namespace
}  // namespace memento::testing
