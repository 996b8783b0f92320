// ClusterNode: the daemon's side of the cluster (docs/cluster.md). It builds the slot
// map from the configuration, runs the bus (cluster/bus.h), and routes requests:
//
//   a key owned here            executed here, as without a cluster;
//   a key owned by a peer       forwarded over the bus, the owner's reply relayed
//                               unchanged (the connection waits: net::DeferReply);
//   several keys, several owners  DEL/UNLINK/EXISTS/MGET/MSET are split by owner, each
//                               part executed where its keys live, the replies merged;
//                               other multi-key commands (RENAME, MSETNX) need all
//                               their keys on one node (CROSSSLOT error otherwise);
//   global commands             FLUSH/FLUSHDB/FLUSHALL, COUNT/DBSIZE, KEYS reach every
//                               node and merge; SCAN walks the nodes one after another
//                               (the node is in the cursor's high 16 bits);
//   anything else               executed here (PING, INFO, CONFIG, CLUSTER ...).
//
// A peer whose link is down (not yet formed, crashed, unreachable, refused for a
// configuration mismatch) makes every request that needs it fail at once with
// "CLUSTERDOWN ..." naming it; a request in flight when it goes fails within the bus's
// request time-out. Nothing that needs it is half-done: a fan-out checks every link
// before sending any part (a link lost between the check and the send can still leave
// a FLUSH or MSET applied on some nodes; the reply then says CLUSTERDOWN).
//
// Requests a peer forwards here are executed by Execute() (cluster::ForwardedExecutor)
// without routing (the sender already did it) and without authentication (the sender
// authenticated its client), on the bus's thread, then made durable by Commit().
//
// Thread-safety: Route() from every event-loop thread; Execute()/Commit() on the bus
// thread; the rest from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cluster/bus.h"
#include "cluster/slot_map.h"
#include "common/result.h"
#include "daemon/config.h"
#include "net/server.h"

namespace memento::daemon {

class Commands;
struct CommandSpec;

struct ClusterCounters {
  uint64_t local = 0;      // key requests executed here
  uint64_t forwarded = 0;  // requests sent whole to a peer
  uint64_t split = 0;      // multi-key requests split over several nodes
  uint64_t fanned_out = 0;  // global requests sent to every node
  uint64_t down_errors = 0;  // CLUSTERDOWN replies
};

class ClusterNode final : public cluster::ForwardedExecutor {
 public:
  // Builds the slot map from config.cluster_nodes (this node: config.node_name) and
  // starts the bus. "*commands" must outlive the node. InvalidArgument names what is
  // wrong with the configuration (no nodes, this node not among them, overlapping
  // ranges...); Busy if the bus port is taken.
  static Result<std::unique_ptr<ClusterNode>> Start(const Config& config, Commands* commands);
  ~ClusterNode() override;  // Stop()
  // Stops the bus: requests in flight fail with CLUSTERDOWN. Idempotent.
  void Stop();

  // Routes one request (after the unknown-command, arity and authentication checks).
  // Returns false if it is to be executed here, as usual; true if it was handled:
  // forwarded, split or fanned out (the reply is deferred), or refused (`reply` holds
  // the error).
  bool Route(net::Session& session, const CommandSpec& spec,
             std::span<const std::string_view> argv, proto::ReplyBuilder& reply);

  // cluster::ForwardedExecutor
  void Execute(net::Dialect dialect, std::span<const std::string_view> argv,
               std::string* reply) override;
  Status Commit() override;

  std::shared_ptr<const cluster::SlotMap> map() const { return map_; }
  int self_index() const { return self_; }
  const std::string& self_name() const;
  cluster::BusStats BusStats() const { return bus_->Stats(); }
  bool formed() const { return bus_->IsFormed(); }
  bool LinkUp(int node) const { return node == self_ || bus_->LinkUp(node); }
  ClusterCounters Counters() const;

 private:
  ClusterNode(Commands* commands, std::shared_ptr<const cluster::SlotMap> map, int self);

  struct Part;
  class Gather;

  // Refuses with CLUSTERDOWN if `node`'s link is down; true if it is up (or self).
  // The error says what happened: the link was lost how long ago, or never came up
  // since this node started (the cluster has not formed yet), and the last failure.
  bool CheckLink(int node, proto::ReplyBuilder& reply);
  void Forward(net::Session& session, int node, std::span<const std::string_view> argv);
  bool SplitByOwner(net::Session& session, const CommandSpec& spec,
                    std::span<const std::string_view> argv, proto::ReplyBuilder& reply);
  void FanOut(net::Session& session, const CommandSpec& spec,
              std::span<const std::string_view> argv, proto::ReplyBuilder& reply);
  void Scan(net::Session& session, std::span<const std::string_view> argv,
            proto::ReplyBuilder& reply);
  // Executes `argv` here in `dialect`, recording the reply.
  std::string ExecuteHere(net::Dialect dialect, std::span<const std::string_view> argv);

  Commands* const commands_;
  std::shared_ptr<const cluster::SlotMap> map_;
  const int self_;
  int64_t started_ms_ = 0;  // wall clock, when Start() started the bus
  std::unique_ptr<cluster::Bus> bus_;

  std::atomic<uint64_t> local_{0};
  std::atomic<uint64_t> forwarded_{0};
  std::atomic<uint64_t> split_{0};
  std::atomic<uint64_t> fanned_out_{0};
  std::atomic<uint64_t> down_errors_{0};
};

// Builds the slot map of `config` (shared with tools and tests). InvalidArgument
// names the problem.
Result<cluster::SlotMap> BuildSlotMap(const Config& config);
// This node's index in `map` (config.node_name); InvalidArgument if unnamed or absent.
Result<int> FindSelf(const cluster::SlotMap& map, const Config& config);

}  // namespace memento::daemon
