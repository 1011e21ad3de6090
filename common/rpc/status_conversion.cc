#include "common/rpc/status_conversion.h"

#include "absl/strings/match.h"
#include "google/protobuf/util/time_util.h"

namespace coop::rpc {

absl::Status InvalidArgumentWithViolations(
    absl::string_view message, const std::vector<std::pair<std::string, std::string>>& violations) {
  coop::v1::BadRequest bad_request;
  for (const auto& [field, description] : violations) {
    coop::v1::FieldViolation* violation = bad_request.add_field_violations();
    violation->set_field(field);
    violation->set_description(description);
  }
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  coop::v1::RetryInfo retry;
  *retry.mutable_retry_delay() =
      google::protobuf::util::TimeUtil::MillisecondsToDuration(absl::ToInt64Milliseconds(delay));
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

absl::Status WithResumeCursor(absl::Status status, const std::string& cursor) {
  coop::v1::ResumeInfo resume;
  resume.set_cursor(cursor);
  status.SetPayload(kResumeInfoTypeUrl, absl::Cord(resume.SerializeAsString()));
  return status;
}

coop::v1::ErrorStatus ToErrorStatus(const absl::Status& status) {
  coop::v1::ErrorStatus error;
  error.set_code(static_cast<int32_t>(status.code()));
  error.set_message(std::string(status.message()));
  status.ForEachPayload([&error](absl::string_view type_url, const absl::Cord& value) {
    // Only standard detail types go to clients; internal payloads stay inside.
    if (!absl::StartsWith(type_url, "type.googleapis.com/")) return;
    coop::v1::ErrorDetail* detail = error.add_details();
    detail->set_type_url(std::string(type_url));
    detail->set_value(std::string(value));
  });
  return error;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const coop::v1::ErrorStatus error = ToErrorStatus(status);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), error.message(),
                      error.details_size() > 0 ? error.SerializeAsString() : std::string());
}

}  // namespace coop::rpc
