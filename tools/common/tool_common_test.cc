#include "tools/common/tool_common.h"

#include <gtest/gtest.h>

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
