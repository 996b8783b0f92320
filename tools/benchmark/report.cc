#include "tools/benchmark/report.h"

#include <cinttypes>
#include <cstdio>

#include "common/version.h"
#include "tools/common/tool_common.h"

namespace memento::benchmark {

namespace {

std::string Ms(uint64_t micros) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.3f", static_cast<double>(micros) / 1000.0);
  return buf;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Plural(uint64_t n, const char* word) {
  return tools::WithThousands(n) + " " + word + (n == 1 ? "" : "s");
}

}  // namespace

std::string DescribeConfig(const LoadConfig& config) {
  std::string out = config.host + ":" + std::to_string(config.port) + ", " +
                    (config.protocol == Protocol::kResp ? "RESP2" : "text protocol") + ", " +
                    Plural(static_cast<uint64_t>(config.threads), "thread") + ", " +
                    Plural(static_cast<uint64_t>(config.connections), "connection") +
                    ", pipeline " + std::to_string(config.pipeline) + ", ";
  if (config.duration_s > 0) {
    out += Fixed(config.duration_s, 1) + " s per phase";
  } else {
    out += tools::WithThousands(config.requests) + " requests per phase";
  }
  out += ", " + std::to_string(config.value_size) + "-byte values, keyspace " +
         tools::WithThousands(config.keyspace) + ", SET:GET " +
         std::to_string(config.set_ratio) + ":" + std::to_string(config.get_ratio);
  return out;
}

std::string FormatTable(const std::vector<PhaseResult>& phases) {
  std::string out;
  char line[256];
  snprintf(line, sizeof(line), "%-6s %12s %8s %12s %9s %9s %9s %9s\n", "phase", "requests",
           "errors", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms");
  out += line;
  for (const PhaseResult& p : phases) {
    snprintf(line, sizeof(line), "%-6s %12s %8s %12s %9s %9s %9s %9s\n",
             std::string(PhaseName(p.kind)).c_str(), tools::WithThousands(p.replies).c_str(),
             tools::WithThousands(p.errors).c_str(),
             tools::WithThousands(static_cast<uint64_t>(p.ops_per_sec() + 0.5)).c_str(),
             Ms(p.latency.Percentile(50)).c_str(), Ms(p.latency.Percentile(99)).c_str(),
             Ms(p.latency.Percentile(99.9)).c_str(), Ms(p.latency.max()).c_str());
    out += line;
  }
  return out;
}

std::string FormatCsv(const std::vector<PhaseResult>& phases) {
  std::string out =
      "phase,requests,errors,seconds,ops_per_sec,p50_us,p99_us,p999_us,max_us,mean_us\n";
  char line[256];
  for (const PhaseResult& p : phases) {
    snprintf(line, sizeof(line),
             "%s,%" PRIu64 ",%" PRIu64 ",%.6f,%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
             ",%" PRIu64 ",%.1f\n",
             std::string(PhaseName(p.kind)).c_str(), p.replies, p.errors, p.seconds,
             p.ops_per_sec(), p.latency.Percentile(50), p.latency.Percentile(99),
             p.latency.Percentile(99.9), p.latency.max(), p.latency.mean());
    out += line;
  }
  return out;
}

std::string FormatJson(const LoadConfig& config, const std::vector<PhaseResult>& phases) {
  uint64_t errors = 0;
  for (const PhaseResult& p : phases) errors += p.errors;
  std::string out = "{\"tool\":\"memento-benchmark\",\"version\":" + JsonString(kVersion);
  out += ",\"config\":{\"host\":" + JsonString(config.host) +
         ",\"port\":" + std::to_string(config.port) + ",\"protocol\":" +
         JsonString(config.protocol == Protocol::kResp ? "resp" : "text") +
         ",\"threads\":" + std::to_string(config.threads) +
         ",\"connections\":" + std::to_string(config.connections) +
         ",\"pipeline\":" + std::to_string(config.pipeline) +
         ",\"requests\":" + (config.duration_s > 0 ? "null" : std::to_string(config.requests)) +
         ",\"duration_s\":" + (config.duration_s > 0 ? Fixed(config.duration_s, 3) : "null") +
         ",\"keyspace\":" + std::to_string(config.keyspace) +
         ",\"value_size\":" + std::to_string(config.value_size) + ",\"ratio\":" +
         JsonString(std::to_string(config.set_ratio) + ":" + std::to_string(config.get_ratio)) +
         "}";
  out += ",\"phases\":[";
  for (size_t i = 0; i < phases.size(); i++) {
    const PhaseResult& p = phases[i];
    if (i != 0) out += ",";
    out += "{\"phase\":" + JsonString(PhaseName(p.kind)) +
           ",\"requests\":" + std::to_string(p.replies) +
           ",\"errors\":" + std::to_string(p.errors) + ",\"sets\":" + std::to_string(p.sets) +
           ",\"gets\":" + std::to_string(p.gets) +
           ",\"get_misses\":" + std::to_string(p.get_misses) +
           ",\"seconds\":" + Fixed(p.seconds, 6) + ",\"ops_per_sec\":" +
           Fixed(p.ops_per_sec(), 1) + ",\"latency_us\":{\"p50\":" +
           std::to_string(p.latency.Percentile(50)) +
           ",\"p99\":" + std::to_string(p.latency.Percentile(99)) +
           ",\"p99_9\":" + std::to_string(p.latency.Percentile(99.9)) +
           ",\"max\":" + std::to_string(p.latency.max()) +
           ",\"mean\":" + Fixed(p.latency.mean(), 1) + "},\"error_samples\":[";
    for (size_t j = 0; j < p.error_samples.size(); j++) {
      if (j != 0) out += ",";
      out += JsonString(p.error_samples[j]);
    }
    out += "]}";
  }
  out += "],\"errors\":" + std::to_string(errors) + "}\n";
  return out;
}

}  // namespace memento::benchmark
