#include "common/cursor/cursor_token.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace coop::cursor {
namespace {

using ::testing::HasSubstr;

const LogId kLog{.cluster_id = "cluster-a", .topic = "coop.events"};

TEST(CursorTokenTest, EncodedCursorDecodesToItself) {
  const Cursor cursor{.log = kLog, .next_offsets = {{0, 5}, {3, 17}}};
  absl::StatusOr<Cursor> decoded = DecodeCursor(EncodeCursor(cursor), kLog);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, cursor);
}

TEST(CursorTokenTest, TokenOfAnotherLogIsRejectedNamingBothLogs) {
  const std::string token = EncodePosition(kLog, 0, 1);
  absl::StatusOr<Cursor> decoded =
      DecodeCursor(token, LogId{.cluster_id = "cluster-b", .topic = "coop.events"});
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr("cluster-a"));
  EXPECT_THAT(decoded.status().message(), HasSubstr("cluster-b"));
  // Without an expected log it decodes, naming its own.
  absl::StatusOr<Cursor> any = DecodeCursorOfAnyLog(token);
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->log, kLog);
}

TEST(CursorTokenTest, MergeKeepsTheFurthestOffsetOfEachPartition) {
  absl::StatusOr<std::string> merged = MergeCursors(
      {EncodePosition(kLog, 0, 4), EncodePosition(kLog, 2, 9), EncodePosition(kLog, 0, 1),
       EncodeCursor({.log = kLog, .next_offsets = {{2, 3}, {5, 1}}})});
  ASSERT_TRUE(merged.ok()) << merged.status();
  absl::StatusOr<Cursor> cursor = DecodeCursor(*merged, kLog);
  ASSERT_TRUE(cursor.ok()) << cursor.status();
  EXPECT_EQ(cursor->next_offsets, (std::map<int32_t, int64_t>{{0, 5}, {2, 10}, {5, 1}}));
}

TEST(CursorTokenTest, MergeRefusesNothingGarbageAndMixedLogs) {
  EXPECT_EQ(MergeCursors({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MergeCursors({"not a token"}).status().code(), absl::StatusCode::kInvalidArgument);
  const LogId other{.cluster_id = "cluster-a", .topic = "other.events"};
  absl::StatusOr<std::string> mixed =
      MergeCursors({EncodePosition(kLog, 0, 1), EncodePosition(other, 0, 1)});
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(mixed.status().message(), HasSubstr("other.events"));
}

}  // namespace
}  // namespace coop::cursor
