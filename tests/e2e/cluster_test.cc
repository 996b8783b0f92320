// End-to-end tests of cluster mode (docs/cluster.md): three real `memento -c` nodes on
// free loopback ports, talked to over TCP with both protocols and with redis-cli.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/slot.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/daemon_process.h"

namespace memento::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

// `count` client ports whose bus ports (port + 100) are free too. The nodes need
// fixed ports (every node's file names every other), so they are picked here.
std::vector<uint16_t> PickPorts(int count) {
  std::vector<uint16_t> ports;
  while (static_cast<int>(ports.size()) < count) {
    const uint16_t port = PickFreePort(/*with_bus_port=*/true);
    bool clash = false;
    for (uint16_t p : ports) clash |= p + 100 == port || port + 100 == p;
    if (!clash) ports.push_back(port);
  }
  return ports;
}

// The slot owner of `key` among `n` nodes with the equal split (node i of n).
int OwnerOf(const std::string& key, int n) {
  const uint32_t per = cluster::kSlotCount / static_cast<uint32_t>(n);
  const uint32_t slot = cluster::KeySlot(key);
  return std::min(static_cast<int>(slot / per), n - 1);
}

// A key that node `owner` of `n` owns, made from `base`.
std::string KeyOn(int owner, int n, const std::string& base) {
  for (int i = 0;; ++i) {
    std::string key = base + ":" + std::to_string(i);
    if (OwnerOf(key, n) == owner) return key;
  }
}

class TestCluster {
 public:
  explicit TestCluster(int nodes) : ports_(PickPorts(nodes)), nodes_(nodes) {
    for (int i = 0; i < nodes; ++i) {
      WriteConfig(i, dir_.path() + "/node" + std::to_string(i) + ".toml", ports_);
    }
  }

  // The config file of node i listing `ports` as the cluster's nodes (and, if not
  // empty, `secret` as its cluster.secret).
  void WriteConfig(int i, const std::string& path, const std::vector<uint16_t>& ports,
                   const std::string& secret = "") {
    std::ofstream out(path);
    out << "[cluster]\nenabled = true\nname = \"node" << i << "\"\nrequest_timeout_ms = 1500\n";
    if (!secret.empty()) out << "secret = \"" << secret << "\"\n";
    for (size_t n = 0; n < ports.size(); ++n) {
      out << "[[cluster.nodes]]\nname = \"node" << n << "\"\nhost = \"127.0.0.1\"\nport = "
          << ports[n] << "\n";
    }
  }
  std::string ConfigPath(int i) const { return dir_.path() + "/node" + std::to_string(i) + ".toml"; }
  std::string DataDir(int i) const { return dir_.path() + "/data" + std::to_string(i); }

  bool Start(int i, const std::string& config = "") {
    daemons_[i] = std::make_unique<DaemonProcess>();
    return daemons_[i]->Start({"-f", config.empty() ? ConfigPath(i) : config, "--data-dir",
                               DataDir(i), "--threads", "1", "--fsync", "always"});
  }
  bool StartAll() {
    for (int i = 0; i < nodes_; ++i) {
      if (!Start(i)) return false;
    }
    for (int i = 0; i < nodes_; ++i) {
      if (!daemons_[i]->WaitForLog("Cluster successfully formed", std::chrono::seconds(15))) {
        return false;
      }
    }
    return true;
  }
  void Kill(int i) {
    daemons_[i]->Signal(SIGKILL);
    daemons_[i]->Wait();
  }

  DaemonProcess& node(int i) { return *daemons_[i]; }
  uint16_t port(int i) const { return ports_[static_cast<size_t>(i)]; }
  Client Connect(int i) {
    Client c;
    EXPECT_TRUE(c.Connect(port(i)));
    return c;
  }

 private:
  TempDir dir_;
  std::vector<uint16_t> ports_;
  int nodes_;
  std::unique_ptr<DaemonProcess> daemons_[8];
};

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<TestCluster>(3);
    ASSERT_TRUE(cluster_->StartAll()) << cluster_->node(0).Log();
  }
  std::unique_ptr<TestCluster> cluster_;
};

TEST(ClusterSlotTest, KnownSlotsOfTheOriginal) {
  EXPECT_EQ(cluster::KeySlot("a"), 1100u);
  EXPECT_EQ(cluster::KeySlot("b"), 83u);
  EXPECT_EQ(cluster::KeySlot("foo"), 3088u);
  EXPECT_EQ(cluster::KeySlot("bar"), 7169u);
  EXPECT_EQ(cluster::KeySlot(""), 1718u);
}

TEST_F(ClusterTest, KeysWrittenThroughOneNodeAreReadThroughEveryOther) {
  Client writer = cluster_->Connect(0);
  std::set<int> owners;
  for (int k = 0; k < 200; ++k) {
    const std::string key = "key" + std::to_string(k);
    owners.insert(OwnerOf(key, 3));
    ASSERT_EQ(RespCall(writer, {"SET", key, "value" + std::to_string(k)}), "+OK");
  }
  EXPECT_EQ(owners.size(), 3u);  // the keys really are spread
  for (int reader_node = 0; reader_node < 3; ++reader_node) {
    Client resp = cluster_->Connect(reader_node);
    Client text = cluster_->Connect(reader_node);
    for (int k = 0; k < 200; ++k) {
      const std::string key = "key" + std::to_string(k);
      const std::string value = "value" + std::to_string(k);
      ASSERT_EQ(RespCall(resp, {"GET", key}), "$" + value) << key << " via node" << reader_node;
      ASSERT_EQ(text.Call("GET " + key), value) << key << " via node" << reader_node;
    }
  }
}

TEST_F(ClusterTest, ForwardedRepliesAreRelayedUnchangedInBothProtocols) {
  const std::string remote = KeyOn(2, 3, "r");
  Client text = cluster_->Connect(0);
  EXPECT_EQ(text.Call("SET " + remote + " 10"), "OK");
  EXPECT_EQ(text.Call("INC " + remote + " 5"), "OK");  // the original's tokens
  EXPECT_EQ(text.Call("APPEND " + remote + " x"), "OK");
  EXPECT_EQ(text.Call("GET " + remote), "15x");
  EXPECT_EQ(text.Call("INC " + remote), "(error) ERR value is not an integer or out of range");
  EXPECT_EQ(text.Call("GET " + KeyOn(1, 3, "missing")), "(null)");
  // GETP's four lines come back whole.
  EXPECT_EQ(text.Call("GETP " + remote), "key: " + remote);
  EXPECT_EQ(text.ReadLine(), "value: 15x");
  EXPECT_THAT(text.ReadLine().value_or(""), StartsWith("creation_time: "));
  EXPECT_EQ(text.ReadLine(), "expire_time: -1");
  Client resp = cluster_->Connect(1);
  EXPECT_EQ(RespCall(resp, {"GET", remote}), "$15x");
  EXPECT_EQ(RespCall(resp, {"INCR", remote}),
            "-ERR value is not an integer or out of range");
  EXPECT_EQ(RespCall(resp, {"EXPIRE", remote, "100"}), ":1");
  const std::string ttl = RespCall(resp, {"TTL", remote});
  EXPECT_THAT(ttl, StartsWith(":"));
  EXPECT_GT(std::stol(ttl.substr(1)), 90);
  // Binary values survive the bus.
  const std::string binary("a\0b\r\nc", 6);
  EXPECT_EQ(RespCall(resp, {"SET", remote, binary}), "+OK");
  EXPECT_EQ(RespCall(resp, {"GET", remote}), "$" + binary);
  // Pipelined requests mixing local and forwarded keys keep their order.
  const std::string local = KeyOn(1, 3, "l");
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += Resp({"SET", i % 2 ? local : remote, std::to_string(i)});
    batch += Resp({"GET", i % 2 ? local : remote});
  }
  ASSERT_TRUE(resp.Send(batch));
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(ReadResp(resp), "+OK");
    ASSERT_EQ(ReadResp(resp), "$" + std::to_string(i));
  }
}

TEST_F(ClusterTest, MultiKeyCommandsAreSplitByOwnerAndMerged) {
  std::vector<std::string> keys;
  for (int owner = 0; owner < 3; ++owner) {
    for (int i = 0; i < 3; ++i) keys.push_back(KeyOn(owner, 3, "m" + std::to_string(i)));
  }
  std::vector<std::string> mset{"MSET"};
  for (const std::string& k : keys) {
    mset.push_back(k);
    mset.push_back("v-" + k);
  }
  Client c = cluster_->Connect(1);
  ASSERT_EQ(RespCall(c, mset), "+OK");
  // MGET in request order, a missing key in the middle.
  std::vector<std::string> mget{"MGET"};
  std::string want = "[";
  for (size_t i = 0; i < keys.size(); ++i) {
    mget.push_back(keys[i]);
    want += (i ? "," : "") + std::string("$v-") + keys[i];
    if (i == 4) {
      mget.push_back("never-set");
      want += ",$nil";
    }
  }
  want += "]";
  Client other = cluster_->Connect(2);
  EXPECT_EQ(RespCall(other, mget), want);
  EXPECT_EQ(RespCall(other, {"EXISTS", keys[0], keys[4], keys[8], "nope", keys[0]}), ":4");
  EXPECT_EQ(RespCall(other, {"DEL", keys[0], keys[4], keys[8], "nope"}), ":3");
  EXPECT_EQ(RespCall(other, {"EXISTS", keys[0], keys[4], keys[8]}), ":0");
  // The text protocol's DEL keeps the original tokens.
  Client text = cluster_->Connect(0);
  EXPECT_EQ(text.Call("DEL " + keys[1] + " " + keys[5]), "OK");
  EXPECT_EQ(text.Call("DEL " + keys[1] + " " + keys[5]), "(null)");
  // A malformed split request is refused whole, as without a cluster.
  EXPECT_EQ(RespCall(c, {"MSET", keys[0], "1", keys[4]}),
            "-ERR wrong number of arguments for 'mset' command");
  EXPECT_EQ(RespCall(c, {"EXISTS", keys[0]}), ":0");
  // Commands that must be atomic over their keys refuse keys on several nodes ...
  EXPECT_THAT(RespCall(c, {"RENAME", keys[2], keys[6]}), StartsWith("-CROSSSLOT"));
  // ... and work when a hash tag keeps them together.
  EXPECT_EQ(RespCall(c, {"SET", "{user1}.name", "ann"}), "+OK");
  EXPECT_EQ(RespCall(c, {"RENAME", "{user1}.name", "{user1}.alias"}), "+OK");
  EXPECT_EQ(RespCall(other, {"GET", "{user1}.alias"}), "$ann");
  EXPECT_EQ(RespCall(c, {"MSETNX", "{t}a", "1", "{t}b", "2"}), ":1");
}

TEST_F(ClusterTest, GlobalCommandsReachEveryNode) {
  Client c = cluster_->Connect(0);
  std::vector<std::string> keys;
  for (int k = 0; k < 60; ++k) {
    keys.push_back("g" + std::to_string(k));
    ASSERT_EQ(RespCall(c, {"SET", keys.back(), "x"}), "+OK");
  }
  Client c2 = cluster_->Connect(2);
  EXPECT_EQ(RespCall(c2, {"DBSIZE"}), ":60");
  Client text = cluster_->Connect(1);
  EXPECT_EQ(text.Call("COUNT"), "60");
  std::sort(keys.begin(), keys.end());
  std::optional<std::vector<std::string>> listed = text.CallBlock("KEYS g");
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, keys);
  std::string want = "[";
  for (size_t i = 0; i < keys.size(); ++i) want += (i ? ",$" : "$") + keys[i];
  EXPECT_EQ(RespCall(c2, {"KEYS", "g*"}), want + "]");
  // SCAN walks every node: each key exactly once, the cursor ends at 0.
  std::multiset<std::string> scanned;
  std::string cursor = "0";
  int calls = 0;
  do {
    ASSERT_TRUE(c2.Send(Resp({"SCAN", cursor, "COUNT", "7"})));
    ASSERT_EQ(c2.ReadLine(), "*2");
    std::optional<std::string> len = c2.ReadLine();
    ASSERT_TRUE(len.has_value());
    cursor = *c2.ReadLine();
    std::optional<std::string> count = c2.ReadLine();
    ASSERT_TRUE(count.has_value() && (*count)[0] == '*');
    for (long i = 0, n = std::stol(count->substr(1)); i < n; ++i) {
      c2.ReadLine();
      scanned.insert(*c2.ReadLine());
    }
    ASSERT_LT(++calls, 1000);
  } while (cursor != "0");
  EXPECT_EQ(scanned, std::multiset<std::string>(keys.begin(), keys.end()));
  // FLUSH from one node empties all of them.
  EXPECT_EQ(text.Call("FLUSH"), "OK");
  for (int node = 0; node < 3; ++node) {
    Client n = cluster_->Connect(node);
    EXPECT_EQ(RespCall(n, {"GET", keys[static_cast<size_t>(node)]}), "$nil");
  }
  EXPECT_EQ(RespCall(c, {"DBSIZE"}), ":0");
}

TEST_F(ClusterTest, TheOriginalsListingsReachEveryNode) {
  Client c = cluster_->Connect(0);
  std::vector<std::string> values;
  std::vector<std::string> g1_values;  // keys g1, g10..g19
  for (int k = 0; k < 60; ++k) {
    const std::string key = "g" + std::to_string(k);
    values.push_back("value-" + std::to_string(k));
    if (key.starts_with("g1")) g1_values.push_back(values.back());
    ASSERT_EQ(RespCall(c, {"SET", key, values.back()}), "+OK");
  }
  std::sort(values.begin(), values.end());
  std::sort(g1_values.begin(), g1_values.end());
  Client text = cluster_->Connect(1);
  EXPECT_EQ(text.CallBlock("VALUES"), values);
  EXPECT_EQ(text.CallBlock("PREFSCAN g1"), g1_values);
  EXPECT_EQ(text.CallBlock("FUZZYSCAN g59"), std::vector<std::string>{"value-59"});
  // KEYSPACE: one line per node, each naming it; the counts add up.
  std::optional<std::vector<std::string>> space = text.CallBlock("KEYSPACE");
  ASSERT_TRUE(space.has_value());
  ASSERT_EQ(space->size(), 3u);
  long total = 0;
  for (int node = 0; node < 3; ++node) {
    const std::string& line = (*space)[static_cast<size_t>(node)];
    EXPECT_THAT(line, ::testing::MatchesRegex("Keys: [0-9]+\tSpace: [0-9]+\\.[0-9][0-9] Kb\t"
                                             "node[0-2]:127\\.0\\.0\\.1:[0-9]+"));
    total += std::stol(line.substr(6));
  }
  EXPECT_EQ(total, 60);
  for (int node = 0; node < 3; ++node) {
    const std::string self = "node" + std::to_string(node) + ":127.0.0.1:" +
                             std::to_string(cluster_->port(node));
    EXPECT_EQ(std::count_if(space->begin(), space->end(),
                            [&](const std::string& l) { return l.ends_with("\t" + self); }),
              1)
        << self;
  }
}

TEST_F(ClusterTest, RedisInlineCommandsOnATextConnectionAreRoutedAsResp) {
  // On a text connection INCR is a Redis inline command: routed (forwarded to the
  // key's owner) and answered in RESP2; GET, a text command, stays text.
  Client text = cluster_->Connect(0);
  EXPECT_EQ(text.Call("PING"), "+PONG");
  for (int k = 0; k < 12; ++k) {
    const std::string key = "inline" + std::to_string(k);
    EXPECT_EQ(text.Call("INCR " + key), ":1") << key;
    EXPECT_EQ(text.Call("INCR " + key), ":2") << key;
    EXPECT_EQ(text.Call("GET " + key), "2") << key;
  }
  // Some of those keys live on the other nodes: their requests were forwarded.
  std::optional<std::vector<std::string>> info = text.CallBlock("CLUSTER INFO");
  ASSERT_TRUE(info.has_value());
  long forwarded = -1;
  for (const std::string& line : *info) {
    if (line.starts_with("cluster_requests_forwarded:")) forwarded = std::stol(line.substr(27));
  }
  EXPECT_GT(forwarded, 0);
}

TEST_F(ClusterTest, ClusterCommandsDescribeTheSlotMap) {
  Client c = cluster_->Connect(1);
  EXPECT_EQ(RespCall(c, {"CLUSTER", "KEYSLOT", "foo"}), ":3088");
  EXPECT_EQ(RespCall(c, {"CLUSTER", "KEYSLOT", "{foo}.bar"}), ":3088");
  EXPECT_EQ(RespCall(c, {"CLUSTER", "MYID"}), "$node1");
  const std::string slots = RespCall(c, {"CLUSTER", "SLOTS"});
  EXPECT_THAT(slots, HasSubstr("[:0,:2729,[$127.0.0.1,:" + std::to_string(cluster_->port(0)) +
                               ",$node0]]"));
  EXPECT_THAT(slots, HasSubstr("[:5460,:8191,[$127.0.0.1,:" +
                               std::to_string(cluster_->port(2)) + ",$node2]]"));
  const std::string info = RespCall(c, {"CLUSTER", "INFO"});
  EXPECT_THAT(info, HasSubstr("cluster_state:ok"));
  EXPECT_THAT(info, HasSubstr("cluster_known_nodes:3"));
  Client text = cluster_->Connect(0);
  std::optional<std::vector<std::string>> nodes = text.CallBlock("CLUSTERINFO");
  ASSERT_TRUE(nodes.has_value());
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0], "node0 127.0.0.1:" + std::to_string(cluster_->port(0)) + " 0-2729 myself");
  EXPECT_EQ((*nodes)[1],
            "node1 127.0.0.1:" + std::to_string(cluster_->port(1)) + " 2730-5459 reachable");
  // INFO shows the links and the forwarded counts.
  const std::string remote = KeyOn(2, 3, "i");
  EXPECT_EQ(text.Call("SET " + remote + " 1"), "OK");
  std::optional<std::vector<std::string>> all = text.CallBlock("INFO cluster");
  ASSERT_TRUE(all.has_value());
  bool saw_peer = false;
  for (const std::string& line : *all) {
    if (line.rfind("peer_node2:", 0) == 0) {
      saw_peer = true;
      EXPECT_THAT(line, HasSubstr("link=up"));
      EXPECT_THAT(line, HasSubstr("forwarded=1"));
    }
  }
  EXPECT_TRUE(saw_peer);
}

// Redis ends every CLUSTER NODES line, the last one included, with "\n" alone; cluster
// clients split on it, so a "\r" would stay in the last field (the slot ranges).
TEST_F(ClusterTest, ClusterNodesLinesEndInNewlineAsRedisDoes) {
  Client c = cluster_->Connect(1);
  const std::string reply = RespCall(c, {"CLUSTER", "NODES"});
  ASSERT_THAT(reply, StartsWith("$"));
  const std::string nodes = reply.substr(1);
  EXPECT_EQ(nodes.find('\r'), std::string::npos) << nodes;
  ASSERT_FALSE(nodes.empty());
  EXPECT_EQ(nodes.back(), '\n');
  EXPECT_EQ(std::count(nodes.begin(), nodes.end(), '\n'), 3) << nodes;
  EXPECT_THAT(nodes, HasSubstr(" myself,master - 0 0 "));
  EXPECT_THAT(nodes, HasSubstr(" connected 2730-5459\n"));
  // The same framing as a real cluster-enabled redis-server's.
  if (!RedisServer::Available()) {
    ADD_FAILURE() << RedisServer::kBinary << " is missing (scripts/install-deps.sh)";
    return;
  }
  TempDir redis_dir;
  RedisServer redis;
  // Its bus port is the client port + 10000 unless set: a free port above 55535 would
  // make it refuse to start, so the bus gets a free port of its own.
  redis.Spawn(redis_dir.path(), {"--cluster-enabled", "yes", "--cluster-port",
                                 std::to_string(PickFreePort())});
  Client r;
  ASSERT_TRUE(redis.WaitForPong(&r));
  ASSERT_EQ(RespCall(r, {"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}), "+OK");
  const std::string redis_reply = RespCall(r, {"CLUSTER", "NODES"});
  ASSERT_THAT(redis_reply, StartsWith("$"));
  EXPECT_EQ(redis_reply.find('\r'), std::string::npos) << redis_reply;
  EXPECT_EQ(redis_reply.back(), '\n');
  EXPECT_THAT(redis_reply, HasSubstr(" connected 0-16383\n"));
}

TEST_F(ClusterTest, ADownNodeGivesClusterdownQuicklyAndRejoinsWhenBack) {
  const std::string on0 = KeyOn(0, 3, "d");
  const std::string on1 = KeyOn(1, 3, "d");
  const std::string on2 = KeyOn(2, 3, "d");
  Client c = cluster_->Connect(0);
  for (const std::string& key : {on0, on1, on2}) {
    ASSERT_EQ(RespCall(c, {"SET", key, "v-" + key}), "+OK");
  }
  cluster_->Kill(1);
  const auto start = Clock::now();
  const std::string down = RespCall(c, {"GET", on1});
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  EXPECT_THAT(down, StartsWith("-CLUSTERDOWN"));
  EXPECT_THAT(down, HasSubstr("node1"));
  // Once the loss is known, the error says what happened to the formed cluster.
  const std::string again = RespCall(c, {"GET", on1});
  EXPECT_THAT(again, StartsWith("-CLUSTERDOWN node node1 (127.0.0.1:" +
                                std::to_string(cluster_->port(1)) +
                                ") is unreachable: the link to it was lost "));
  EXPECT_THAT(again, HasSubstr(" s ago (last error: "));
  EXPECT_THAT(again, Not(HasSubstr("not formed")));
  Client text = cluster_->Connect(2);
  EXPECT_THAT(text.Call("GET " + on1), StartsWith("(error) CLUSTERDOWN"));
  // Everything else keeps working, local and forwarded.
  EXPECT_EQ(RespCall(c, {"GET", on0}), "$v-" + on0);
  EXPECT_EQ(RespCall(c, {"GET", on2}), "$v-" + on2);
  EXPECT_EQ(text.Call("GET " + on0), "v-" + on0);
  // A global command needs every node.
  EXPECT_THAT(RespCall(c, {"DBSIZE"}), StartsWith("-CLUSTERDOWN"));
  // Back with its data directory: it rejoins by itself and serves its keys again,
  // to the very same client connections.
  ASSERT_TRUE(cluster_->Start(1));
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  std::string reply;
  while (Clock::now() < deadline) {
    reply = RespCall(c, {"GET", on1});
    if (reply == "$v-" + on1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(reply, "$v-" + on1);
  EXPECT_EQ(text.Call("GET " + on1), "v-" + on1);
  EXPECT_EQ(RespCall(c, {"DBSIZE"}), ":3");
}

TEST_F(ClusterTest, APeerThatStopsAnsweringTimesOutWithClusterdown) {
  const std::string on2 = KeyOn(2, 3, "s");
  Client c = cluster_->Connect(0);
  ASSERT_EQ(RespCall(c, {"SET", on2, "x"}), "+OK");
  // SIGSTOP: the node's sockets stay open but nothing answers (a hung machine).
  ASSERT_TRUE(cluster_->node(2).Signal(SIGSTOP));
  // kill() returns before every thread has stopped: wait until /proc says so.
  const std::string stat = "/proc/" + std::to_string(cluster_->node(2).pid()) + "/stat";
  bool stopped = false;
  for (int i = 0; i < 500 && !stopped; ++i) {
    std::ifstream in(stat);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    stopped = paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'T';
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(stopped);
  const auto start = Clock::now();
  const std::string reply = RespCall(c, {"GET", on2});
  const auto took = Clock::now() - start;
  cluster_->node(2).Signal(SIGCONT);
  EXPECT_THAT(reply, StartsWith("-CLUSTERDOWN"));
  EXPECT_LT(took, std::chrono::milliseconds(2500));  // request_timeout_ms = 1500
}

TEST(ClusterStartTest, RequestsBeforeTheClusterFormsGetAClearError) {
  TestCluster cluster(3);
  ASSERT_TRUE(cluster.Start(0)) << cluster.node(0).Log();
  Client c = cluster.Connect(0);
  EXPECT_THAT(RespCall(c, {"GET", KeyOn(1, 3, "f")}),
              AllOf(StartsWith("-CLUSTERDOWN node node1 (127.0.0.1:" +
                               std::to_string(cluster.port(1)) +
                               ") is unreachable: no link to it since this node started "),
                    HasSubstr(" s ago; the cluster is not formed yet")));
  const std::string local = KeyOn(0, 3, "f");
  EXPECT_EQ(RespCall(c, {"SET", local, "1"}), "+OK");  // its own slots work
  EXPECT_EQ(RespCall(c, {"GET", local}), "$1");
}

TEST(ClusterStartTest, NodesWithDifferentNodeListsRefuseToForm) {
  TestCluster cluster(2);
  // node1 is given a list with a third node: the digests differ.
  std::vector<uint16_t> ports{cluster.port(0), cluster.port(1)};
  std::vector<uint16_t> more = ports;
  more.push_back(PickPorts(1)[0]);
  const std::string wrong = cluster.ConfigPath(1) + ".wrong";
  cluster.WriteConfig(1, wrong, more);
  ASSERT_TRUE(cluster.Start(0));
  ASSERT_TRUE(cluster.Start(1, wrong));
  EXPECT_TRUE(cluster.node(0).WaitForLog("node1", std::chrono::seconds(10)));
  EXPECT_TRUE(cluster.node(0).WaitForLog("digest", std::chrono::seconds(10)));
  EXPECT_TRUE(cluster.node(1).WaitForLog("digest", std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_THAT(cluster.node(0).Log(), ::testing::Not(HasSubstr("Cluster successfully formed")));
  Client c = cluster.Connect(0);
  EXPECT_THAT(RespCall(c, {"GET", KeyOn(1, 2, "x")}), StartsWith("-CLUSTERDOWN"));
  Client info = cluster.Connect(0);
  EXPECT_THAT(RespCall(info, {"CLUSTER", "INFO"}), HasSubstr("link=mismatch"));
}

TEST(ClusterStartTest, NodesWithDifferentSecretsNeverFormAndWithTheSameSecretForm) {
  TestCluster cluster(2);
  std::vector<uint16_t> ports{cluster.port(0), cluster.port(1)};
  const std::string secret0 = cluster.ConfigPath(0) + ".secret";
  const std::string secret1 = cluster.ConfigPath(1) + ".secret";
  cluster.WriteConfig(0, secret0, ports, "alpha-secret-0123456789");
  cluster.WriteConfig(1, secret1, ports, "bravo-secret-0123456789");
  ASSERT_TRUE(cluster.Start(0, secret0));
  ASSERT_TRUE(cluster.Start(1, secret1));
  // Each node says which peer it refuses and why.
  EXPECT_TRUE(cluster.node(0).WaitForLog("node node0 refuses node node1", std::chrono::seconds(10)))
      << cluster.node(0).Log();
  EXPECT_TRUE(cluster.node(1).WaitForLog("node node1 refuses node node0", std::chrono::seconds(10)))
      << cluster.node(1).Log();
  EXPECT_TRUE(cluster.node(0).WaitForLog("same cluster secret", std::chrono::seconds(10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 2; ++i) {
    const std::string log = cluster.node(i).Log();
    EXPECT_THAT(log, ::testing::Not(HasSubstr("Cluster successfully formed")));
    EXPECT_THAT(log, ::testing::Not(HasSubstr("-secret-0123456789")));  // never the secret
  }
  {
    Client c = cluster.Connect(0);
    EXPECT_THAT(RespCall(c, {"GET", KeyOn(1, 2, "x")}), StartsWith("-CLUSTERDOWN"));
    Client info = cluster.Connect(0);
    EXPECT_THAT(RespCall(info, {"CLUSTER", "INFO"}), HasSubstr("link=auth-failed"));
  }
  // The same secret on both: they form, and requests cross the bus.
  cluster.Kill(1);
  cluster.WriteConfig(1, secret1, ports, "alpha-secret-0123456789");
  ASSERT_TRUE(cluster.Start(1, secret1));
  ASSERT_TRUE(cluster.node(0).WaitForLog("Cluster successfully formed", std::chrono::seconds(15)))
      << cluster.node(0).Log();
  ASSERT_TRUE(cluster.node(1).WaitForLog("Cluster successfully formed", std::chrono::seconds(15)))
      << cluster.node(1).Log();
  const std::string on1 = KeyOn(1, 2, "y");
  Client c = cluster.Connect(0);
  EXPECT_EQ(RespCall(c, {"SET", on1, "v"}), "+OK");
  EXPECT_EQ(RespCall(c, {"GET", on1}), "$v");
}

TEST(ClusterStartTest, ConfigurationMistakesStopStartUp) {
  TempDir dir;
  std::string output;
  EXPECT_EQ(RunToCompletion({"-c", "-p", "0", "--data-dir", dir.path()}, &output), 1);
  EXPECT_THAT(output, HasSubstr("[[cluster.nodes]]"));
  TestCluster cluster(2);
  EXPECT_EQ(RunToCompletion({"-f", cluster.ConfigPath(0), "-i", "node9", "--data-dir",
                             dir.path()},
                            &output),
            1);
  EXPECT_THAT(output, HasSubstr("'node9' is not among the [[cluster.nodes]] (node0, node1)"));
}

TEST_F(ClusterTest, RedisCliWorksAgainstAnyNode) {
  if (access("/usr/bin/redis-cli", X_OK) != 0) GTEST_SKIP() << "redis-cli is not installed";
  auto run = [](const std::string& command) {
    std::string out;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return out;
    char buf[256];
    while (fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
    pclose(pipe);
    return out;
  };
  for (int k = 0; k < 12; ++k) {
    const std::string key = "cli" + std::to_string(k);
    const int writer = k % 3;
    const int reader = (k + 1) % 3;
    EXPECT_EQ(run("redis-cli -p " + std::to_string(cluster_->port(writer)) + " SET " + key +
                  " v" + std::to_string(k)),
              "OK\n");
    EXPECT_EQ(run("redis-cli -p " + std::to_string(cluster_->port(reader)) + " GET " + key),
              "v" + std::to_string(k) + "\n");
  }
}

}  // namespace
}  // namespace memento::testing

namespace memento::testing {
namespace {

// Transactions in a cluster (daemon/cmd_multi.cc): keys of one slot run on the node
// that owns it; keys of two slots get CROSSSLOT at queue time (and EXECABORT); a
// transaction whose slot another node owns is refused (not forwarded, docs/cluster.md).
TEST_F(ClusterTest, TransactionsRunOnTheirSlotsOwnerOnly) {
  Client c = cluster_->Connect(1);
  const std::string a = "{" + KeyOn(1, 3, "tag") + "}.a";
  const std::string b = "{" + KeyOn(1, 3, "tag") + "}.b";
  ASSERT_EQ(cluster::KeySlot(a), cluster::KeySlot(b));
  ASSERT_EQ(OwnerOf(a, 3), 1);
  EXPECT_EQ(RespCall(c, {"MULTI"}), "+OK");
  EXPECT_EQ(RespCall(c, {"SET", a, "1"}), "+QUEUED");
  EXPECT_EQ(RespCall(c, {"INCR", b}), "+QUEUED");
  EXPECT_EQ(RespCall(c, {"EXEC"}), "[+OK,:1]");
  // Two slots of this node: CROSSSLOT when queued, then EXECABORT.
  std::string other;
  for (int i = 0; other.empty() || cluster::KeySlot(other) == cluster::KeySlot(a); ++i) {
    other = KeyOn(1, 3, "other" + std::to_string(i));
  }
  EXPECT_EQ(RespCall(c, {"MULTI"}), "+OK");
  EXPECT_EQ(RespCall(c, {"SET", a, "2"}), "+QUEUED");
  EXPECT_EQ(RespCall(c, {"SET", other, "2"}), "-CROSSSLOT Keys in request don't hash to the same slot");
  EXPECT_EQ(RespCall(c, {"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
  EXPECT_EQ(RespCall(c, {"GET", a}), "$1");
  // Another node's slot: refused, saying where to run it.
  const std::string remote = KeyOn(2, 3, "remote");
  EXPECT_EQ(RespCall(c, {"MULTI"}), "+OK");
  EXPECT_THAT(RespCall(c, {"SET", remote, "1"}),
              StartsWith("-ERR the transaction's keys hash to slot " +
                         std::to_string(cluster::KeySlot(remote)) + ", served by node node2"));
  EXPECT_EQ(RespCall(c, {"EXEC"}), "-EXECABORT Transaction discarded because of previous errors.");
  // Commands that reach every node cannot be queued.
  EXPECT_EQ(RespCall(c, {"MULTI"}), "+OK");
  EXPECT_THAT(RespCall(c, {"DBSIZE"}), StartsWith("-ERR 'dbsize' reaches every node"));
  EXPECT_EQ(RespCall(c, {"DISCARD"}), "+OK");
  EXPECT_THAT(RespCall(c, {"WATCH", remote}), StartsWith("-ERR WATCH of a key served by another"));
  EXPECT_EQ(RespCall(c, {"WATCH", a}), "+OK");
}

}  // namespace
}  // namespace memento::testing
