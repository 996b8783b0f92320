#include "daemon/cluster_node.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "cluster/reply_record.h"
#include "common/logging.h"
#include "daemon/cmd_context.h"
#include "daemon/cmd_errors.h"
#include "daemon/commands.h"
#include "net/proto/resp_reply.h"
#include "net/proto/text_reply.h"

namespace memento::daemon {

namespace {

// SCAN cursors in cluster mode: the node's index in the high bits, that node's own
// cursor (Table::Scan's, well below 2^48) in the low bits.
constexpr int kScanNodeShift = 48;
constexpr uint64_t kScanLocalMask = (uint64_t{1} << kScanNodeShift) - 1;

// An error text fit for one reply line.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) out.push_back(ch == '\r' || ch == '\n' ? ' ' : ch);
  return out;
}

// Encodes into *out with the encoder of `dialect`.
void WithBuilder(net::Dialect dialect, std::string* out,
                 const std::function<void(proto::ReplyBuilder&)>& fn) {
  if (dialect == net::Dialect::kResp) {
    proto::RespReplyBuilder builder(out);
    fn(builder);
  } else {
    proto::TextReplyBuilder builder(out);
    fn(builder);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Gather: the parts of a split or fanned-out request, merged when the last arrives.

class ClusterNode::Gather {
 public:
  // Called with every part's decoded reply (none an error) to emit the merged one.
  using MergeFn =
      std::function<void(std::vector<cluster::ReplyValue>& parts, proto::ReplyBuilder& out)>;

  Gather(size_t parts, net::DeferredReply deferred, net::Dialect dialect,
         std::vector<std::string> part_nodes, MergeFn merge)
      : deferred_(std::move(deferred)),
        dialect_(dialect),
        part_nodes_(std::move(part_nodes)),
        merge_(std::move(merge)),
        parts_(parts),
        remaining_(parts) {}

  // Any thread; the last part's caller emits the merged reply.
  void Set(size_t index, Result<std::string> reply) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      parts_[index].emplace(std::move(reply));
      if (--remaining_ != 0) return;
    }
    Finish();
  }

 private:
  void Finish() {
    std::string bytes;
    WithBuilder(dialect_, &bytes, [&](proto::ReplyBuilder& out) { Emit(out); });
    deferred_.Complete(std::move(bytes));
  }

  void Emit(proto::ReplyBuilder& out) {
    std::vector<cluster::ReplyValue> values(parts_.size());
    for (size_t i = 0; i < parts_.size(); ++i) {
      const Result<std::string>& part = *parts_[i];
      if (!part.ok()) {
        out.Error("CLUSTERDOWN " + OneLine(part.status().message()));
        return;
      }
      Status decoded = cluster::DecodeReply(*part, &values[i]);
      if (!decoded.ok()) {
        out.Error("ERR cluster: damaged reply from " + part_nodes_[i] + ": " +
                  OneLine(decoded.ToString()));
        return;
      }
    }
    // The first error of any part is the reply (a syntax error is the same on every
    // node; a MISCONF names the node's own trouble).
    for (const cluster::ReplyValue& value : values) {
      if (value.kind == cluster::ReplyValue::Kind::kError) {
        out.Error(OneLine(value.text));
        return;
      }
    }
    merge_(values, out);
  }

  net::DeferredReply deferred_;
  const net::Dialect dialect_;
  const std::vector<std::string> part_nodes_;  // for messages
  const MergeFn merge_;
  std::mutex mu_;
  std::vector<std::optional<Result<std::string>>> parts_;  // guarded by mu_
  size_t remaining_;                                       // guarded by mu_
};

// ---------------------------------------------------------------------------
// Set-up

Result<cluster::SlotMap> BuildSlotMap(const Config& config) {
  if (config.cluster_nodes.empty()) {
    return Status::InvalidArgument(
        "cluster mode needs the list of nodes: one [[cluster.nodes]] table (name, host, "
        "port) per node in the file given with -f (docs/cluster.md)");
  }
  std::vector<cluster::NodeInfo> nodes;
  for (const ClusterNodeConfig& n : config.cluster_nodes) {
    cluster::NodeInfo info;
    info.name = n.name;
    info.host = n.host;
    info.port = n.port;
    info.bus_port = n.bus_port;
    for (auto [first, last] : n.slots) info.ranges.push_back({first, last});
    nodes.push_back(std::move(info));
  }
  return cluster::SlotMap::Build(std::move(nodes));
}

Result<int> FindSelf(const cluster::SlotMap& map, const Config& config) {
  if (config.node_name.empty()) {
    return Status::InvalidArgument(
        "cluster mode needs this node's name: cluster.name in the file, or -i NAME");
  }
  const int self = map.IndexOf(config.node_name);
  if (self < 0) {
    std::string names;
    for (const cluster::NodeInfo& n : map.nodes()) names += (names.empty() ? "" : ", ") + n.name;
    return Status::InvalidArgument("this node's name '" + config.node_name +
                                   "' is not among the [[cluster.nodes]] (" + names + ")");
  }
  return self;
}

ClusterNode::ClusterNode(Commands* commands, std::shared_ptr<const cluster::SlotMap> map,
                         int self)
    : commands_(commands), map_(std::move(map)), self_(self) {}

ClusterNode::~ClusterNode() { Stop(); }

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(const Config& config,
                                                        Commands* commands) {
  MEMENTO_ASSIGN_OR_RETURN(cluster::SlotMap built, BuildSlotMap(config));
  auto map = std::make_shared<const cluster::SlotMap>(std::move(built));
  MEMENTO_ASSIGN_OR_RETURN(const int self, FindSelf(*map, config));
  std::unique_ptr<ClusterNode> node(new ClusterNode(commands, map, self));
  cluster::BusOptions options;
  options.map = map;
  options.self = config.node_name;
  options.request_timeout_ms = config.cluster_timeout_ms;
  // The bus secret: cluster.secret, else the client password (docs/security.md).
  options.secret = config.cluster_secret.empty() ? config.requirepass : config.cluster_secret;
  options.protected_mode = config.protected_mode;
  MEMENTO_ASSIGN_OR_RETURN(node->bus_, cluster::Bus::Start(options, node.get()));
  const cluster::NodeInfo& me = map->nodes()[static_cast<size_t>(self)];
  log::Info("Cluster node %s: %zu node(s), slot map version %llu, digest %s, bus on %s:%u",
            me.name.c_str(), map->nodes().size(),
            static_cast<unsigned long long>(map->version()), map->Digest().c_str(),
            me.host.c_str(), me.bus_port);
  return node;
}

void ClusterNode::Stop() {
  if (bus_ != nullptr) bus_->Stop();
}

const std::string& ClusterNode::self_name() const {
  return map_->nodes()[static_cast<size_t>(self_)].name;
}

ClusterCounters ClusterNode::Counters() const {
  ClusterCounters c;
  c.local = local_.load(std::memory_order_relaxed);
  c.forwarded = forwarded_.load(std::memory_order_relaxed);
  c.split = split_.load(std::memory_order_relaxed);
  c.fanned_out = fanned_out_.load(std::memory_order_relaxed);
  c.down_errors = down_errors_.load(std::memory_order_relaxed);
  return c;
}

// ---------------------------------------------------------------------------
// Requests forwarded to this node

void ClusterNode::Execute(net::Dialect dialect, std::span<const std::string_view> argv,
                          std::string* reply) {
  net::Session session;
  session.dialect = dialect;
  session.authenticated = true;  // the node that received it checked
  cluster::RecordingReplyBuilder builder(reply);
  commands_->ExecuteHere(session, argv, builder);
}

Status ClusterNode::Commit() {
  return commands_->HasUncommitted() ? commands_->CommitRound() : Status::OK();
}

std::string ClusterNode::ExecuteHere(net::Dialect dialect,
                                     std::span<const std::string_view> argv) {
  std::string recorded;
  Execute(dialect, argv, &recorded);
  return recorded;
}

// ---------------------------------------------------------------------------
// Routing

bool ClusterNode::CheckLink(int node, proto::ReplyBuilder& reply) {
  if (node == self_ || bus_->LinkUp(node)) return true;
  const cluster::NodeInfo& n = map_->nodes()[static_cast<size_t>(node)];
  down_errors_.fetch_add(1, std::memory_order_relaxed);
  reply.Error("CLUSTERDOWN node " + n.name + " (" + n.host + ":" + std::to_string(n.port) +
              ") is unreachable" + (bus_->IsFormed() ? "" : "; the cluster is not formed"));
  return false;
}

bool ClusterNode::Route(net::Session& session, const CommandSpec& spec,
                        std::span<const std::string_view> argv, proto::ReplyBuilder& reply) {
  if (spec.cluster.spread == Spread::kScan) {
    Scan(session, argv, reply);
    return true;
  }
  if (spec.cluster.spread == Spread::kEveryNode) {
    FanOut(session, spec, argv, reply);
    return true;
  }
  if (spec.first_key <= 0) return false;  // no keys: PING, INFO, CONFIG, ...
  const size_t first = static_cast<size_t>(spec.first_key);
  const size_t last = spec.last_key < 0 ? argv.size() - 1 : static_cast<size_t>(spec.last_key);
  const size_t step = spec.key_step > 0 ? static_cast<size_t>(spec.key_step) : 1;
  int owner = -1;
  bool several = false;
  for (size_t i = first; i <= last && i < argv.size(); i += step) {
    const int o = map_->OwnerOfKey(argv[i]);
    if (owner < 0) {
      owner = o;
    } else if (o != owner) {
      several = true;
    }
  }
  if (!several) {
    if (owner < 0 || owner == self_) {
      local_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (CheckLink(owner, reply)) Forward(session, owner, argv);
    return true;
  }
  if (spec.cluster.spread == Spread::kSplit) return SplitByOwner(session, spec, argv, reply);
  reply.Error(
      "CROSSSLOT Keys in request don't hash to the same node; keep them together with a "
      "hash tag, e.g. {user1}.a and {user1}.b");
  return true;
}

void ClusterNode::Forward(net::Session& session, int node,
                          std::span<const std::string_view> argv) {
  forwarded_.fetch_add(1, std::memory_order_relaxed);
  net::DeferredReply deferred = net::DeferReply(session);
  const net::Dialect dialect = session.dialect;
  std::string peer = map_->nodes()[static_cast<size_t>(node)].name;
  bus_->Forward(node, dialect, argv,
                [this, deferred, dialect, peer](Result<std::string> result) mutable {
                  std::string bytes;
                  WithBuilder(dialect, &bytes, [&](proto::ReplyBuilder& out) {
                    if (!result.ok()) {
                      down_errors_.fetch_add(1, std::memory_order_relaxed);
                      out.Error("CLUSTERDOWN " + OneLine(result.status().message()));
                      return;
                    }
                    // Relayed as the owner described it, through our client's encoder.
                    Status replayed = cluster::ReplayReply(*result, out);
                    if (!replayed.ok()) {
                      bytes.clear();
                      out.Error("ERR cluster: damaged reply from " + peer + ": " +
                                OneLine(replayed.ToString()));
                    }
                  });
                  deferred.Complete(std::move(bytes));
                });
}

bool ClusterNode::SplitByOwner(net::Session& session, const CommandSpec& spec,
                               std::span<const std::string_view> argv,
                               proto::ReplyBuilder& reply) {
  const Merge merge = spec.cluster.merge;
  // MSET: key value pairs (the table's key step).
  const size_t step = spec.key_step > 1 ? static_cast<size_t>(spec.key_step) : 1;
  if (step == 2 && (argv.size() - 1) % 2 != 0) {
    // A key without its value: executed here, where MSET itself says what is wrong
    // (nothing is split, so nothing is half-done).
    return false;
  }
  // Owner -> positions of its keys in argv, in request order.
  std::map<int, std::vector<size_t>> by_owner;
  for (size_t i = 1; i < argv.size(); i += step) {
    by_owner[map_->OwnerOfKey(argv[i])].push_back(i);
  }
  for (const auto& [owner, positions] : by_owner) {
    if (!CheckLink(owner, reply)) return true;
  }
  split_.fetch_add(1, std::memory_order_relaxed);

  std::vector<int> owners;
  std::vector<std::vector<size_t>> positions;
  std::vector<std::string> names;
  for (auto& [owner, where] : by_owner) {
    owners.push_back(owner);
    positions.push_back(where);
    names.push_back(map_->nodes()[static_cast<size_t>(owner)].name);
  }
  const size_t key_count = (argv.size() - 1) / step;
  const bool resp = session.dialect == net::Dialect::kResp;
  // Every part runs as RESP: these commands mean the same in both dialects, and the
  // merge needs RESP's values (text DEL answers OK/(null), not a count).
  auto merge_fn = [merge, resp, key_count, positions](std::vector<cluster::ReplyValue>& parts,
                                                       proto::ReplyBuilder& out) {
    switch (merge) {
      case Merge::kDelete:
      case Merge::kSum: {
        int64_t sum = 0;
        for (const cluster::ReplyValue& v : parts) sum += v.integer;
        if (merge == Merge::kDelete && !resp) {
          if (sum > 0) {
            out.Ok();
          } else {
            out.Null();
          }
        } else {
          out.Integer(sum);
        }
        return;
      }
      case Merge::kMget: {
        std::vector<const cluster::ReplyValue*> ordered(key_count, nullptr);
        for (size_t p = 0; p < parts.size(); ++p) {
          for (size_t k = 0; k < positions[p].size() && k < parts[p].elements.size(); ++k) {
            ordered[positions[p][k] - 1] = &parts[p].elements[k];
          }
        }
        out.ArrayHeader(key_count);
        for (const cluster::ReplyValue* v : ordered) {
          if (v == nullptr) {
            out.Null();
          } else {
            cluster::EmitReply(*v, out);
          }
        }
        return;
      }
      case Merge::kAllOk:
      case Merge::kKeys:
      case Merge::kNone:
        out.Ok();
        return;
    }
  };
  auto gather = std::make_shared<Gather>(owners.size(), net::DeferReply(session),
                                         session.dialect, names, merge_fn);
  for (size_t p = 0; p < owners.size(); ++p) {
    std::vector<std::string_view> sub{argv[0]};
    for (size_t i : positions[p]) {
      sub.push_back(argv[i]);
      if (step == 2) sub.push_back(argv[i + 1]);
    }
    if (owners[p] == self_) {
      gather->Set(p, ExecuteHere(net::Dialect::kResp, sub));
    } else {
      bus_->Forward(owners[p], net::Dialect::kResp, sub,
                    [gather, p](Result<std::string> result) { gather->Set(p, std::move(result)); });
    }
  }
  return true;
}

void ClusterNode::FanOut(net::Session& session, const CommandSpec& spec,
                         std::span<const std::string_view> argv, proto::ReplyBuilder& reply) {
  const size_t n = map_->nodes().size();
  for (size_t node = 0; node < n; ++node) {
    if (!CheckLink(static_cast<int>(node), reply)) return;
  }
  fanned_out_.fetch_add(1, std::memory_order_relaxed);
  const Merge merge = spec.cluster.merge;
  std::vector<std::string> names;
  for (const cluster::NodeInfo& info : map_->nodes()) names.push_back(info.name);
  auto merge_fn = [merge](std::vector<cluster::ReplyValue>& parts, proto::ReplyBuilder& out) {
    if (merge == Merge::kSum) {
      int64_t sum = 0;
      for (const cluster::ReplyValue& v : parts) sum += v.integer;
      out.Integer(sum);
    } else if (merge == Merge::kKeys) {
      std::vector<const std::string*> keys;
      for (const cluster::ReplyValue& v : parts) {
        for (const cluster::ReplyValue& e : v.elements) keys.push_back(&e.text);
      }
      std::sort(keys.begin(), keys.end(),
                [](const std::string* a, const std::string* b) { return *a < *b; });
      out.ArrayHeader(keys.size());
      for (const std::string* key : keys) out.Bulk(*key);
    } else {
      out.Ok();
    }
  };
  // In the client's dialect: KEYS takes a prefix in the text protocol, a pattern in
  // RESP, and each node must apply the same rule.
  auto gather = std::make_shared<Gather>(n, net::DeferReply(session), session.dialect, names,
                                         merge_fn);
  for (size_t node = 0; node < n; ++node) {
    if (static_cast<int>(node) == self_) {
      gather->Set(node, ExecuteHere(session.dialect, argv));
    } else {
      bus_->Forward(static_cast<int>(node), session.dialect, argv,
                    [gather, node](Result<std::string> result) {
                      gather->Set(node, std::move(result));
                    });
    }
  }
}

void ClusterNode::Scan(net::Session& session, std::span<const std::string_view> argv,
                       proto::ReplyBuilder& reply) {
  const std::string_view text = argv[1];
  uint64_t cursor = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
  const uint64_t node = cursor >> kScanNodeShift;
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      node >= map_->nodes().size()) {
    reply.Error(kInvalidCursorErr);
    return;
  }
  if (!CheckLink(static_cast<int>(node), reply)) return;
  const std::string local_cursor = std::to_string(cursor & kScanLocalMask);
  std::vector<std::string_view> sub(argv.begin(), argv.end());
  sub[1] = local_cursor;
  const uint64_t nodes = map_->nodes().size();
  // [next, [keys...]] from `node`: its cursor made global, and the next node's
  // start when it is done.
  auto merge_fn = [node, nodes](std::vector<cluster::ReplyValue>& parts,
                                proto::ReplyBuilder& out) {
    const cluster::ReplyValue& v = parts[0];
    uint64_t next = 0;
    if (v.kind != cluster::ReplyValue::Kind::kArray || v.elements.size() != 2 ||
        v.elements[0].kind != cluster::ReplyValue::Kind::kBulk ||
        std::from_chars(v.elements[0].text.data(),
                        v.elements[0].text.data() + v.elements[0].text.size(), next)
                .ec != std::errc() ||
        next > kScanLocalMask) {
      out.Error("ERR cluster: unexpected SCAN reply");
      return;
    }
    uint64_t global = 0;
    if (next != 0) {
      global = (node << kScanNodeShift) | next;
    } else if (node + 1 < nodes) {
      global = (node + 1) << kScanNodeShift;
    }
    out.ArrayHeader(2);
    out.Bulk(std::to_string(global));
    cluster::EmitReply(v.elements[1], out);
  };
  const std::vector<std::string> names{map_->nodes()[node].name};
  if (static_cast<int>(node) == self_) {
    // Executed and merged now: nothing to wait for.
    cluster::ReplyValue value;
    Status decoded = cluster::DecodeReply(ExecuteHere(session.dialect, sub), &value);
    if (!decoded.ok()) {
      reply.Error("ERR cluster: " + OneLine(decoded.ToString()));
      return;
    }
    if (value.kind == cluster::ReplyValue::Kind::kError) {
      reply.Error(OneLine(value.text));
      return;
    }
    std::vector<cluster::ReplyValue> parts{std::move(value)};
    merge_fn(parts, reply);
    return;
  }
  auto gather = std::make_shared<Gather>(1, net::DeferReply(session), session.dialect, names,
                                         merge_fn);
  bus_->Forward(static_cast<int>(node), session.dialect, sub,
                [gather](Result<std::string> result) { gather->Set(0, std::move(result)); });
}

}  // namespace memento::daemon
