// Bus tests: several Bus instances in one process on loopback ports, a fake executor,
// raw sockets playing hostile or silent peers. Every wait is a condition polled until
// a deadline; no sleep is an assertion.
#include "cluster/bus.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cluster/bus_auth.h"
#include "cluster/bus_codec.h"
#include "cluster/reply_record.h"
#include "common/mutex.h"
#include "net/socket_util.h"
#include "tests/util/interfaces.h"

namespace memento::cluster {
namespace {

using namespace std::chrono_literals;

bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

uint16_t PickPort() {
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return 0;
  socklen_t len = sizeof(addr);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

std::string Record(const std::function<void(proto::ReplyBuilder&)>& calls) {
  std::string out;
  RecordingReplyBuilder rec(&out);
  calls(rec);
  return out;
}

// ECHO x -> Bulk(x); SIZE x -> Integer(size of x); anything else -> Status("OK <node>").
class FakeExecutor : public ForwardedExecutor {
 public:
  explicit FakeExecutor(std::string name) : name_(std::move(name)) {}
  void Execute(net::Dialect dialect, std::span<const std::string_view> argv,
               std::string* reply) override {
    ++executed;
    RecordingReplyBuilder b(reply);
    if (argv[0] == "ECHO" && argv.size() == 2) {
      b.Bulk(argv[1]);
    } else if (argv[0] == "SIZE" && argv.size() == 2) {
      b.Integer(static_cast<int64_t>(argv[1].size()));
    } else if (argv[0] == "DIALECT") {
      b.Integer(static_cast<int64_t>(dialect));
    } else {
      b.Status("OK " + name_);
    }
  }
  Status Commit() override {
    ++commits;
    if (fail_commit) return Status::IOError("fsync wal/00000001.wal: disk on fire");
    return Status::OK();
  }
  std::atomic<int> executed{0};
  std::atomic<int> commits{0};
  std::atomic<bool> fail_commit{false};

 private:
  std::string name_;
};

// Collects callback results; counts calls per tag to catch double calls.
class Collector {
 public:
  ForwardCallback Callback(int tag) {
    return [this, tag](Result<std::string> r) {
      MutexLock lock(&mu_);
      ++calls_[tag];
      results_[tag] = r.ok() ? *r : "ERROR: " + r.status().ToString();
      ok_[tag] = r.ok();
      ++total_;
    };
  }
  bool WaitFor(int n, std::chrono::milliseconds timeout = 15s) {
    return WaitUntil([&] { return Total() >= n; }, timeout);
  }
  int Total() {
    MutexLock lock(&mu_);
    return total_;
  }
  std::string Text(int tag) {
    MutexLock lock(&mu_);
    return results_[tag];
  }
  bool Ok(int tag) {
    MutexLock lock(&mu_);
    return ok_[tag];
  }
  int Calls(int tag) {
    MutexLock lock(&mu_);
    return calls_[tag];
  }

 private:
  Mutex mu_;
  std::map<int, int> calls_ MEMENTO_GUARDED_BY(mu_);
  std::map<int, std::string> results_ MEMENTO_GUARDED_BY(mu_);
  std::map<int, bool> ok_ MEMENTO_GUARDED_BY(mu_);
  int total_ MEMENTO_GUARDED_BY(mu_) = 0;
};

BusOptions SmallTimeouts() {
  BusOptions o;
  o.request_timeout_ms = 300;
  o.heartbeat_interval_ms = 50;
  o.link_timeout_ms = 400;
  o.redial_min_ms = 20;
  o.redial_max_ms = 100;
  return o;
}

std::shared_ptr<const SlotMap> MakeMap(int n, std::vector<uint16_t>* bus_ports) {
  std::vector<NodeInfo> nodes;
  bus_ports->clear();
  for (int i = 0; i < n; ++i) {
    NodeInfo node;
    node.name = "n" + std::to_string(i);
    node.host = "127.0.0.1";
    node.port = PickPort();
    node.bus_port = PickPort();
    bus_ports->push_back(node.bus_port);
    nodes.push_back(node);
  }
  Result<SlotMap> map = SlotMap::Build(nodes);
  if (!map.ok()) return nullptr;  // two picks collided: the caller retries
  return std::make_shared<const SlotMap>(std::move(*map));
}

class BusTest : public ::testing::Test {
 protected:
  // Starts n nodes n0..n(n-1) (bus index i = node "ni", the map sorts by name).
  // secrets[i], when given, is node i's cluster secret (else base.secret).
  void StartCluster(int n, BusOptions base = SmallTimeouts(),
                    std::vector<std::string> secrets = {}) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::vector<uint16_t> ports;
      map_ = MakeMap(n, &ports);
      if (map_ == nullptr) continue;
      bus_ports_ = ports;
      base_ = base;
      buses_.clear();
      executors_.clear();
      bool all = true;
      for (int i = 0; i < n && all; ++i) {
        executors_.push_back(std::make_unique<FakeExecutor>("n" + std::to_string(i)));
        BusOptions o = base;
        o.map = map_;
        o.self = "n" + std::to_string(i);
        if (static_cast<size_t>(i) < secrets.size()) o.secret = secrets[static_cast<size_t>(i)];
        Result<std::unique_ptr<Bus>> bus = Bus::Start(o, executors_.back().get());
        if (!bus.ok()) {
          ASSERT_TRUE(bus.status().IsBusy()) << bus.status().ToString();
          all = false;
          break;
        }
        buses_.push_back(std::move(*bus));
      }
      if (all) return;
    }
    FAIL() << "could not find free ports";
  }

  // Restarts node i on the same ports (the port may linger briefly: retry Busy).
  void Restart(int i) {
    BusOptions o = base_;
    o.map = map_;
    o.self = "n" + std::to_string(i);
    ASSERT_TRUE(WaitUntil([&] {
      Result<std::unique_ptr<Bus>> bus = Bus::Start(o, executors_[i].get());
      if (!bus.ok()) return false;
      buses_[i] = std::move(*bus);
      return true;
    }));
  }

  bool AllFormed() {
    for (auto& b : buses_) {
      if (b == nullptr || !b->IsFormed()) return false;
    }
    return true;
  }

  void Forward(int from, int to, std::vector<std::string> args, ForwardCallback done,
               net::Dialect dialect = net::Dialect::kResp) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    buses_[from]->Forward(to, dialect, argv, std::move(done));
  }

  std::shared_ptr<const SlotMap> map_;
  std::vector<uint16_t> bus_ports_;
  BusOptions base_;
  std::vector<std::unique_ptr<FakeExecutor>> executors_;
  std::vector<std::unique_ptr<Bus>> buses_;
};

// A raw client socket to 127.0.0.1:port (blocking).
net::UniqueFd Dial(uint16_t port) {
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return {};
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

// True when the peer closes `fd` (EOF or reset) within the socket's 5 s receive timeout,
// discarding whatever it sends first (a REFUSE).
bool ClosedByPeer(int fd) {
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
  return false;
}

void SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

TEST_F(BusTest, SingleNodeIsFormedAtOnce) {
  StartCluster(1);
  EXPECT_TRUE(WaitUntil([&] { return buses_[0]->IsFormed(); }));
  EXPECT_TRUE(buses_[0]->Stats().peers.empty());
}

TEST_F(BusTest, TwoNodesFormLogAndForwardBothWays) {
  testing::internal::CaptureStderr();
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("Cluster successfully formed"), std::string::npos) << log;

  Collector c;
  Forward(0, 1, {"ECHO", "hello"}, c.Callback(0));
  Forward(1, 0, {"PING"}, c.Callback(1));
  Forward(0, 1, {"DIALECT"}, c.Callback(2), net::Dialect::kText);
  ASSERT_TRUE(c.WaitFor(3));
  EXPECT_EQ(c.Text(0), Record([](proto::ReplyBuilder& b) { b.Bulk("hello"); }));
  EXPECT_EQ(c.Text(1), Record([](proto::ReplyBuilder& b) { b.Status("OK n0"); }));
  EXPECT_EQ(c.Text(2), Record([](proto::ReplyBuilder& b) { b.Integer(0); }));

  BusStats s0 = buses_[0]->Stats();
  ASSERT_EQ(s0.peers.size(), 1u);
  EXPECT_TRUE(s0.formed);
  EXPECT_EQ(s0.peers[0].name, "n1");
  EXPECT_EQ(s0.peers[0].address, "127.0.0.1:" + std::to_string(bus_ports_[1]));
  EXPECT_TRUE(s0.peers[0].link_up);
  EXPECT_FALSE(s0.peers[0].mismatch);
  EXPECT_EQ(s0.peers[0].forwarded, 2u);
  EXPECT_EQ(s0.peers[0].failed, 0u);
  EXPECT_EQ(s0.peers[0].served, 1u);
  EXPECT_GT(s0.peers[0].last_heard_ms, 0);
  EXPECT_TRUE(buses_[0]->LinkUp(1));
  EXPECT_FALSE(buses_[0]->LinkUp(0));  // self
  EXPECT_EQ(buses_[1]->self_index(), 1);
  EXPECT_EQ(buses_[1]->map().nodes().size(), 2u);
}

TEST_F(BusTest, ThreeNodesEachForwardsToEachOther) {
  StartCluster(3);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  Collector c;
  int tag = 0;
  for (int from = 0; from < 3; ++from) {
    for (int to = 0; to < 3; ++to) {
      if (from != to) Forward(from, to, {"PING"}, c.Callback(tag++));
    }
  }
  ASSERT_TRUE(c.WaitFor(6));
  tag = 0;
  for (int from = 0; from < 3; ++from) {
    for (int to = 0; to < 3; ++to) {
      if (from == to) continue;
      const std::string want = "OK n" + std::to_string(to);
      EXPECT_EQ(c.Text(tag++), Record([&](proto::ReplyBuilder& b) { b.Status(want); }));
    }
  }
}

TEST_F(BusTest, ThousandRequestsInFlightAllAnswered) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  BusOptions o = base_;
  Collector c;
  constexpr int kRequests = 1000;
  for (int i = 0; i < kRequests; ++i) {
    Forward(0, 1, {"ECHO", "value-" + std::to_string(i)}, c.Callback(i));
  }
  ASSERT_TRUE(c.WaitFor(kRequests));
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(c.Ok(i)) << c.Text(i);
    const std::string want = "value-" + std::to_string(i);
    ASSERT_EQ(c.Text(i), Record([&](proto::ReplyBuilder& b) { b.Bulk(want); }));
    ASSERT_EQ(c.Calls(i), 1);
  }
  EXPECT_EQ(executors_[1]->executed.load(), kRequests);
  // Batches share a Commit: never more Commits than requests.
  EXPECT_LE(executors_[1]->commits.load(), kRequests);
  EXPECT_GE(executors_[1]->commits.load(), 1);
}

TEST_F(BusTest, EightMegabyteValueForwardedBothWays) {
  BusOptions o = SmallTimeouts();
  // Under a sanitizer copying 8 MB takes a while: the timeouts are not under test here.
  o.request_timeout_ms = 30000;
  o.link_timeout_ms = 10000;
  StartCluster(2, o);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  std::string big(8 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>(i * 31);
  Collector c;
  Forward(0, 1, {"ECHO", big}, c.Callback(0));
  Forward(0, 1, {"SIZE", big}, c.Callback(1));
  ASSERT_TRUE(c.WaitFor(2, 30s));
  ASSERT_TRUE(c.Ok(0)) << c.Text(0).substr(0, 200);
  EXPECT_TRUE(c.Text(0) == Record([&](proto::ReplyBuilder& b) { b.Bulk(big); }));
  EXPECT_EQ(c.Text(1), Record([](proto::ReplyBuilder& b) { b.Integer(8 << 20); }));
}

TEST_F(BusTest, CommitFailureTurnsRepliesIntoErrors) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  executors_[1]->fail_commit = true;
  Collector c;
  Forward(0, 1, {"SET", "k", "v"}, c.Callback(0));
  ASSERT_TRUE(c.WaitFor(1));
  ASSERT_TRUE(c.Ok(0));
  ReplyValue v;
  ASSERT_TRUE(DecodeReply(c.Text(0), &v).ok());
  EXPECT_EQ(v.kind, ReplyValue::Kind::kError);
  EXPECT_EQ(v.text,
            "ERR forwarded request not made durable on node n1: IO error: fsync "
            "wal/00000001.wal: disk on fire");
}

TEST_F(BusTest, InvalidTargetsFailAtOnce) {
  StartCluster(2);
  Collector c;
  Forward(0, 0, {"PING"}, c.Callback(0));
  Forward(0, 7, {"PING"}, c.Callback(1));
  buses_[0]->Forward(1, net::Dialect::kResp, {}, c.Callback(2));
  ASSERT_TRUE(c.WaitFor(3));
  EXPECT_FALSE(c.Ok(0));
  EXPECT_NE(c.Text(0).find("cannot forward to node index 0"), std::string::npos) << c.Text(0);
  EXPECT_FALSE(c.Ok(1));
  EXPECT_FALSE(c.Ok(2));
}

TEST_F(BusTest, PeerStoppedFailsFastThenRestartedLinksAgain) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  testing::internal::CaptureStderr();
  buses_[1]->Stop();
  ASSERT_TRUE(WaitUntil([&] { return !buses_[0]->IsFormed(); }));
  EXPECT_FALSE(buses_[0]->LinkUp(1));
  Collector c;
  const auto start = std::chrono::steady_clock::now();
  Forward(0, 1, {"PING"}, c.Callback(0));
  ASSERT_TRUE(c.WaitFor(1, 5s));
  EXPECT_LE(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_FALSE(c.Ok(0));
  EXPECT_NE(c.Text(0).find("cluster link to n1"), std::string::npos) << c.Text(0);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("Cluster link to n1 (127.0.0.1:" + std::to_string(bus_ports_[1]) + ") lost: "),
            std::string::npos)
      << log;

  buses_[1].reset();
  Restart(1);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  Forward(0, 1, {"ECHO", "again"}, c.Callback(1));
  Forward(1, 0, {"ECHO", "back"}, c.Callback(2));
  ASSERT_TRUE(c.WaitFor(3));
  EXPECT_EQ(c.Text(1), Record([](proto::ReplyBuilder& b) { b.Bulk("again"); }));
  EXPECT_EQ(c.Text(2), Record([](proto::ReplyBuilder& b) { b.Bulk("back"); }));
  EXPECT_GE(buses_[0]->Stats().peers[0].failed, 1u);
}

TEST_F(BusTest, DigestMismatchNeverFormsAndBothSidesSayWhy) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::vector<uint16_t> ports;
    std::shared_ptr<const SlotMap> map_a = MakeMap(2, &ports);
    if (map_a == nullptr) continue;
    // The same nodes and bus ports, but node n1's client port differs.
    std::vector<NodeInfo> nodes = map_a->nodes();
    for (auto& n : nodes) n.ranges.clear();
    nodes[1].port = static_cast<uint16_t>(nodes[1].port == 65000 ? 64999 : nodes[1].port + 1);
    Result<SlotMap> b = SlotMap::Build(nodes);
    if (!b.ok()) continue;
    auto map_b = std::make_shared<const SlotMap>(std::move(*b));
    ASSERT_NE(map_a->Digest(), map_b->Digest());

    testing::internal::CaptureStderr();
    FakeExecutor e0("n0"), e1("n1");
    BusOptions o0 = SmallTimeouts();
    o0.map = map_a;
    o0.self = "n0";
    BusOptions o1 = SmallTimeouts();
    o1.map = map_b;
    o1.self = "n1";
    auto bus0 = Bus::Start(o0, &e0);
    if (!bus0.ok()) {
      (void)testing::internal::GetCapturedStderr();
      continue;
    }
    auto bus1 = Bus::Start(o1, &e1);
    if (!bus1.ok()) {
      (void)testing::internal::GetCapturedStderr();
      continue;
    }
    ASSERT_TRUE(WaitUntil([&] {
      return (*bus0)->Stats().peers[0].mismatch && (*bus1)->Stats().peers[0].mismatch;
    }));
    // Several redials later it still has not formed.
    ASSERT_TRUE(WaitUntil([&] { return e0.executed + e1.executed > 0; }, 1s) == false);
    EXPECT_FALSE((*bus0)->IsFormed());
    EXPECT_FALSE((*bus1)->IsFormed());
    Collector c;
    std::vector<std::string_view> argv = {"PING"};
    (*bus0)->Forward(1, net::Dialect::kResp, argv, c.Callback(0));
    ASSERT_TRUE(c.WaitFor(1));
    EXPECT_FALSE(c.Ok(0));
    (*bus0)->Stop();
    (*bus1)->Stop();
    const std::string log = testing::internal::GetCapturedStderr();
    // Each side names both nodes and both digests.
    const std::string a = map_a->Digest(), bd = map_b->Digest();
    EXPECT_NE(log.find("node n1 refuses node n0"), std::string::npos) << log;
    EXPECT_NE(log.find("node n0 refuses node n1"), std::string::npos) << log;
    EXPECT_NE(log.find("digest of n0: " + a), std::string::npos) << log;
    EXPECT_NE(log.find("digest of n1: " + bd), std::string::npos) << log;
    EXPECT_NE(log.find("refused to link with node n0"), std::string::npos) << log;
    return;
  }
  FAIL() << "could not find free ports";
}

TEST_F(BusTest, HostileBytesOnTheBusPortCloseOnlyThatConnection) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  testing::internal::CaptureStderr();
  {
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    SendAll(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    // HELLO announcing 4 GiB: closed at the header, not after reading 4 GiB.
    SendAll(fd.get(), std::string("\xff\xff\xff\xf0\x01\0\0\0\0\0\0\0\0", 13));
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    Handshake h;
    h.from = "n1";
    h.to = "n0";
    h.digest = map_->Digest();
    std::string payload = EncodeHandshake(h);
    payload[0] = 'X';  // wrong magic
    std::string frame;
    AppendFrame(&frame, FrameType::kHello, 0, payload);
    SendAll(fd.get(), frame);
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    // A REQUEST before any HELLO.
    const std::vector<std::string_view> argv = {"PING"};
    SendAll(fd.get(), EncodeRequestFrame(1, net::Dialect::kResp, argv));
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    // Half a frame, then the peer goes away.
    SendAll(fd.get(), std::string("\0\0\0\x10\x01\0", 6));
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("not a memento cluster bus peer"), std::string::npos) << log;
  EXPECT_NE(log.find("larger than max_frame_bytes"), std::string::npos) << log;
  // The cluster still works, both ways.
  EXPECT_TRUE(AllFormed());
  Collector c;
  Forward(1, 0, {"ECHO", "still"}, c.Callback(0));
  Forward(0, 1, {"ECHO", "here"}, c.Callback(1));
  ASSERT_TRUE(c.WaitFor(2));
  EXPECT_EQ(c.Text(0), Record([](proto::ReplyBuilder& b) { b.Bulk("still"); }));
  EXPECT_EQ(c.Text(1), Record([](proto::ReplyBuilder& b) { b.Bulk("here"); }));
}

// Reads one whole frame from the blocking socket `fd` (bytes left over stay in *in);
// false on EOF, timeout or a damaged frame.
bool ReadFrame(int fd, std::string* in, FrameType* type, std::string* payload) {
  char buf[4096];
  while (true) {
    Frame f;
    size_t consumed = 0;
    if (!DecodeFrame(*in, 1 << 20, &f, &consumed).ok()) return false;
    if (consumed > 0) {
      *type = f.type;
      payload->assign(f.payload);
      in->erase(0, consumed);
      return true;
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    in->append(buf, static_cast<size_t>(n));
  }
}

std::string Proof(std::string_view secret, BusRole role, std::string_view dialler_nonce,
                  std::string_view acceptor_nonce, std::string_view dialler,
                  std::string_view acceptor) {
  std::string proof;
  EXPECT_TRUE(
      BusProof(secret, role, dialler_nonce, acceptor_nonce, dialler, acceptor, &proof).ok());
  return proof;
}

std::string HandshakeFrame(FrameType type, const Handshake& h) {
  std::string out;
  AppendFrame(&out, type, 0, EncodeHandshake(h));
  return out;
}

// A peer on n1's bus port that completes the handshake (if `handshake`) and then
// reads everything and answers nothing. With `reflect`, its HELLO_ACK carries the
// dialler's own proof back instead of an acceptor's proof (a reflection attack).
class SilentPeer {
 public:
  SilentPeer(uint16_t port, std::string digest, bool handshake, bool reflect = false)
      : digest_(std::move(digest)), handshake_(handshake), reflect_(reflect) {
    listen_.Reset(::socket(AF_INET, SOCK_STREAM, 0));
    int one = 1;
    ::setsockopt(listen_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    ok_ = ::bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
          ::listen(listen_.get(), 16) == 0;
    if (ok_) thread_ = std::thread([this] { Serve(); });
  }
  ~SilentPeer() {
    stop_ = true;
    ::shutdown(listen_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return ok_; }
  int accepted() const { return accepted_; }

 private:
  void Serve() {
    std::vector<net::UniqueFd> conns;
    while (!stop_) {
      int fd = ::accept(listen_.get(), nullptr, nullptr);
      if (fd < 0) return;
      ++accepted_;
      conns.emplace_back(fd);
      if (!handshake_) continue;
      timeval tv{};
      tv.tv_sec = 2;
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::string in, payload;
      FrameType type;
      Handshake hello, auth;
      if (!ReadFrame(fd, &in, &type, &payload) || !DecodeHandshake(payload, &hello).ok()) {
        continue;
      }
      const std::string nonce(kBusNonceSize, 'A');
      Handshake challenge;
      challenge.from = "n1";
      challenge.to = "n0";
      challenge.digest = digest_;
      challenge.nonce = nonce;
      SendAll(fd, HandshakeFrame(FrameType::kChallenge, challenge));
      if (!ReadFrame(fd, &in, &type, &payload) || !DecodeHandshake(payload, &auth).ok()) {
        continue;
      }
      Handshake ack;
      ack.from = "n1";
      ack.to = "n0";
      ack.digest = digest_;
      ack.proof = reflect_ ? auth.proof
                           : Proof("", BusRole::kAcceptor, hello.nonce, nonce, "n0", "n1");
      SendAll(fd, HandshakeFrame(FrameType::kHelloAck, ack));
      // From now on the kernel buffers whatever arrives; nobody reads it.
    }
  }

  net::UniqueFd listen_;
  std::string digest_;
  bool handshake_;
  bool reflect_;
  bool ok_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// Starts n0 only, with n1's bus port taken by a SilentPeer.
class SilentPeerTest : public BusTest {
 protected:
  std::unique_ptr<SilentPeer> StartWithSilentPeer(bool handshake, BusOptions o,
                                                  bool reflect = false) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::vector<uint16_t> ports;
      map_ = MakeMap(2, &ports);
      if (map_ == nullptr) continue;
      bus_ports_ = ports;
      auto peer = std::make_unique<SilentPeer>(ports[1], map_->Digest(), handshake, reflect);
      if (!peer->ok()) continue;
      executors_.push_back(std::make_unique<FakeExecutor>("n0"));
      o.map = map_;
      o.self = "n0";
      auto bus = Bus::Start(o, executors_.back().get());
      if (!bus.ok()) continue;
      buses_.push_back(std::move(*bus));
      return peer;
    }
    return nullptr;
  }
};

TEST_F(SilentPeerTest, PeerThatNeverAnswersTheHandshakeNeverLinks) {
  auto peer = StartWithSilentPeer(/*handshake=*/false, SmallTimeouts());
  ASSERT_NE(peer, nullptr);
  // It keeps redialling after each handshake timeout.
  ASSERT_TRUE(WaitUntil([&] { return peer->accepted() >= 2; }));
  EXPECT_FALSE(buses_[0]->IsFormed());
  Collector c;
  Forward(0, 1, {"PING"}, c.Callback(0));
  ASSERT_TRUE(c.WaitFor(1, 5s));
  EXPECT_FALSE(c.Ok(0));
  EXPECT_NE(c.Text(0).find("is down"), std::string::npos) << c.Text(0);
}

TEST_F(SilentPeerTest, RequestsToAPeerThatNeverRepliesTimeOut) {
  BusOptions o = SmallTimeouts();
  o.link_timeout_ms = 5000;  // the request timeout (300 ms) must fire first
  auto peer = StartWithSilentPeer(/*handshake=*/true, o);
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return buses_[0]->IsFormed(); }));
  Collector c;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) Forward(0, 1, {"ECHO", "x"}, c.Callback(i));
  ASSERT_TRUE(c.WaitFor(10, 5s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 250ms);  // not before the timeout (allowing the clock's granularity)
  for (int i = 0; i < 10; ++i) {
    EXPECT_FALSE(c.Ok(i));
    EXPECT_NE(c.Text(i).find("timed out after 300 ms"), std::string::npos) << c.Text(i);
    EXPECT_EQ(c.Calls(i), 1);
  }
  EXPECT_EQ(buses_[0]->Stats().peers[0].failed, 10u);
}

TEST_F(SilentPeerTest, LinkWithoutHeartbeatAnswersGoesDown) {
  auto peer = StartWithSilentPeer(/*handshake=*/true, SmallTimeouts());
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return buses_[0]->IsFormed(); }));
  // No PONG ever comes back: after link_timeout_ms the link is declared down.
  ASSERT_TRUE(WaitUntil([&] { return peer->accepted() >= 2; }));
}

TEST_F(SilentPeerTest, StopWithRequestsInFlightCallsEveryCallbackOnce) {
  BusOptions o = SmallTimeouts();
  o.request_timeout_ms = 60000;
  o.link_timeout_ms = 60000;
  auto peer = StartWithSilentPeer(/*handshake=*/true, o);
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return buses_[0]->IsFormed(); }));
  Collector c;
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i) Forward(0, 1, {"ECHO", "x"}, c.Callback(i));
  ASSERT_TRUE(WaitUntil([&] { return buses_[0]->Stats().peers[0].forwarded == kRequests; }));
  // More queued while stopping, and after.
  for (int i = kRequests; i < kRequests + 50; ++i) Forward(0, 1, {"PING"}, c.Callback(i));
  buses_[0]->Stop();
  EXPECT_EQ(c.Total(), kRequests + 50);  // all called before Stop returned
  Forward(0, 1, {"PING"}, c.Callback(kRequests + 50));
  EXPECT_EQ(c.Total(), kRequests + 51);  // after Stop: at once, on this thread
  for (int i = 0; i <= kRequests + 50; ++i) {
    EXPECT_EQ(c.Calls(i), 1) << i;
    EXPECT_FALSE(c.Ok(i));
  }
  EXPECT_NE(c.Text(0).find("stopped"), std::string::npos) << c.Text(0);
  buses_[0]->Stop();  // idempotent
}

// ----------------------------------------------------------------------------------
// The cluster secret (protocol version 2)
// ----------------------------------------------------------------------------------

TEST_F(BusTest, SameSecretLinksAndForwards) {
  BusOptions o = SmallTimeouts();
  o.secret = "s3cret-shared-by-all";
  StartCluster(3, o);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  Collector c;
  Forward(0, 2, {"ECHO", "a"}, c.Callback(0));
  Forward(2, 1, {"ECHO", "b"}, c.Callback(1));
  ASSERT_TRUE(c.WaitFor(2));
  EXPECT_EQ(c.Text(0), Record([](proto::ReplyBuilder& b) { b.Bulk("a"); }));
  EXPECT_EQ(c.Text(1), Record([](proto::ReplyBuilder& b) { b.Bulk("b"); }));
  EXPECT_FALSE(buses_[0]->Stats().peers[0].auth_failed);
}

TEST_F(BusTest, DifferentSecretsNeverLinkAndBothSidesSayWhy) {
  testing::internal::CaptureStderr();
  StartCluster(2, SmallTimeouts(), {"secret-of-n0", "secret-of-n1"});
  ASSERT_TRUE(WaitUntil([&] {
    return buses_[0]->Stats().peers[0].auth_failed && buses_[1]->Stats().peers[0].auth_failed;
  }));
  // Several redials later it still has not formed, and nothing was executed.
  EXPECT_FALSE(WaitUntil([&] { return buses_[0]->IsFormed() || buses_[1]->IsFormed(); }, 1s));
  Collector c;
  Forward(0, 1, {"ECHO", "x"}, c.Callback(0));
  ASSERT_TRUE(c.WaitFor(1));
  EXPECT_FALSE(c.Ok(0));
  EXPECT_NE(c.Text(0).find("authentication failed"), std::string::npos) << c.Text(0);
  EXPECT_EQ(executors_[0]->executed + executors_[1]->executed, 0);
  EXPECT_FALSE(buses_[0]->Stats().peers[0].mismatch);
  buses_[0]->Stop();
  buses_[1]->Stop();
  const std::string log = testing::internal::GetCapturedStderr();
  // Each side names the peer and the reason, once per state change.
  EXPECT_NE(log.find("node n1 refuses node n0 (127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("node n0 refuses node n1 (127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("refused to link with node n0: authentication failed"), std::string::npos)
      << log;
  EXPECT_NE(log.find("same cluster secret"), std::string::npos) << log;
  // The secrets themselves never appear.
  EXPECT_EQ(log.find("secret-of-n"), std::string::npos) << log;
}

TEST_F(BusTest, SecretOnOneNodeOnlyNeverLinks) {
  StartCluster(2, SmallTimeouts(), {"s3cret", ""});
  ASSERT_TRUE(WaitUntil([&] {
    return buses_[0]->Stats().peers[0].auth_failed && buses_[1]->Stats().peers[0].auth_failed;
  }));
  EXPECT_FALSE(buses_[0]->IsFormed());
  EXPECT_FALSE(buses_[1]->IsFormed());
}

// Plays node n1 dialling node n0 (whose real n1 is stopped): HELLO with `nonce`, then
// reads the CHALLENGE. Returns the acceptor's nonce ("" if none came).
std::string HelloAndChallenge(int fd, std::string* in, const std::string& digest,
                              const std::string& nonce) {
  Handshake hello;
  hello.from = "n1";
  hello.to = "n0";
  hello.digest = digest;
  hello.nonce = nonce;
  SendAll(fd, HandshakeFrame(FrameType::kHello, hello));
  FrameType type;
  std::string payload;
  Handshake challenge;
  if (!ReadFrame(fd, in, &type, &payload) || type != FrameType::kChallenge ||
      !DecodeHandshake(payload, &challenge).ok()) {
    return "";
  }
  return challenge.nonce;
}

void SendAuth(int fd, const std::string& digest, const std::string& proof) {
  Handshake auth;
  auth.from = "n1";
  auth.to = "n0";
  auth.digest = digest;
  auth.proof = proof;
  SendAll(fd, HandshakeFrame(FrameType::kAuth, auth));
}

TEST_F(BusTest, ReplayedProofIsRefused) {
  const std::string secret = "s3cret";
  BusOptions o = SmallTimeouts();
  o.secret = secret;
  StartCluster(2, o);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  buses_[1]->Stop();
  const std::string digest = map_->Digest();
  const std::string nonce(kBusNonceSize, 'N');
  std::string recorded;
  {
    // A genuine handshake, recorded by an eavesdropper.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    std::string in;
    const std::string theirs = HelloAndChallenge(fd.get(), &in, digest, nonce);
    ASSERT_EQ(theirs.size(), kBusNonceSize);
    recorded = Proof(secret, BusRole::kDialler, nonce, theirs, "n1", "n0");
    SendAuth(fd.get(), digest, recorded);
    FrameType type;
    std::string payload;
    ASSERT_TRUE(ReadFrame(fd.get(), &in, &type, &payload));
    ASSERT_EQ(type, FrameType::kHelloAck);
    Handshake ack;
    ASSERT_TRUE(DecodeHandshake(payload, &ack).ok());
    // n0's own proof checks out for the dialler.
    EXPECT_EQ(ack.proof, Proof(secret, BusRole::kAcceptor, nonce, theirs, "n1", "n0"));
  }
  testing::internal::CaptureStderr();
  {
    // The same HELLO and the recorded AUTH, replayed: n0's nonce is new, so is the
    // proof it expects.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    std::string in;
    const std::string theirs = HelloAndChallenge(fd.get(), &in, digest, nonce);
    ASSERT_EQ(theirs.size(), kBusNonceSize);
    SendAuth(fd.get(), digest, recorded);
    FrameType type;
    std::string payload;
    ASSERT_TRUE(ReadFrame(fd.get(), &in, &type, &payload));
    EXPECT_EQ(type, FrameType::kRefuse);
    Handshake refuse;
    ASSERT_TRUE(DecodeHandshake(payload, &refuse).ok());
    EXPECT_EQ(refuse.reason.rfind("authentication failed", 0), 0u) << refuse.reason;
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    // n0's own CHALLENGE nonce is no proof either (reflecting what n0 sent).
    net::UniqueFd fd = Dial(bus_ports_[0]);
    ASSERT_TRUE(fd.valid());
    std::string in;
    const std::string theirs = HelloAndChallenge(fd.get(), &in, digest, nonce);
    ASSERT_EQ(theirs.size(), kBusNonceSize);
    SendAuth(fd.get(), digest, Proof(secret, BusRole::kAcceptor, nonce, theirs, "n1", "n0"));
    FrameType type;
    std::string payload;
    ASSERT_TRUE(ReadFrame(fd.get(), &in, &type, &payload));
    EXPECT_EQ(type, FrameType::kRefuse);
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("node n0 refuses node n1"), std::string::npos) << log;
  // A stranger's bad AUTH in n1's name does not mark n1 (only n0's own dial can).
  EXPECT_FALSE(buses_[0]->Stats().peers[0].auth_failed);
  EXPECT_EQ(executors_[0]->executed, 0);
}

TEST_F(BusTest, GarbageDuringTheHandshakeClosesTheConnection) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  const std::string digest = map_->Digest();
  const std::string nonce(kBusNonceSize, 'N');
  testing::internal::CaptureStderr();
  {
    // A PING where AUTH is due.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    std::string in;
    ASSERT_EQ(HelloAndChallenge(fd.get(), &in, digest, nonce).size(), kBusNonceSize);
    std::string ping;
    AppendFrame(&ping, FrameType::kPing, 1, "");
    SendAll(fd.get(), ping);
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    // An AUTH frame whose payload is noise.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    std::string in;
    ASSERT_EQ(HelloAndChallenge(fd.get(), &in, digest, nonce).size(), kBusNonceSize);
    std::string frame;
    AppendFrame(&frame, FrameType::kAuth, 0, "\x13\x37 not a handshake");
    SendAll(fd.get(), frame);
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    // Random bytes after the HELLO.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    std::string in;
    ASSERT_EQ(HelloAndChallenge(fd.get(), &in, digest, nonce).size(), kBusNonceSize);
    SendAll(fd.get(), std::string("\xde\xad\xbe\xef\xff\xff\xff\xff\xff\xff\xff\xff\xff", 13));
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  {
    // A HELLO whose nonce is too short: no CHALLENGE, closed.
    net::UniqueFd fd = Dial(bus_ports_[0]);
    std::string in;
    EXPECT_EQ(HelloAndChallenge(fd.get(), &in, digest, "short"), "");
    EXPECT_TRUE(ClosedByPeer(fd.get()));
  }
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("frame type 6 before AUTH"), std::string::npos) << log;
  EXPECT_NE(log.find("HELLO nonce of 5 bytes"), std::string::npos) << log;
  // The real link was never disturbed.
  EXPECT_TRUE(AllFormed());
  Collector c;
  Forward(1, 0, {"ECHO", "ok"}, c.Callback(0));
  ASSERT_TRUE(c.WaitFor(1));
  EXPECT_TRUE(c.Ok(0));
}

TEST_F(BusTest, OlderProtocolVersionIsRefusedWithAClearLine) {
  StartCluster(2);
  ASSERT_TRUE(WaitUntil([&] { return AllFormed(); }));
  testing::internal::CaptureStderr();
  net::UniqueFd fd = Dial(bus_ports_[0]);
  Handshake hello;
  hello.version = 1;
  hello.from = "n1";
  hello.to = "n0";
  hello.digest = map_->Digest();
  SendAll(fd.get(), HandshakeFrame(FrameType::kHello, hello));
  std::string in, payload;
  FrameType type;
  ASSERT_TRUE(ReadFrame(fd.get(), &in, &type, &payload));
  EXPECT_EQ(type, FrameType::kRefuse);
  EXPECT_TRUE(ClosedByPeer(fd.get()));
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("speaking cluster bus protocol version 1: this node speaks version 2"),
            std::string::npos)
      << log;
}

TEST_F(SilentPeerTest, ReflectedProofIsRefused) {
  testing::internal::CaptureStderr();
  auto peer = StartWithSilentPeer(/*handshake=*/true, SmallTimeouts(), /*reflect=*/true);
  ASSERT_NE(peer, nullptr);
  ASSERT_TRUE(WaitUntil([&] { return buses_[0]->Stats().peers[0].auth_failed; }));
  EXPECT_FALSE(buses_[0]->IsFormed());
  EXPECT_FALSE(buses_[0]->LinkUp(1));
  buses_[0]->Stop();
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("node n0 refuses node n1"), std::string::npos) << log;
  EXPECT_NE(log.find("could not prove it holds the same cluster secret"), std::string::npos)
      << log;
}

using testing_util::NonLoopbackAddress;

// Connects to 127.0.0.1:port from the local address `source` (so the bus sees a peer
// that is not on loopback), sends a HELLO and says whether a CHALLENGE came back.
bool ChallengedFrom(in_addr_t source, uint16_t port, const std::string& digest) {
  net::UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = source;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ADD_FAILURE() << "cannot connect from the external address: " << std::strerror(errno);
    return false;
  }
  timeval tv{};
  tv.tv_sec = 5;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string in;
  return HelloAndChallenge(fd.get(), &in, digest, std::string(kBusNonceSize, 'N')).size() ==
         kBusNonceSize;
}

TEST_F(BusTest, ProtectedModeWithoutASecretRefusesOtherHosts) {
  std::optional<in_addr_t> external = NonLoopbackAddress();
  if (!external) GTEST_SKIP() << "no non-loopback IPv4 interface";
  for (const bool with_secret : {false, true}) {
    std::vector<NodeInfo> nodes(2);
    for (int i = 0; i < 2; ++i) {
      nodes[i].name = "n" + std::to_string(i);
      nodes[i].host = "0.0.0.0";  // reachable from other hosts
      nodes[i].port = PickPort();
      nodes[i].bus_port = PickPort();
    }
    Result<SlotMap> map = SlotMap::Build(nodes);
    ASSERT_TRUE(map.ok()) << map.status().ToString();
    auto shared = std::make_shared<const SlotMap>(std::move(*map));
    FakeExecutor e("n0");
    BusOptions o = SmallTimeouts();
    o.map = shared;
    o.self = "n0";
    if (with_secret) o.secret = "s3cret";
    testing::internal::CaptureStderr();
    auto bus = Bus::Start(o, &e);
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    const bool challenged = ChallengedFrom(*external, nodes[0].bus_port, shared->Digest());
    // A loopback peer is always let in.
    net::UniqueFd local = Dial(nodes[0].bus_port);
    std::string in;
    const bool local_challenged =
        HelloAndChallenge(local.get(), &in, shared->Digest(), std::string(kBusNonceSize, 'N'))
            .size() == kBusNonceSize;
    (*bus)->Stop();
    const std::string log = testing::internal::GetCapturedStderr();
    EXPECT_EQ(challenged, with_secret);
    EXPECT_TRUE(local_challenged);
    if (!with_secret) {
      EXPECT_NE(log.find("protected mode: closing connection from"), std::string::npos) << log;
    }
  }
}

TEST_F(BusTest, StartFailsWhenTheBusPortIsTaken) {
  StartCluster(1);
  BusOptions o = base_;
  o.map = map_;
  o.self = "n0";
  FakeExecutor e("n0");
  auto second = Bus::Start(o, &e);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
  o.self = "nobody";
  auto third = Bus::Start(o, &e);
  ASSERT_FALSE(third.ok());
  EXPECT_TRUE(third.status().IsInvalidArgument());
}

}  // namespace
}  // namespace memento::cluster
