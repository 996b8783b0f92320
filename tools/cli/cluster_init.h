// `memento-cli cluster init HOST:PORT [HOST:PORT ...] [--dir D] [--force]`: writes one
// TOML config per node (node0.toml, node1.toml, ...) for a Memento cluster whose
// nodes are the addresses given, in that order (docs/tools/cli.md#cluster-init).
// Keys are the daemon's own (docs/configuration.md): server.bind, server.port,
// storage.data_dir, cluster.enabled, cluster.name and the [[cluster.nodes]] array.
//
// Pure functions but WriteClusterConfigs (files); thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace memento::cli {

// Each node's cluster bus listens on its client port + this (the daemon's default).
inline constexpr uint16_t kBusPortOffset = 100;

struct NodeAddress {
  std::string host;  // a name, IPv4 or IPv6 literal (without brackets)
  uint16_t port = 0;

  bool operator==(const NodeAddress&) const = default;
};

// "127.0.0.1:7001", "node1.example:7001", "[::1]:7001". InvalidArgument naming the
// text for a missing or bad port (1-65535, its bus port port+100 included), an empty
// host or a host with characters no host name or address has.
Result<NodeAddress> ParseHostPort(std::string_view text);

// Parses every address and checks that they can form one cluster: no address twice,
// and no node's client or bus port equal to another's on the same host.
// InvalidArgument naming the nodes in conflict.
Result<std::vector<NodeAddress>> ParseClusterNodes(const std::vector<std::string>& args);

// The text of node<self>.toml. REQUIRES: self < nodes.size().
std::string RenderNodeConfig(const std::vector<NodeAddress>& nodes, size_t self);

// Writes node0.toml ... into `dir` (created if missing). Refuses, writing nothing,
// if any of those files exists and !overwrite: InvalidArgument naming it. IOError
// naming the file for a failed write. Fills *written with the paths.
Status WriteClusterConfigs(const std::vector<NodeAddress>& nodes, const std::string& dir,
                           bool overwrite, std::vector<std::string>* written);

}  // namespace memento::cli
