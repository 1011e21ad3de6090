#include "common/rpc/status_conversion.h"
#include "gtest/gtest.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {
namespace {

TEST(DescribeRpcErrorTest, ListsEachFieldViolationAfterTheMessage) {
  const grpc::Status status = rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
      "event: 2 invalid fields",
      {{"event.id", "must be a slug"}, {"event.subject", "must name the hub"}}));
  EXPECT_EQ(DescribeRpcError(status),
            "INVALID_ARGUMENT: event: 2 invalid fields; event.id: must be a slug; "
            "event.subject: must name the hub");
}

TEST(DescribeRpcErrorTest, AMessageThatIsItsOneViolationIsNotRepeated) {
  const grpc::Status status = rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
      "cursor: cursor token: malformed", {{"cursor", "cursor token: malformed"}}));
  EXPECT_EQ(DescribeRpcError(status), "INVALID_ARGUMENT: cursor: cursor token: malformed");
}

TEST(DescribeRpcErrorTest, WithoutDetailsItIsCodeAndMessage) {
  EXPECT_EQ(DescribeRpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused")),
            "UNAVAILABLE: connection refused");
}

}  // namespace
}  // namespace coop::ctl
