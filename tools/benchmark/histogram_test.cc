#include "tools/benchmark/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace memento::benchmark {
namespace {

// The exact percentile of `values` by the same definition (smallest v with at least
// p% of the values <= v).
uint64_t ExactPercentile(std::vector<uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

TEST(LatencyHistogramTest, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.Percentile(99.9), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; v++) h.Record(v);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.Percentile(50), 50u);
  EXPECT_EQ(h.Percentile(99), 99u);
  EXPECT_EQ(h.Percentile(99.9), 100u);
  EXPECT_EQ(h.Percentile(100), 100u);
  EXPECT_EQ(h.Percentile(1), 1u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 100u);
  EXPECT_DOUBLE_EQ(h.mean(), 50.5);
}

TEST(LatencyHistogramTest, SingleValueIsEveryPercentile) {
  LatencyHistogram h;
  h.Record(123'456);
  EXPECT_EQ(h.Percentile(50), 123'456u);  // capped at the max, which is exact
  EXPECT_EQ(h.Percentile(99.9), 123'456u);
  EXPECT_EQ(h.max(), 123'456u);
}

TEST(LatencyHistogramTest, BucketsCoverEveryValueWithBoundedError) {
  // Every value falls in a bucket whose highest value is >= it and within 1/128.
  uint64_t previous_index = 0;
  for (uint64_t v = 0; v < 1'000'000; v += (v < 4096 ? 1 : 97)) {
    const size_t index = LatencyHistogram::BucketIndex(v);
    ASSERT_LT(index, LatencyHistogram::kBuckets);
    ASSERT_GE(index, previous_index) << v;  // monotonic
    previous_index = index;
    const uint64_t high = LatencyHistogram::BucketHighest(index);
    ASSERT_GE(high, v);
    ASSERT_LE(static_cast<double>(high - v), static_cast<double>(v) / 128.0) << v;
  }
  // The boundaries: the top of each bucket is the value just below the next one's.
  for (size_t i = 0; i + 1 < LatencyHistogram::kBuckets; i++) {
    ASSERT_EQ(LatencyHistogram::BucketIndex(LatencyHistogram::BucketHighest(i)), i);
    ASSERT_EQ(LatencyHistogram::BucketIndex(LatencyHistogram::BucketHighest(i) + 1), i + 1);
  }
  EXPECT_EQ(LatencyHistogram::BucketIndex(LatencyHistogram::kMaxValue),
            LatencyHistogram::kBuckets - 1);
}

TEST(LatencyHistogramTest, HugeValuesAreClamped) {
  LatencyHistogram h;
  h.Record(UINT64_MAX);
  EXPECT_EQ(h.max(), LatencyHistogram::kMaxValue);
  EXPECT_EQ(h.Percentile(50), LatencyHistogram::kMaxValue);
}

TEST(LatencyHistogramTest, PercentilesOfASkewedDistributionAreWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(5.0, 1.2);  // median ~150 µs, long tail
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200'000; i++) {
    const auto v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const uint64_t exact = ExactPercentile(values, p);
    const uint64_t got = h.Percentile(p);
    EXPECT_GE(got, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(got - exact), static_cast<double>(exact) / 128.0 + 1)
        << "p" << p;
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_LE(h.Percentile(50), h.Percentile(99));
  EXPECT_LE(h.Percentile(99), h.Percentile(99.9));
  EXPECT_LE(h.Percentile(99.9), h.max());
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(7);
  LatencyHistogram a;
  LatencyHistogram b;
  LatencyHistogram all;
  for (int i = 0; i < 50'000; i++) {
    const uint64_t v = rng() % 100'000;
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  LatencyHistogram merged;
  merged.Merge(a);
  merged.Merge(b);
  merged.Merge(LatencyHistogram());  // merging an empty one changes nothing
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p : {1.0, 50.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.Percentile(p), all.Percentile(p)) << "p" << p;
  }
}

TEST(LatencyHistogramTest, TailPercentileOfAThousandIsTheRightRank) {
  // 999 fast values and one slow one: p99.9 is the 999th value (fast), not the slow one.
  LatencyHistogram h;
  for (int i = 0; i < 999; i++) h.Record(10);
  h.Record(50'000);
  EXPECT_EQ(h.Percentile(99.9), 10u);
  EXPECT_EQ(h.Percentile(100), 50'000u);
  EXPECT_EQ(h.max(), 50'000u);
}

}  // namespace
}  // namespace memento::benchmark
