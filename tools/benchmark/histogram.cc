#include "tools/benchmark/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace memento::benchmark {

// Index layout (kSubBits = 8):
//   [0, 256)                values 0..255, one each
//   256 + (b-1)*128 + s     values in [2^(b+7), 2^(b+8)), b >= 1, bucket width 2^b:
//                           s = (v >> b) - 128, in [0, 128)
size_t LatencyHistogram::BucketIndex(uint64_t micros) {
  const uint64_t v = std::min(micros, kMaxValue);
  if (v < kExactBuckets) return static_cast<size_t>(v);
  const int exponent = std::bit_width(v) - 1;  // >= kSubBits
  const int shift = exponent - (kSubBits - 1);  // >= 1: the bucket width is 2^shift
  const uint64_t sub = (v >> shift) - kSubBuckets;
  // Invariant: v >> shift has exactly kSubBits bits, so sub is in [0, kSubBuckets).
  assert(sub < kSubBuckets);
  return kExactBuckets + static_cast<size_t>(shift - 1) * kSubBuckets +
         static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::BucketHighest(size_t index) {
  if (index < kExactBuckets) return index;
  const size_t rel = index - kExactBuckets;
  const int shift = static_cast<int>(rel / kSubBuckets) + 1;
  const uint64_t sub = rel % kSubBuckets + kSubBuckets;
  return ((sub + 1) << shift) - 1;
}

void LatencyHistogram::Record(uint64_t micros) {
  const uint64_t v = std::min(micros, kMaxValue);
  counts_[BucketIndex(v)]++;
  if (count_ == 0 || v < min_) min_ = v;
  if (v > max_) max_ = v;
  count_++;
  sum_ += v;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBuckets; i++) counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Reset() {
  counts_.fill(0);
  count_ = 0;
  sum_ = 0;
  min_ = 0;
  max_ = 0;
}

uint64_t LatencyHistogram::Percentile(double percentile) const {
  if (count_ == 0) return 0;
  const double clamped = std::clamp(percentile, 0.0, 100.0);
  // The rank of the value asked for, 1-based: at least 1, at most count_. The
  // epsilon keeps 99.9% of 1000 at rank 999 although 99.9 / 100 * 1000 is a hair
  // above 999 in binary floating point.
  auto rank = static_cast<uint64_t>(
      std::ceil(clamped / 100.0 * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; i++) {
    seen += counts_[i];
    if (seen >= rank) return std::min(BucketHighest(i), max_);
  }
  return max_;  // not reached: the counts add up to count_
}

}  // namespace memento::benchmark
