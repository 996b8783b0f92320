// SlotMap: who owns which slot. An immutable value: the nodes of the cluster (name,
// host, client port, bus port) and each node's slot ranges, with a version number, so
// that a later issue can change it at run time (build a new map, swap a
// std::shared_ptr<const SlotMap>) without touching the router.
//
// Without explicit ranges, the 8192 slots are split in equal ranges over the nodes
// sorted by name, as the original did: n nodes get floor(8192 / n) slots each, in name
// order, the last one also the remainder (3 nodes: [0,2729] [2730,5459] [5460,8191]).
// With explicit ranges (every node must then have some), they must cover every slot
// exactly once.
//
// Digest(): a hash of the canonical form of the node list and ranges (names, hosts,
// ports, bus ports, ranges; not the version), which nodes compare on the bus handshake
// to refuse forming a cluster from different configurations.
//
// Thread-safety: immutable after Build; share it as std::shared_ptr<const SlotMap>.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "cluster/slot.h"

namespace memento::cluster {

struct SlotRange {
  uint32_t first = 0;  // inclusive
  uint32_t last = 0;   // inclusive
};

struct NodeInfo {
  std::string name;
  std::string host;
  uint16_t port = 0;      // client port
  uint16_t bus_port = 0;  // 0 in Build's input: port + 100
  std::vector<SlotRange> ranges;  // empty in Build's input: equal split
};

class SlotMap {
 public:
  // Validates and completes `nodes`: at least one; names non-empty, unique, at most 64
  // bytes of [A-Za-z0-9_.-]; host non-empty; port != 0; bus_port defaulted to port + 100
  // (which must fit in 16 bits); no two nodes with the same host:port or host:bus_port;
  // ranges all given or none, in [0, 8191], first <= last, covering every slot exactly
  // once. Nodes are kept sorted by name. InvalidArgument names the node and the problem.
  static Result<SlotMap> Build(std::vector<NodeInfo> nodes, uint64_t version = 1);

  // The index (in nodes()) of the node owning `slot`. REQUIRES: slot < kSlotCount.
  int OwnerOfSlot(uint32_t slot) const { return owner_[slot]; }
  int OwnerOfKey(std::string_view key) const { return owner_[KeySlot(key)]; }

  // Index of the node named `name`, or -1.
  int IndexOf(std::string_view name) const;

  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  uint64_t version() const { return version_; }
  // 16 lower-case hex digits.
  const std::string& Digest() const { return digest_; }

 private:
  std::vector<NodeInfo> nodes_;
  std::vector<uint16_t> owner_;  // kSlotCount entries: slot -> node index
  uint64_t version_ = 0;
  std::string digest_;
};

}  // namespace memento::cluster
