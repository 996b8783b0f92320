#include "tools/benchmark/workload.h"

#include <algorithm>
#include <cstdio>

namespace memento::benchmark {

namespace {

constexpr std::string_view kFiller = "0123456789abcdefghijklmnopqrstuvwxyz";

void AppendDecimal(uint64_t n, std::string* out) {
  char buf[24];
  const int len = snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(n));
  out->append(buf, static_cast<size_t>(len));
}

void AppendBulk(std::string_view bytes, std::string* out) {
  out->push_back('$');
  AppendDecimal(bytes.size(), out);
  out->append("\r\n");
  out->append(bytes);
  out->append("\r\n");
}

// At most 40 bytes of `bytes`, for messages.
std::string Excerpt(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, 40)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (bytes.size() > 40) out += "...";
  return out;
}

std::string Describe(const Reply& reply) {
  switch (reply.type) {
    case ReplyType::kNil: return "nil";
    case ReplyType::kArray: return "an array of " + std::to_string(reply.elements);
    case ReplyType::kError: return "error '" + Excerpt(reply.text) + "'";
    case ReplyType::kBulk:
    case ReplyType::kLine:
      return std::to_string(reply.text.size()) + " bytes '" + Excerpt(reply.text) + "'";
    default:
      return std::string(ReplyTypeName(reply.type)) + " '" + Excerpt(reply.text) + "'";
  }
}

}  // namespace

std::string_view PhaseName(PhaseKind kind) {
  switch (kind) {
    case PhaseKind::kSet: return "set";
    case PhaseKind::kGet: return "get";
    case PhaseKind::kGrow: return "grow";
    case PhaseKind::kMixed: return "mixed";
  }
  return "?";
}

bool ParsePhaseName(std::string_view name, PhaseKind* kind) {
  for (PhaseKind k : {PhaseKind::kSet, PhaseKind::kGet, PhaseKind::kGrow, PhaseKind::kMixed}) {
    if (name == PhaseName(k)) {
      *kind = k;
      return true;
    }
  }
  return false;
}

void AppendKey(PhaseKind kind, uint64_t index, std::string* out) {
  switch (kind) {
    case PhaseKind::kSet:
    case PhaseKind::kGet:
      out->append(kKeyOne);
      return;
    case PhaseKind::kGrow:
      out->append("mb:grow:");
      AppendDecimal(index, out);
      return;
    case PhaseKind::kMixed: {
      char buf[32];
      const int len =
          snprintf(buf, sizeof(buf), "mb:%012llu", static_cast<unsigned long long>(index));
      out->append(buf, static_cast<size_t>(len));
      return;
    }
  }
}

void AppendValue(std::string_view key, size_t size, std::string* out) {
  const size_t head = std::min(size, key.size());
  out->append(key.substr(0, head));
  if (size == head) return;
  out->push_back(':');
  size_t left = size - head - 1;
  while (left > 0) {
    const size_t n = std::min(left, kFiller.size());
    out->append(kFiller.substr(0, n));
    left -= n;
  }
}

std::string MakeValue(std::string_view key, size_t size) {
  std::string out;
  out.reserve(size);
  AppendValue(key, size, &out);
  return out;
}

bool IsValueOf(std::string_view key, std::string_view value) {
  if (value.empty()) return false;
  const size_t head = std::min(value.size(), key.size());
  if (value.substr(0, head) != key.substr(0, head)) return false;
  if (value.size() == head) return true;
  if (value[head] != ':') return false;
  for (size_t i = head + 1, f = 0; i < value.size(); i++, f++) {
    if (f == kFiller.size()) f = 0;
    if (value[i] != kFiller[f]) return false;
  }
  return true;
}

void AppendSet(Protocol protocol, std::string_view key, std::string_view value,
               std::string* out) {
  if (protocol == Protocol::kText) {
    out->append("SET ");
    out->append(key);
    out->push_back(' ');
    out->append(value);
    out->append("\r\n");
    return;
  }
  out->append("*3\r\n$3\r\nSET\r\n");
  AppendBulk(key, out);
  AppendBulk(value, out);
}

void AppendGet(Protocol protocol, std::string_view key, std::string* out) {
  if (protocol == Protocol::kText) {
    out->append("GET ");
    out->append(key);
    out->append("\r\n");
    return;
  }
  out->append("*2\r\n$3\r\nGET\r\n");
  AppendBulk(key, out);
}

std::string CheckReply(Protocol protocol, Op op, std::string_view key, size_t value_size,
                       bool written, const Reply& reply) {
  if (op == Op::kSet) {
    const ReplyType ok_type = protocol == Protocol::kResp ? ReplyType::kStatus : ReplyType::kLine;
    if (reply.type == ok_type && reply.text == "OK") return "";
    return "SET " + std::string(key) + ": expected OK, got " + Describe(reply);
  }
  const ReplyType value_type = protocol == Protocol::kResp ? ReplyType::kBulk : ReplyType::kLine;
  if (written) {
    if (reply.type == value_type && reply.text.size() == value_size &&
        IsValueOf(key, reply.text)) {
      return "";
    }
    return "GET " + std::string(key) + ": expected the value written (" +
           std::to_string(value_size) + " bytes), got " + Describe(reply);
  }
  if (reply.type == ReplyType::kNil) return "";
  if (reply.type == value_type && IsValueOf(key, reply.text)) return "";
  return "GET " + std::string(key) + ": expected nil or its value (" +
         std::to_string(value_size) + " bytes), got " + Describe(reply);
}

}  // namespace memento::benchmark
