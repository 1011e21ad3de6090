#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tools/coopctl/replay_command.h"

namespace coop::ctl {
namespace {

using google::protobuf::util::TimeUtil;

coop::v1::ReplayRequest Range(const char* start, const char* end) {
  coop::v1::ReplayRequest request;
  EXPECT_TRUE(TimeUtil::FromString(start, request.mutable_start_time()));
  EXPECT_TRUE(TimeUtil::FromString(end, request.mutable_end_time()));
  return request;
}

coop::v1::ReplayProgress Reached(const char* time, int64_t delivered, int64_t scanned) {
  coop::v1::ReplayProgress progress;
  EXPECT_TRUE(TimeUtil::FromString(time, progress.mutable_reached_time()));
  progress.set_delivered_count(delivered);
  progress.set_scanned_count(scanned);
  return progress;
}

TEST(ProgressBarTest, FillsByTheTimeReachedWithinTheRange) {
  const coop::v1::ReplayRequest range = Range("2025-01-01T00:00:00Z", "2025-01-11T00:00:00Z");
  EXPECT_EQ(ProgressBar(range, Reached("2025-01-04T00:00:00Z", 120, 300)),
            "[#########.....................] 30%  120 events of 300 read, up to "
            "2025-01-04T00:00:00Z");
  EXPECT_EQ(ProgressBar(range, Reached("2025-01-11T00:00:00Z", 5, 5)).substr(0, 38),
            "[##############################] 100% ");
}

TEST(ProgressBarTest, StaysWithinZeroAndAHundredPercent) {
  const coop::v1::ReplayRequest range = Range("2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z");
  EXPECT_EQ(ProgressBar(range, Reached("2024-12-01T00:00:00Z", 0, 0)).substr(0, 36),
            "[..............................] 0% ");
  EXPECT_EQ(ProgressBar(range, Reached("2026-01-01T00:00:00Z", 0, 0)).substr(0, 38),
            "[##############################] 100% ");
}

}  // namespace
}  // namespace coop::ctl
