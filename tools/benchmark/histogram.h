// LatencyHistogram: a log-linear (HDR-style) histogram of latencies in microseconds.
//
// Layout: values below 2^kSubBits (256 µs) each have their own bucket, so they are
// recorded exactly. Above that, each power-of-two range [2^e, 2^(e+1)) is split into
// 2^(kSubBits-1) = 128 equal buckets of width 2^(e-7), so a recorded value is known to
// within 1/128 (< 0.8%) of itself, whatever its size. Values above kMaxValue (about
// 19 hours) are clamped to it. The counts live in a fixed array (30 KiB): Record() is
// a few shifts and an increment, with no allocation.
//
// Percentiles report the highest value the chosen bucket can hold (as HdrHistogram's
// "highest equivalent value"), never more than the largest value recorded, so
// p50 <= p99 <= p99.9 <= max always holds.
//
// Merging adds counts bucket by bucket: each load thread keeps its own histogram and
// the totals are merged once the threads have stopped.
//
// Thread-safety: not thread-safe; one histogram per thread, merged after joining.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace memento::benchmark {

class LatencyHistogram {
 public:
  static constexpr int kSubBits = 8;                              // 256 exact values
  static constexpr int kMaxExponent = 36;                         // 2^36 µs ~ 19 h
  static constexpr uint64_t kMaxValue = (uint64_t{1} << kMaxExponent) - 1;
  static constexpr size_t kExactBuckets = size_t{1} << kSubBits;  // 256
  static constexpr size_t kSubBuckets = kExactBuckets / 2;        // 128 per doubling
  static constexpr size_t kBuckets =
      kExactBuckets + static_cast<size_t>(kMaxExponent - kSubBits) * kSubBuckets;

  LatencyHistogram() { Reset(); }

  // Adds one value (µs). Values above kMaxValue count as kMaxValue.
  void Record(uint64_t micros);
  // Adds every value recorded in `other`.
  void Merge(const LatencyHistogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  // 0 when empty.
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }

  // The value at `percentile` (0 < percentile <= 100): the smallest recorded value v
  // such that at least percentile% of the values are <= v, rounded up to the top of
  // its bucket and capped at max(). 0 when empty.
  uint64_t Percentile(double percentile) const;

  // Bucket arithmetic, exposed for the tests.
  static size_t BucketIndex(uint64_t micros);
  // The largest value that falls into bucket `index`.
  static uint64_t BucketHighest(size_t index);

 private:
  std::array<uint64_t, kBuckets> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
};

}  // namespace memento::benchmark
