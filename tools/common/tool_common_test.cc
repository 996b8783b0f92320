#include "tools/common/tool_common.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>

namespace memento::tools {
namespace {

TEST(ToolCommonTest, WithThousandsGroupsDigits) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
  EXPECT_EQ(WithThousands(12345678), "12,345,678");
}

TEST(ToolCommonTest, ShortCountPicksAUnit) {
  EXPECT_EQ(ShortCount(12), "12");
  EXPECT_EQ(ShortCount(1500), "1.5k");
  EXPECT_EQ(ShortCount(2'300'000), "2.3M");
}

TEST(ToolCommonTest, HumanBytesPicksAUnit) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1), "1 B");
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1000), "1.0 KB");
  EXPECT_EQ(HumanBytes(1049), "1.0 KB");
  EXPECT_EQ(HumanBytes(1050), "1.1 KB");  // half a tenth rounds up
  EXPECT_EQ(HumanBytes(32'768), "32.8 KB");
  EXPECT_EQ(HumanBytes(999'949), "999.9 KB");
  EXPECT_EQ(HumanBytes(999'950), "1.0 MB");  // not "1000.0 KB"
  EXPECT_EQ(HumanBytes(38'149'000), "38.1 MB");
  EXPECT_EQ(HumanBytes(136'708'096), "136.7 MB");
  EXPECT_EQ(HumanBytes(999'950'000), "1.0 GB");
  EXPECT_EQ(HumanBytes(2'300'000'000), "2.3 GB");
  // GB is the largest unit: no overflow at the top of the range.
  EXPECT_EQ(HumanBytes(1'234'500'000'000), "1234.5 GB");
  EXPECT_EQ(HumanBytes(UINT64_MAX), "18446744073.7 GB");
}

TEST(ToolCommonTest, ProgressShowsTheByteRateInHumanUnits) {
  // Forced onto a non-terminal, a plain line per second; small work is in KB/s, not
  // "0.0 MB/s".
  testing::internal::CaptureStderr();
  {
    Progress progress("dump", 0, "keys", ProgressMode::kAlways);
    progress.Update(1, 1);
    usleep(1'100'000);
    progress.Update(10, 2'000);
  }
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("dump  10 keys"), std::string::npos) << err;
  EXPECT_TRUE(err.find(" B/s") != std::string::npos || err.find(" KB/s") != std::string::npos)
      << err;
  EXPECT_EQ(err.find("MB/s"), std::string::npos) << err;
}

TEST(ToolCommonTest, VersionLineNamesTheProgram) {
  const std::string line = VersionLine("memento-dump");
  EXPECT_EQ(line.rfind("memento-dump ", 0), 0u);
  EXPECT_EQ(line.back(), '\n');
}

TEST(ToolCommonTest, ShortWorkDrawsNothing) {
  testing::internal::CaptureStderr();
  {
    Progress progress("dump", 10, "keys", ProgressMode::kAlways);
    for (int i = 0; i < 10; i++) progress.Add(1);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace memento::tools
