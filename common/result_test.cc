#include "common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace memento {
namespace {

Result<int> Parse(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty number");
  return static_cast<int>(text.size());
}

Result<std::unique_ptr<std::string>> Box(std::string_view text) {
  if (text == "no") return Status::NotFound("no box for 'no'");
  return std::make_unique<std::string>(text);
}

int evaluations = 0;
Result<int> Counted(int value) {
  ++evaluations;
  return value;
}

// Declares the variable, in a function returning Result<U> of another type.
Result<std::string> Twice(std::string_view text) {
  MEMENTO_ASSIGN_OR_RETURN(int n, Parse(text));
  return std::to_string(n * 2);
}

// Assigns an existing variable, in a function returning Status; two uses in one scope.
Status Sum(std::string_view a, std::string_view b, int* out) {
  int total = 0;
  MEMENTO_ASSIGN_OR_RETURN(total, Parse(a));
  MEMENTO_ASSIGN_OR_RETURN(const int second, Parse(b));
  *out = total + second;
  return Status::OK();
}

// Moves a move-only value out.
Result<size_t> BoxedSize(std::string_view text) {
  MEMENTO_ASSIGN_OR_RETURN(std::unique_ptr<std::string> box, Box(text));
  return box->size();
}

TEST(AssignOrReturnTest, AssignsTheValue) {
  Result<std::string> r = Twice("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "6");
  int sum = -1;
  ASSERT_TRUE(Sum("ab", "cde", &sum).ok());
  EXPECT_EQ(sum, 5);
  Result<size_t> size = BoxedSize("four");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 4u);
}

TEST(AssignOrReturnTest, ReturnsTheErrorUnchanged) {
  Result<std::string> r = Twice("");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "empty number");

  int sum = -1;
  Status s = Sum("ab", "", &sum);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(sum, -1) << "nothing after the failing line ran";

  Result<size_t> size = BoxedSize("no");
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(size.status().IsNotFound());
  EXPECT_EQ(size.status().message(), "no box for 'no'");
}

TEST(AssignOrReturnTest, EvaluatesTheExpressionOnce) {
  auto run = []() -> Status {
    MEMENTO_ASSIGN_OR_RETURN(int v, Counted(7));
    return v == 7 ? Status::OK() : Status::Corruption("wrong value");
  };
  evaluations = 0;
  EXPECT_TRUE(run().ok());
  EXPECT_EQ(evaluations, 1);
}

}  // namespace
}  // namespace memento
