#include "tools/cli/cluster_init.h"

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>

namespace memento::cli {
namespace {

bool HostByteOk(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
}

std::string NodeName(size_t i) { return "node" + std::to_string(i); }

std::string Show(const NodeAddress& a) {
  if (a.host.find(':') != std::string::npos) return "[" + a.host + "]:" + std::to_string(a.port);
  return a.host + ":" + std::to_string(a.port);
}

// Comments start in column 27, as in docs/tools/cli.md's example.
std::string PadTo26(std::string line) {
  line.append(line.size() < 26 ? 26 - line.size() : 1, ' ');
  return line;
}

}  // namespace

Result<NodeAddress> ParseHostPort(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  NodeAddress out;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("bad node address " + quoted +
                                     ": an IPv6 address is written [ADDR]:PORT");
    }
    out.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("bad node address " + quoted + ": expected HOST:PORT");
    }
    out.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      return Status::InvalidArgument("bad node address " + quoted +
                                     ": write an IPv6 address as [ADDR]:PORT");
    }
  }
  if (out.host.empty()) {
    return Status::InvalidArgument("bad node address " + quoted + ": the host is empty");
  }
  for (char c : out.host) {
    if (!HostByteOk(c)) {
      return Status::InvalidArgument("bad node address " + quoted + ": the host holds '" +
                                     std::string(1, c) +
                                     "' (letters, digits, '.', '-', '_' and ':' only)");
    }
  }
  uint32_t port = 0;
  bool digits_ok = !port_text.empty() && port_text.size() <= 5 && port_text[0] != '0';
  for (char c : port_text) {
    if (c < '0' || c > '9') digits_ok = false;
    port = port * 10 + static_cast<uint32_t>(c - '0');
  }
  if (!digits_ok || port < 1 || port + kBusPortOffset > 65535) {
    return Status::InvalidArgument("bad node address " + quoted + ": the port must be 1-" +
                                   std::to_string(65535 - kBusPortOffset) +
                                   " (its cluster bus uses port + " +
                                   std::to_string(kBusPortOffset) + ")");
  }
  out.port = static_cast<uint16_t>(port);
  return out;
}

Result<std::vector<NodeAddress>> ParseClusterNodes(const std::vector<std::string>& args) {
  if (args.empty()) {
    return Status::InvalidArgument("cluster init needs at least one HOST:PORT");
  }
  std::vector<NodeAddress> nodes;
  // (host, port) -> which node uses it and for what.
  std::map<std::pair<std::string, uint16_t>, std::string> used;
  for (size_t i = 0; i < args.size(); i++) {
    Result<NodeAddress> node = ParseHostPort(args[i]);
    if (!node.ok()) return node.status();
    const std::string name = NodeName(i);
    const std::pair<std::string, uint16_t> client{node->host, node->port};
    const std::pair<std::string, uint16_t> bus{node->host,
                                               static_cast<uint16_t>(node->port + kBusPortOffset)};
    for (const auto& [key, what] :
         {std::pair{client, name + "'s client port"}, std::pair{bus, name + "'s bus port"}}) {
      auto it = used.find(key);
      if (it != used.end()) {
        return Status::InvalidArgument(
            "name collision: " + what + " " + Show({key.first, key.second}) + " is also " +
            it->second + " (every node needs its own port and port + " +
            std::to_string(kBusPortOffset) + " on its host)");
      }
    }
    used[client] = name + "'s client port";
    used[bus] = name + "'s bus port";
    nodes.push_back(std::move(*node));
  }
  return nodes;
}

std::string RenderNodeConfig(const std::vector<NodeAddress>& nodes, size_t self) {
  const std::string name = NodeName(self);
  std::string out;
  out += "# " + name + " of a " + std::to_string(nodes.size()) +
         "-node Memento cluster, written by `memento-cli cluster init`.\n";
  out += "# Start it with: memento -f " + name + ".toml  (data_dir is relative to memento's\n";
  out += "# working directory; docs/configuration.md lists every key).\n";
  out += "[server]\n";
  out += "bind = \"" + nodes[self].host + "\"\n";
  out += "port = " + std::to_string(nodes[self].port) + "\n";
  out += "[storage]\n";
  out += "data_dir = \"./data-" + name + "\"\n";
  out += "[cluster]\n";
  out += "enabled = true\n";
  out += PadTo26("name = \"" + name + "\"") + "# this node\n";
  for (size_t i = 0; i < nodes.size(); i++) {
    out += "[[cluster.nodes]]\n";
    out += "name = \"" + NodeName(i) + "\"\n";
    out += "host = \"" + nodes[i].host + "\"\n";
    out += PadTo26("port = " + std::to_string(nodes[i].port)) +
           "# client port; bus_port defaults to port + 100\n";
  }
  return out;
}

Status WriteClusterConfigs(const std::vector<NodeAddress>& nodes, const std::string& dir,
                           bool overwrite, std::vector<std::string>* written) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> paths;
  for (size_t i = 0; i < nodes.size(); i++) {
    paths.push_back((fs::path(dir) / (NodeName(i) + ".toml")).string());
    if (!overwrite && fs::exists(paths.back(), ec)) {
      return Status::InvalidArgument("name collision: " + paths.back() +
                                     " already exists (remove it, pick another --dir, or "
                                     "pass --force to overwrite)");
    }
  }
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("create directory " + dir + ": " + ec.message());
  for (size_t i = 0; i < nodes.size(); i++) {
    const std::string text = RenderNodeConfig(nodes, i);
    const std::string tmp = paths[i] + ".tmp";
    FILE* f = fopen(tmp.c_str(), "w");
    if (f == nullptr) return Status::FromErrno("open " + tmp, errno);
    const bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
    const int close_errno = fclose(f) == 0 ? 0 : errno;
    if (!ok || close_errno != 0) {
      std::remove(tmp.c_str());
      return Status::FromErrno("write " + tmp, ok ? close_errno : EIO);
    }
    fs::rename(tmp, paths[i], ec);
    if (ec) return Status::IOError("rename " + tmp + " to " + paths[i] + ": " + ec.message());
    written->push_back(paths[i]);
  }
  return Status::OK();
}

}  // namespace memento::cli
