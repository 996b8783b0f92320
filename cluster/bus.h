// Bus: the cluster bus, the nodes' connections to each other (docs/cluster.md; frame
// format docs/formats/cluster-bus.md).
//
// Each node listens on its bus port (host:bus_port from the SlotMap) and dials every
// peer's bus port; requests a node forwards go over the connection it dialled, replies
// come back on it, matched by request id (never by fd), many in flight at once. A
// connection starts with a versioned handshake that carries the sender's name and the
// SlotMap digest: a peer with another digest (another node list) is refused on both
// sides with an error log line naming both nodes and both digests, and not redialled
// faster than the back-off. The handshake then proves, both ways, that the two nodes
// share the cluster secret (a challenge-response over fresh nonces, bus_auth.h; the
// secret never crosses the wire): nodes with different secrets refuse each other the
// same way (PeerStats::auth_failed). With no secret, protected mode lets only loopback
// peers in. Heartbeats keep a silent link honest: no frame for
// link_timeout_ms marks it down and fails its requests in flight.
//
// "Cluster successfully formed" is logged (info) when every peer's link is up (after a
// change from not formed); "Cluster link to <name> (<addr>) lost: <why>" when one goes.
// Down links are redialled with exponential back-off (redial_min_ms .. redial_max_ms).
//
// Forwarded requests are executed, on the receiving node, by the ForwardedExecutor on
// the bus's thread; a batch of requests read together is executed, Commit()ed once
// (the durability barrier: a write is acknowledged only once durable on its owner),
// then answered.
//
// Thread-safety: Forward, IsFormed, LinkUp and Stats from any thread. Start/Stop from
// one controlling thread. Callbacks run on the bus's thread: they must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/slot_map.h"
#include "common/result.h"
#include "common/status.h"
#include "net/server.h"

namespace memento::cluster {

// How a node runs the requests its peers forward to it (the daemon's command layer).
class ForwardedExecutor {
 public:
  virtual ~ForwardedExecutor() = default;
  // Executes one request as if a client speaking `dialect` had sent it (argv non-empty;
  // the views live during the call) and records its reply into *reply with a
  // RecordingReplyBuilder (cluster/reply_record.h). Called on the bus's thread.
  virtual void Execute(net::Dialect dialect, std::span<const std::string_view> argv,
                       std::string* reply) = 0;
  // Called after a batch of Execute calls, before any of their replies is sent. Not
  // OK: each reply of the batch is replaced by an error reply naming the failure.
  virtual Status Commit() = 0;
};

struct BusOptions {
  std::shared_ptr<const SlotMap> map;  // the nodes, their bus ports
  std::string self;                    // this node's name; must be in map
  // A forwarded request not answered in this time fails (the callback gets an error).
  int64_t request_timeout_ms = 2000;
  int64_t heartbeat_interval_ms = 250;
  // No frame at all from a peer on a link for this long: the link is down.
  int64_t link_timeout_ms = 1500;
  int64_t redial_min_ms = 100;
  int64_t redial_max_ms = 2000;
  // Frames larger than this are refused and the link closed (a damaged or hostile
  // peer); must be at least the largest request/reply (values up to 512 MiB).
  uint64_t max_frame_bytes = uint64_t{1} << 30;
  // The shared secret every node of the cluster must hold (the daemon passes
  // cluster.secret, or server.requirepass when that is not set). Empty: the handshake
  // still runs, with an empty key, so a node with a secret and one without refuse each
  // other; it authenticates nothing.
  std::string secret;
  // With an empty secret, accept bus connections from loopback peers only (other peers
  // are logged and closed), as the client port's protected mode does.
  bool protected_mode = true;
};

struct PeerStats {
  std::string name;
  std::string address;      // host:bus_port
  bool link_up = false;     // our dialled link has completed its handshake
  bool mismatch = false;    // the peer's digest differs from ours (last handshake)
  bool auth_failed = false;  // the last handshake with it failed the secret's proof
  int64_t last_heard_ms = 0;  // wall clock of the last frame from it, 0: never
  uint64_t forwarded = 0;   // requests we sent it
  uint64_t failed = 0;      // of which failed (link down, timeout, refused)
  uint64_t served = 0;      // requests it forwarded to us that we executed
};

struct BusStats {
  bool formed = false;
  std::vector<PeerStats> peers;  // every node but self, in map order
};

// Called exactly once per Forward, on the bus's thread: the recorded reply
// (reply_record.h), or an error (IOError: link down, not formed, timed out, peer
// gone; the message says which, naming the peer).
using ForwardCallback = std::function<void(Result<std::string> reply)>;

class Bus {
 public:
  // Binds self's bus port (Busy if in use), starts the bus thread, starts dialling the
  // peers. "*executor" must outlive the Bus.
  static Result<std::unique_ptr<Bus>> Start(BusOptions options, ForwardedExecutor* executor);
  ~Bus();  // Stop()
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  // Closes every link, fails every request in flight (their callbacks run, with an
  // error, before Stop returns) and joins the thread. Idempotent.
  void Stop();

  // Sends a request to node `node` (index in the map; not self) and returns at once.
  // If its link is down the callback fails at once (on the bus thread); otherwise the
  // reply or an error arrives within request_timeout_ms.
  void Forward(int node, net::Dialect dialect, std::span<const std::string_view> argv,
               ForwardCallback done);

  bool IsFormed() const;
  bool LinkUp(int node) const;
  BusStats Stats() const;
  const SlotMap& map() const;
  int self_index() const;

 private:
  class Impl;
  explicit Bus(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace memento::cluster
