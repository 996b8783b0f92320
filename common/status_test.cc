#include "common/status.h"

#include <gtest/gtest.h>

#include "common/result.h"

namespace memento {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status s = Status::InvalidArgument("server.port: expected an integer");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "server.port: expected an integer");
  EXPECT_EQ(s.ToString(), "Invalid argument: server.port: expected an integer");
}

TEST(StatusTest, CopyIsIndependent) {
  Status a = Status::Busy("port taken");
  Status b = a;
  a = Status::OK();
  EXPECT_TRUE(a.ok());
  EXPECT_TRUE(b.IsBusy());
  EXPECT_EQ(b.message(), "port taken");
}

TEST(StatusTest, FromErrnoAppendsStrerror) {
  Status s = Status::FromErrno("open ./data/LOCK", ENOENT);
  EXPECT_TRUE(s.IsIOError());
  EXPECT_EQ(s.message(), "open ./data/LOCK: No such file or directory");
}

Status FailsWhen(bool fail) {
  MEMENTO_RETURN_IF_ERROR(fail ? Status::IOError("boom") : Status::OK());
  return Status::NotFound("reached the end");
}

TEST(StatusTest, ReturnIfErrorPropagates) {
  EXPECT_TRUE(FailsWhen(true).IsIOError());
  EXPECT_TRUE(FailsWhen(false).IsNotFound());
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<int> good = 7;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  Result<int> bad = Status::Corruption("bad crc at offset 12");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsCorruption());
}

}  // namespace
}  // namespace memento
