// SlotMap::Build: validation, the equal split, and the digest.
//
// Digest input (canonical: independent of the order nodes were given in and of how
// ranges were spelled, so [0,10]+[11,20] and [0,20] are the same map):
//
//   canonical := "memento-slotmap-v1" node_count:varint32 node* owner_run*
//   node      := name:lenpfx host:lenpfx port:fixed32 bus_port:fixed32
//   owner_run := node_index:varint32 first_slot:varint32 last_slot:varint32
//
// with nodes sorted by name and the owner runs in slot order (maximal runs of slots
// with one owner). Hash64 (common/hash.h) of those bytes, 16 lower-case hex digits.
// Not the version: two nodes at different versions of the same layout agree.

#include "cluster/slot_map.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "common/coding.h"
#include "common/hash.h"

namespace memento::cluster {

namespace {

constexpr size_t kMaxNameBytes = 64;
constexpr uint16_t kNoOwner = UINT16_MAX;

bool ValidNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string RangeText(const SlotRange& r) {
  return "[" + std::to_string(r.first) + ", " + std::to_string(r.last) + "]";
}

Status Invalid(const NodeInfo& node, std::string_view problem) {
  return Status::InvalidArgument("cluster node " + Quoted(node.name) + ": " +
                                 std::string(problem));
}

// Sorts and merges adjacent ranges (input already validated: no overlap).
std::vector<SlotRange> Normalised(std::vector<SlotRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const SlotRange& a, const SlotRange& b) { return a.first < b.first; });
  std::vector<SlotRange> out;
  for (const SlotRange& r : ranges) {
    if (!out.empty() && out.back().last + 1 == r.first) {
      out.back().last = r.last;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace

Result<SlotMap> SlotMap::Build(std::vector<NodeInfo> nodes, uint64_t version) {
  if (nodes.empty()) {
    return Status::InvalidArgument("cluster has no nodes: at least one is needed");
  }
  if (nodes.size() > kSlotCount) {
    return Status::InvalidArgument("cluster has " + std::to_string(nodes.size()) +
                                   " nodes: at most " + std::to_string(kSlotCount) +
                                   " (one slot each)");
  }
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.name < b.name; });

  const bool explicit_ranges = !nodes.front().ranges.empty();
  std::set<std::pair<std::string, uint16_t>> endpoints;  // host, port (client or bus)
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeInfo& node = nodes[i];
    if (node.name.empty()) {
      return Status::InvalidArgument("cluster node #" + std::to_string(i + 1) +
                                     " (host " + Quoted(node.host) + ") has an empty name");
    }
    if (node.name.size() > kMaxNameBytes) {
      return Invalid(node, "name is " + std::to_string(node.name.size()) +
                               " bytes long, at most " + std::to_string(kMaxNameBytes));
    }
    for (char c : node.name) {
      if (!ValidNameChar(c)) {
        char hex[8];
        std::snprintf(hex, sizeof(hex), "0x%02x", static_cast<unsigned char>(c));
        return Invalid(node, std::string("name holds byte ") + hex +
                                 ": only A-Z a-z 0-9 _ . - are allowed");
      }
    }
    if (i > 0 && nodes[i - 1].name == node.name) {
      return Invalid(node, "name used by two nodes");
    }
    if (node.host.empty()) return Invalid(node, "host is empty");
    if (node.port == 0) return Invalid(node, "port is 0");
    if (node.bus_port == 0) {
      if (node.port > UINT16_MAX - 100) {
        return Invalid(node, "bus port defaults to port + 100 = " +
                                 std::to_string(node.port + 100) +
                                 ", past 65535: set bus_port explicitly");
      }
      node.bus_port = static_cast<uint16_t>(node.port + 100);
    }
    if (node.bus_port == node.port) {
      return Invalid(node, "bus port " + std::to_string(node.bus_port) +
                               " is its client port");
    }
    // A client port and a bus port are both sockets on host: no two may coincide.
    for (uint16_t p : {node.port, node.bus_port}) {
      if (!endpoints.emplace(node.host, p).second) {
        return Invalid(node, "address " + node.host + ":" + std::to_string(p) +
                                 " is already used by another node (client or bus port)");
      }
    }
    if (node.ranges.empty() == explicit_ranges) {
      return Invalid(node, explicit_ranges
                               ? "has no slot ranges while other nodes have some: give "
                                 "ranges to every node or to none"
                               : "has slot ranges while other nodes have none: give "
                                 "ranges to every node or to none");
    }
  }

  SlotMap map;
  map.version_ = version;
  map.owner_.assign(kSlotCount, kNoOwner);
  if (explicit_ranges) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      for (const SlotRange& r : nodes[i].ranges) {
        if (r.first > r.last) {
          return Invalid(nodes[i], "slot range " + RangeText(r) + " has first > last");
        }
        if (r.last >= kSlotCount) {
          return Invalid(nodes[i], "slot range " + RangeText(r) + " goes past slot " +
                                       std::to_string(kSlotCount - 1));
        }
        for (uint32_t s = r.first; s <= r.last; ++s) {
          if (map.owner_[s] != kNoOwner) {
            return Invalid(nodes[i], "slot range " + RangeText(r) + ": slot " +
                                         std::to_string(s) + " is also owned by node " +
                                         Quoted(nodes[map.owner_[s]].name));
          }
          map.owner_[s] = static_cast<uint16_t>(i);
        }
      }
    }
    for (uint32_t s = 0; s < kSlotCount; ++s) {
      if (map.owner_[s] != kNoOwner) continue;
      uint32_t e = s;
      while (e + 1 < kSlotCount && map.owner_[e + 1] == kNoOwner) ++e;
      return Status::InvalidArgument("cluster slot ranges leave slots " +
                                     RangeText({s, e}) + " without an owner");
    }
    for (NodeInfo& node : nodes) node.ranges = Normalised(std::move(node.ranges));
  } else {
    const uint32_t n = static_cast<uint32_t>(nodes.size());
    const uint32_t each = kSlotCount / n;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t first = i * each;
      const uint32_t last = i + 1 == n ? kSlotCount - 1 : first + each - 1;
      nodes[i].ranges = {SlotRange{first, last}};
      for (uint32_t s = first; s <= last; ++s) map.owner_[s] = static_cast<uint16_t>(i);
    }
  }
  map.nodes_ = std::move(nodes);

  std::string canonical = "memento-slotmap-v1";
  PutVarint32(&canonical, static_cast<uint32_t>(map.nodes_.size()));
  for (const NodeInfo& node : map.nodes_) {
    PutLengthPrefixed(&canonical, node.name);
    PutLengthPrefixed(&canonical, node.host);
    PutFixed32(&canonical, node.port);
    PutFixed32(&canonical, node.bus_port);
  }
  for (uint32_t s = 0; s < kSlotCount;) {
    uint32_t e = s;
    while (e + 1 < kSlotCount && map.owner_[e + 1] == map.owner_[s]) ++e;
    PutVarint32(&canonical, map.owner_[s]);
    PutVarint32(&canonical, s);
    PutVarint32(&canonical, e);
    s = e + 1;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Hash64(canonical)));
  map.digest_ = hex;
  return map;
}

int SlotMap::IndexOf(std::string_view name) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), name,
                             [](const NodeInfo& n, std::string_view v) { return n.name < v; });
  if (it == nodes_.end() || it->name != name) return -1;
  return static_cast<int>(it - nodes_.begin());
}

}  // namespace memento::cluster
