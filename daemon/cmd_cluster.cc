// CLUSTER subcommands (RESP and text), CLUSTERINFO (the original Memento's text
// command) and the INFO cluster section. docs/cluster.md describes the replies.
//
// The slot space is this project's own (8192 slots, MurmurHash3 with seed 65133), not
// Redis Cluster's 16384 CRC16 slots: CLUSTER SLOTS/SHARDS/NODES report it in Redis's
// shapes so tools can read them, but a cluster-aware Redis client must not be pointed
// at it in cluster mode: every node answers for every key (it forwards), so plain,
// non-cluster clients are the ones to use.
#include <string>
#include <vector>

#include "cluster/slot.h"
#include "common/clock.h"
#include "daemon/cluster_node.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"
#include "daemon/commands.h"

namespace memento::daemon {

namespace {

constexpr char kClusterDisabledErr[] =
    "ERR This instance has cluster support disabled (start it with -c and a [cluster] "
    "configuration, docs/cluster.md)";

std::string RangesText(const cluster::NodeInfo& node) {
  std::string out;
  for (const cluster::SlotRange& r : node.ranges) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r.first);
    if (r.last != r.first) out += "-" + std::to_string(r.last);
  }
  return out;
}

uint64_t SlotsOf(const cluster::NodeInfo& node) {
  uint64_t n = 0;
  for (const cluster::SlotRange& r : node.ranges) n += r.last - r.first + 1;
  return n;
}

// The peer's stats (default ones for self).
cluster::PeerStats PeerOf(const cluster::BusStats& stats, const std::string& name) {
  for (const cluster::PeerStats& p : stats.peers) {
    if (p.name == name) return p;
  }
  return {};
}

std::string LinkState(const ClusterNode& node, int index, const cluster::BusStats& stats) {
  if (index == node.self_index()) return "myself";
  const cluster::PeerStats peer = PeerOf(stats, node.map()->nodes()[index].name);
  if (peer.mismatch) return "mismatch";
  if (peer.auth_failed) return "auth-failed";
  return peer.link_up ? "reachable" : "unreachable";
}

std::vector<std::string> InfoLines(const ClusterNode& node) {
  const cluster::BusStats stats = node.BusStats();
  const auto map = node.map();
  uint64_t slots_ok = 0;
  for (size_t i = 0; i < map->nodes().size(); ++i) {
    if (node.LinkUp(static_cast<int>(i))) slots_ok += SlotsOf(map->nodes()[i]);
  }
  std::vector<std::string> lines;
  lines.push_back(std::string("cluster_state:") + (node.formed() ? "ok" : "fail"));
  lines.push_back("cluster_slots_assigned:" + std::to_string(cluster::kSlotCount));
  lines.push_back("cluster_slots_ok:" + std::to_string(slots_ok));
  lines.push_back("cluster_slots_fail:" + std::to_string(cluster::kSlotCount - slots_ok));
  lines.push_back("cluster_known_nodes:" + std::to_string(map->nodes().size()));
  lines.push_back("cluster_size:" + std::to_string(map->nodes().size()));
  lines.push_back("cluster_my_name:" + node.self_name());
  lines.push_back("cluster_slot_map_version:" + std::to_string(map->version()));
  lines.push_back("cluster_config_digest:" + map->Digest());
  const ClusterCounters counters = node.Counters();
  lines.push_back("cluster_requests_local:" + std::to_string(counters.local));
  lines.push_back("cluster_requests_forwarded:" + std::to_string(counters.forwarded));
  lines.push_back("cluster_requests_split:" + std::to_string(counters.split));
  lines.push_back("cluster_requests_fanned_out:" + std::to_string(counters.fanned_out));
  lines.push_back("cluster_clusterdown_errors:" + std::to_string(counters.down_errors));
  const int64_t now = NowMillis();
  for (const cluster::PeerStats& p : stats.peers) {
    std::string heard = p.last_heard_ms == 0 ? "never" : std::to_string(now - p.last_heard_ms);
    const char* link = p.mismatch      ? "mismatch"
                       : p.auth_failed ? "auth-failed"
                       : p.link_up     ? "up"
                                       : "down";
    lines.push_back("peer_" + p.name + ":address=" + p.address + ",link=" + link +
                    ",last_heard_ms_ago=" + heard + ",forwarded=" + std::to_string(p.forwarded) +
                    ",failed=" + std::to_string(p.failed) + ",served=" + std::to_string(p.served));
  }
  return lines;
}

}  // namespace

void AppendClusterInfoFields(Commands& commands, std::vector<std::string>* lines) {
  ClusterNode* node = commands.cluster();
  if (node == nullptr) {
    lines->push_back("cluster_enabled:0");
    return;
  }
  lines->push_back("cluster_enabled:1");
  for (std::string& line : InfoLines(*node)) lines->push_back(std::move(line));
}

void ClusterInfo(Context& c) {
  // The original's CLUSTERINFO: one line per node, its range and whether it answers.
  ClusterNode* node = c.commands.cluster();
  if (node == nullptr) {
    c.reply.Error(kClusterDisabledErr);
    return;
  }
  const cluster::BusStats stats = node->BusStats();
  const auto map = node->map();
  std::vector<std::string> lines;
  for (size_t i = 0; i < map->nodes().size(); ++i) {
    const cluster::NodeInfo& n = map->nodes()[i];
    lines.push_back(n.name + " " + n.host + ":" + std::to_string(n.port) + " " + RangesText(n) +
                    " " + LinkState(*node, static_cast<int>(i), stats));
  }
  ReplyLines(c, lines);
}

void Cluster(Context& c) {
  const std::string_view sub = c.argv[1];
  if (EqualsIgnoreCase(sub, "keyslot")) {
    // Pure arithmetic: works with or without a cluster.
    if (SubcommandArityOk(c, 3, "cluster|keyslot")) c.reply.Integer(cluster::KeySlot(c.argv[2]));
    return;
  }
  if (EqualsIgnoreCase(sub, "help")) {
    constexpr std::string_view kHelp[] = {
        "CLUSTER <subcommand> [<arg> ...]. Subcommands are:",
        "KEYSLOT <key>",
        "    Return the slot of <key> (murmur3_32(key, 65133) % 8192, hash tags honoured).",
        "INFO",
        "    Return the state of the cluster and of each link.",
        "NODES",
        "    Return the nodes, one line each: name, address, flags, link, slot ranges.",
        "SLOTS",
        "    Return the slot ranges and the node serving each.",
        "SHARDS",
        "    Return each node with its slot ranges and health.",
        "MYID",
        "    Return this node's name.",
        "HELP",
        "    Print this help.",
    };
    ReplyHelp(c.reply, kHelp);
    return;
  }
  ClusterNode* node = c.commands.cluster();
  const bool known = EqualsIgnoreCase(sub, "info") || EqualsIgnoreCase(sub, "nodes") ||
                     EqualsIgnoreCase(sub, "slots") || EqualsIgnoreCase(sub, "shards") ||
                     EqualsIgnoreCase(sub, "myid");
  if (!known) {
    ReplyUnknownSubcommand(c.reply, "CLUSTER", sub);
    return;
  }
  if (node == nullptr) {
    c.reply.Error(kClusterDisabledErr);
    return;
  }
  const auto map = node->map();
  const cluster::BusStats stats = node->BusStats();
  if (EqualsIgnoreCase(sub, "info")) {
    if (!SubcommandArityOk(c, 2, "cluster|info")) return;
    ReplyLines(c, InfoLines(*node));
  } else if (EqualsIgnoreCase(sub, "myid")) {
    if (SubcommandArityOk(c, 2, "cluster|myid")) c.reply.Bulk(node->self_name());
  } else if (EqualsIgnoreCase(sub, "nodes")) {
    // Redis's line shape: id addr@bus flags master ping-sent pong-recv epoch link slots;
    // over RESP one bulk whose every line ends in "\n" (not "\r\n"), as Redis's does:
    // cluster clients split on "\n" and would keep a "\r" in the last slot range.
    if (!SubcommandArityOk(c, 2, "cluster|nodes")) return;
    std::vector<std::string> lines;
    for (size_t i = 0; i < map->nodes().size(); ++i) {
      const cluster::NodeInfo& n = map->nodes()[i];
      const bool me = static_cast<int>(i) == node->self_index();
      const cluster::PeerStats peer = PeerOf(stats, n.name);
      const bool up = me || peer.link_up;
      lines.push_back(n.name + " " + n.host + ":" + std::to_string(n.port) + "@" +
                      std::to_string(n.bus_port) + " " + (me ? "myself,master" : "master") +
                      (up ? "" : ",fail") + " - 0 " + std::to_string(me ? 0 : peer.last_heard_ms) +
                      " " + std::to_string(map->version()) + " " +
                      (up ? "connected" : "disconnected") + " " + RangesText(n));
    }
    if (!c.resp()) {
      ReplyLines(c, lines);  // the text protocol's counted lines
      return;
    }
    std::string text;
    for (const std::string& line : lines) text.append(line).push_back('\n');
    c.reply.Bulk(text);
  } else if (EqualsIgnoreCase(sub, "slots")) {
    if (!SubcommandArityOk(c, 2, "cluster|slots")) return;
    size_t ranges = 0;
    for (const cluster::NodeInfo& n : map->nodes()) ranges += n.ranges.size();
    c.reply.ArrayHeader(ranges);
    for (const cluster::NodeInfo& n : map->nodes()) {
      for (const cluster::SlotRange& r : n.ranges) {
        c.reply.ArrayHeader(3);
        c.reply.Integer(r.first);
        c.reply.Integer(r.last);
        c.reply.ArrayHeader(3);
        c.reply.Bulk(n.host);
        c.reply.Integer(n.port);
        c.reply.Bulk(n.name);
      }
    }
  } else {  // shards
    if (!SubcommandArityOk(c, 2, "cluster|shards")) return;
    c.reply.ArrayHeader(map->nodes().size());
    for (size_t i = 0; i < map->nodes().size(); ++i) {
      const cluster::NodeInfo& n = map->nodes()[i];
      const bool up = node->LinkUp(static_cast<int>(i));
      c.reply.ArrayHeader(4);
      c.reply.Bulk("slots");
      c.reply.ArrayHeader(n.ranges.size() * 2);
      for (const cluster::SlotRange& r : n.ranges) {
        c.reply.Integer(r.first);
        c.reply.Integer(r.last);
      }
      c.reply.Bulk("nodes");
      c.reply.ArrayHeader(1);
      c.reply.ArrayHeader(10);
      c.reply.Bulk("id");
      c.reply.Bulk(n.name);
      c.reply.Bulk("endpoint");
      c.reply.Bulk(n.host);
      c.reply.Bulk("port");
      c.reply.Integer(n.port);
      c.reply.Bulk("role");
      c.reply.Bulk("master");
      c.reply.Bulk("health");
      c.reply.Bulk(up ? "online" : "fail");
    }
  }
}

}  // namespace memento::daemon
