// absl::Status <-> gRPC status, the one place where that conversion happens.
//
// Codes map one to one (absl and gRPC share the numbers). Rich error details travel as absl
// payloads keyed by their type URL ("type.googleapis.com/google.rpc.BadRequest", ...) and become
// the google.rpc.Status details of the gRPC status (grpc-status-details-bin), so any gRPC client
// reads them with the standard google.rpc types. coop.v1.ErrorStatus, BadRequest and RetryInfo
// are wire-compatible copies of those types.
#ifndef COOP_COMMON_RPC_STATUS_CONVERSION_H_
#define COOP_COMMON_RPC_STATUS_CONVERSION_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coop/v1/errors.pb.h"
#include "grpcpp/support/status.h"

namespace coop::rpc {

inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kRetryInfoTypeUrl[] = "type.googleapis.com/google.rpc.RetryInfo";
inline constexpr char kResumeInfoTypeUrl[] = "type.googleapis.com/coop.v1.ResumeInfo";

// An INVALID_ARGUMENT status listing every (field, description) violation as a BadRequest.
absl::Status InvalidArgumentWithViolations(
    absl::string_view message, const std::vector<std::pair<std::string, std::string>>& violations);

// `status` with a RetryInfo saying when to retry.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// `status` with a ResumeInfo carrying the cursor token to resume a subscription from.
absl::Status WithResumeCursor(absl::Status status, const std::string& cursor);

// The google.rpc.Status form (coop.v1.ErrorStatus) of `status`, details included.
coop::v1::ErrorStatus ToErrorStatus(const absl::Status& status);

// The gRPC status of `status`, details included.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace coop::rpc

#endif  // COOP_COMMON_RPC_STATUS_CONVERSION_H_
