// The original Memento's listing commands, kept for its users: VALUES, PREFSCAN,
// FUZZYSCAN and KEYSPACE (docs/protocol.md, "Commands"). The original wrote its
// matches straight to the socket, unframed, in hash-table order; here every reply is
// a block in the text protocol (a count line, then the lines, as KEYS) and an array
// over RESP, sorted bytewise so that it is deterministic and a cluster's fan-out can
// merge the nodes' replies by sorting (ClusterNode's kKeys merge).
//
// As in the original, VALUES, PREFSCAN and FUZZYSCAN list values, not keys. Over the
// text protocol a value holding "\r\n" (written over RESP) breaks the block's framing,
// as it does for GET and MGET: the text protocol is line based.

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/slot_map.h"
#include "daemon/cluster_node.h"
#include "daemon/cmd_context.h"

namespace memento::daemon {
namespace {

// True if the bytes of `pattern` appear in `key` in order, not necessarily next to
// each other (the original's fuzzy search): "usr" matches "user:1". Linear in the key.
bool FuzzyMatch(std::string_view pattern, std::string_view key) {
  size_t p = 0;
  for (size_t k = 0; k < key.size() && p < pattern.size(); ++k) {
    if (key[k] == pattern[p]) ++p;
  }
  return p == pattern.size();
}

// Replies the values of the live keys `matches` accepts, sorted bytewise.
template <typename Match>
void ReplyValuesOf(Context& c, Match matches) {
  std::vector<std::string> values;
  c.table().ForEach(c.now_ms, [&](std::string_view key, const table::Entry& entry) {
    if (matches(key)) values.emplace_back(entry.value);
  });
  std::sort(values.begin(), values.end());
  c.reply.ArrayHeader(values.size());
  for (const std::string& value : values) c.reply.Bulk(value);
}

}  // namespace

void Values(Context& c) {
  ReplyValuesOf(c, [](std::string_view) { return true; });
}

void PrefScan(Context& c) {
  const std::string_view prefix = c.argv[1];
  ReplyValuesOf(c, [prefix](std::string_view key) { return key.starts_with(prefix); });
}

void FuzzyScan(Context& c) {
  const std::string_view pattern = c.argv[1];
  ReplyValuesOf(c, [pattern](std::string_view key) { return FuzzyMatch(pattern, key); });
}

void KeySpace(Context& c) {
  // The original's line, "Keys: <n>\tSpace: <KiB> Kb", with the space now the table's
  // memory estimate (INFO's used_memory; the original divided as integers and always
  // printed .00). In a cluster each node answers for itself and names itself, as the
  // original did: "\t<name>:<host>:<port>".
  char line[96];
  std::snprintf(line, sizeof(line), "Keys: %zu\tSpace: %.2f Kb", c.table().Size(),
                static_cast<double>(c.table().MemoryUsage()) / 1024.0);
  std::string text(line);
  if (const ClusterNode* node = c.commands.cluster(); node != nullptr) {
    const cluster::NodeInfo& self = node->map()->nodes()[static_cast<size_t>(node->self_index())];
    text.append("\t").append(self.name).append(":").append(self.host).append(":");
    text.append(std::to_string(self.port));
  }
  c.reply.ArrayHeader(1);
  c.reply.Bulk(text);
}

}  // namespace memento::daemon
