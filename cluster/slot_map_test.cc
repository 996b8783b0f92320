#include "cluster/slot_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace memento::cluster {
namespace {

NodeInfo Node(std::string name, uint16_t port, std::vector<SlotRange> ranges = {}) {
  NodeInfo n;
  n.name = std::move(name);
  n.host = "127.0.0.1";
  n.port = port;
  n.ranges = std::move(ranges);
  return n;
}

std::string ErrorOf(std::vector<NodeInfo> nodes) {
  Result<SlotMap> map = SlotMap::Build(std::move(nodes));
  EXPECT_FALSE(map.ok());
  if (map.ok()) return "";
  EXPECT_TRUE(map.status().IsInvalidArgument()) << map.status().ToString();
  return std::string(map.status().message());
}

TEST(SlotMapTest, EqualSplitOverNodesSortedByName) {
  Result<SlotMap> map = SlotMap::Build({Node("c", 7003), Node("a", 7001), Node("b", 7002)});
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  const auto& nodes = map->nodes();
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].name, "a");
  EXPECT_EQ(nodes[1].name, "b");
  EXPECT_EQ(nodes[2].name, "c");
  ASSERT_EQ(nodes[0].ranges.size(), 1u);
  EXPECT_EQ(nodes[0].ranges[0].first, 0u);
  EXPECT_EQ(nodes[0].ranges[0].last, 2729u);
  EXPECT_EQ(nodes[1].ranges[0].first, 2730u);
  EXPECT_EQ(nodes[1].ranges[0].last, 5459u);
  EXPECT_EQ(nodes[2].ranges[0].first, 5460u);
  EXPECT_EQ(nodes[2].ranges[0].last, 8191u);
  EXPECT_EQ(map->OwnerOfSlot(0), 0);
  EXPECT_EQ(map->OwnerOfSlot(2729), 0);
  EXPECT_EQ(map->OwnerOfSlot(2730), 1);
  EXPECT_EQ(map->OwnerOfSlot(5460), 2);
  EXPECT_EQ(map->OwnerOfSlot(8191), 2);
  EXPECT_EQ(map->OwnerOfKey("a"), 0);    // slot 1100
  EXPECT_EQ(map->OwnerOfKey("foo"), 1);  // slot 3088
  EXPECT_EQ(map->OwnerOfKey("bar"), 2);  // slot 7169
  EXPECT_EQ(nodes[0].bus_port, 7101);    // port + 100
  EXPECT_EQ(map->version(), 1u);
}

TEST(SlotMapTest, SingleNodeOwnsEverything) {
  Result<SlotMap> map = SlotMap::Build({Node("solo", 7001)});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->nodes()[0].ranges[0].first, 0u);
  EXPECT_EQ(map->nodes()[0].ranges[0].last, 8191u);
}

TEST(SlotMapTest, IndexOf) {
  Result<SlotMap> map = SlotMap::Build({Node("n2", 7002), Node("n1", 7001), Node("n3", 7003)});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(map->IndexOf("n1"), 0);
  EXPECT_EQ(map->IndexOf("n2"), 1);
  EXPECT_EQ(map->IndexOf("n3"), 2);
  EXPECT_EQ(map->IndexOf("n4"), -1);
  EXPECT_EQ(map->IndexOf(""), -1);
}

TEST(SlotMapTest, ExplicitRanges) {
  Result<SlotMap> map = SlotMap::Build(
      {Node("a", 7001, {{0, 99}, {200, 8191}}), Node("b", 7002, {{100, 199}})}, 7);
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->OwnerOfSlot(99), 0);
  EXPECT_EQ(map->OwnerOfSlot(100), 1);
  EXPECT_EQ(map->OwnerOfSlot(199), 1);
  EXPECT_EQ(map->OwnerOfSlot(200), 0);
  EXPECT_EQ(map->version(), 7u);
}

TEST(SlotMapTest, DigestIsCanonical) {
  auto a = SlotMap::Build({Node("a", 7001), Node("b", 7002)}, 1);
  auto b = SlotMap::Build({Node("b", 7002), Node("a", 7001)}, 9);
  auto c = SlotMap::Build({Node("a", 7001, {{0, 4095}}), Node("b", 7002, {{4096, 8191}})});
  auto d = SlotMap::Build(
      {Node("a", 7001, {{0, 10}, {11, 4095}}), Node("b", 7002, {{4096, 8191}})});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_EQ(a->Digest().size(), 16u);
  EXPECT_EQ(a->Digest().find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(a->Digest(), b->Digest());  // order and version do not matter
  EXPECT_EQ(a->Digest(), c->Digest());  // the same split spelled out
  EXPECT_EQ(c->Digest(), d->Digest());  // ranges merged
}

TEST(SlotMapTest, DigestChangesWithEveryField) {
  const std::string base = SlotMap::Build({Node("a", 7001), Node("b", 7002)})->Digest();
  EXPECT_NE(base, SlotMap::Build({Node("a", 7001), Node("c", 7002)})->Digest());
  EXPECT_NE(base, SlotMap::Build({Node("a", 7001), Node("b", 7003)})->Digest());
  NodeInfo other_host = Node("b", 7002);
  other_host.host = "127.0.0.2";
  EXPECT_NE(base, SlotMap::Build({Node("a", 7001), other_host})->Digest());
  NodeInfo other_bus = Node("b", 7002);
  other_bus.bus_port = 9000;
  EXPECT_NE(base, SlotMap::Build({Node("a", 7001), other_bus})->Digest());
  EXPECT_NE(base, SlotMap::Build({Node("a", 7001, {{0, 4000}}), Node("b", 7002, {{4001, 8191}})})
                      ->Digest());
}

TEST(SlotMapTest, NoNodes) { EXPECT_EQ(ErrorOf({}), "cluster has no nodes: at least one is needed"); }

TEST(SlotMapTest, EmptyName) {
  EXPECT_EQ(ErrorOf({Node("", 7001)}), "cluster node #1 (host \"127.0.0.1\") has an empty name");
}

TEST(SlotMapTest, NameTooLong) {
  EXPECT_EQ(ErrorOf({Node(std::string(65, 'x'), 7001)}),
            "cluster node \"" + std::string(65, 'x') + "\": name is 65 bytes long, at most 64");
  EXPECT_TRUE(SlotMap::Build({Node(std::string(64, 'x'), 7001)}).ok());
}

TEST(SlotMapTest, NameWithBadByte) {
  EXPECT_EQ(ErrorOf({Node("a b", 7001)}),
            "cluster node \"a b\": name holds byte 0x20: only A-Z a-z 0-9 _ . - are allowed");
  EXPECT_TRUE(SlotMap::Build({Node("Az09_.-", 7001)}).ok());
}

TEST(SlotMapTest, DuplicateName) {
  EXPECT_EQ(ErrorOf({Node("a", 7001), Node("a", 7002)}), "cluster node \"a\": name used by two nodes");
}

TEST(SlotMapTest, EmptyHost) {
  NodeInfo n = Node("a", 7001);
  n.host.clear();
  EXPECT_EQ(ErrorOf({n}), "cluster node \"a\": host is empty");
}

TEST(SlotMapTest, PortZero) { EXPECT_EQ(ErrorOf({Node("a", 0)}), "cluster node \"a\": port is 0"); }

TEST(SlotMapTest, DefaultBusPortPast65535) {
  EXPECT_EQ(ErrorOf({Node("a", 65500)}),
            "cluster node \"a\": bus port defaults to port + 100 = 65600, past 65535: set "
            "bus_port explicitly");
  NodeInfo n = Node("a", 65500);
  n.bus_port = 1000;
  EXPECT_TRUE(SlotMap::Build({n}).ok());
}

TEST(SlotMapTest, BusPortEqualsPort) {
  NodeInfo n = Node("a", 7001);
  n.bus_port = 7001;
  EXPECT_EQ(ErrorOf({n}), "cluster node \"a\": bus port 7001 is its client port");
}

TEST(SlotMapTest, SameHostPort) {
  EXPECT_EQ(ErrorOf({Node("a", 7001), Node("b", 7001)}),
            "cluster node \"b\": address 127.0.0.1:7001 is already used by another node (client "
            "or bus port)");
  // Another host may use the same port.
  NodeInfo b = Node("b", 7001);
  b.host = "127.0.0.2";
  EXPECT_TRUE(SlotMap::Build({Node("a", 7001), b}).ok());
}

TEST(SlotMapTest, SameHostBusPort) {
  NodeInfo b = Node("b", 7002);
  b.bus_port = 7101;  // a's default bus port
  EXPECT_EQ(ErrorOf({Node("a", 7001), b}),
            "cluster node \"b\": address 127.0.0.1:7101 is already used by another node (client "
            "or bus port)");
}

TEST(SlotMapTest, RangesForSomeNodesOnly) {
  EXPECT_EQ(ErrorOf({Node("a", 7001, {{0, 8191}}), Node("b", 7002)}),
            "cluster node \"b\": has no slot ranges while other nodes have some: give ranges to "
            "every node or to none");
  EXPECT_EQ(ErrorOf({Node("a", 7001), Node("b", 7002, {{0, 8191}})}),
            "cluster node \"b\": has slot ranges while other nodes have none: give ranges to "
            "every node or to none");
}

TEST(SlotMapTest, RangeFirstAfterLast) {
  EXPECT_EQ(ErrorOf({Node("a", 7001, {{10, 5}})}),
            "cluster node \"a\": slot range [10, 5] has first > last");
}

TEST(SlotMapTest, RangePastLastSlot) {
  EXPECT_EQ(ErrorOf({Node("a", 7001, {{0, 8192}})}),
            "cluster node \"a\": slot range [0, 8192] goes past slot 8191");
}

TEST(SlotMapTest, OverlappingRanges) {
  EXPECT_EQ(ErrorOf({Node("a", 7001, {{0, 5000}}), Node("b", 7002, {{4000, 8191}})}),
            "cluster node \"b\": slot range [4000, 8191]: slot 4000 is also owned by node \"a\"");
}

TEST(SlotMapTest, UncoveredSlots) {
  EXPECT_EQ(ErrorOf({Node("a", 7001, {{0, 99}}), Node("b", 7002, {{200, 8190}})}),
            "cluster slot ranges leave slots [100, 199] without an owner");
}

}  // namespace
}  // namespace memento::cluster
