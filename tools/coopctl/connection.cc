#include "tools/coopctl/connection.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/rpc/status_conversion.h"
#include "coop/v1/errors.pb.h"
#include "google/protobuf/util/time_util.h"

namespace coop::ctl {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  if (!file || !(text << file.rdbuf())) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const ConnectionOptions& options) {
  if (options.address.empty()) return absl::InvalidArgumentError("the server address is empty");
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls || !options.tls_ca.empty() || !options.tls_cert.empty() ||
      !options.tls_key.empty()) {
    if (options.tls_cert.empty() != options.tls_key.empty()) {
      return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
    }
    grpc::SslCredentialsOptions ssl;
    if (!options.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadPem(options.tls_ca, "tls_ca");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!options.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "tls_cert");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(options.tls_key, "tls_key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  return grpc::CreateChannel(options.address, credentials);
}

void PrepareContext(const ConnectionOptions& options, grpc::ClientContext& context) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + options.timeout));
  Authorize(options, context);
}

void Authorize(const ConnectionOptions& options, grpc::ClientContext& context) {
  if (!options.token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options.token));
  }
}

CancelOnStop::CancelOnStop(grpc::ClientContext& context, const std::atomic<bool>& stop)
    : watcher_([this, &context, &stop] {
        while (!done_.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
          if (stop.load()) {
            context.TryCancel();
            return;
          }
        }
      }) {}

CancelOnStop::~CancelOnStop() {
  done_.Notify();
  watcher_.join();
}

absl::StatusOr<google::protobuf::Timestamp> ParseRfc3339(absl::string_view text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(error);
  }
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(time));
}

absl::StatusOr<google::protobuf::Timestamp> TimeFlag(absl::string_view flag,
                                                     absl::string_view text) {
  absl::StatusOr<google::protobuf::Timestamp> time = ParseRfc3339(text);
  if (!time.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", flag, ": '", text,
        "' is not an RFC 3339 time (e.g. 2025-09-10T00:00:00Z): ", time.status().message()));
  }
  return time;
}

std::string DescribeRpcError(const grpc::Status& status) {
  std::string text =
      absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                   ": ", status.error_message());
  coop::v1::ErrorStatus details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return text;
  }
  for (const coop::v1::ErrorDetail& detail : details.details()) {
    if (detail.type_url() != rpc::kBadRequestTypeUrl) continue;
    coop::v1::BadRequest bad_request;
    if (!bad_request.ParseFromString(detail.value())) continue;
    for (const auto& violation : bad_request.field_violations()) {
      const std::string line = absl::StrCat(violation.field(), ": ", violation.description());
      // A message that is its one violation already says it.
      if (status.error_message() == line) continue;
      absl::StrAppend(&text, "; ", line);
    }
  }
  return text;
}

absl::Status FromRpcError(const grpc::Status& status, const std::string& context) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(context, ": ", DescribeRpcError(status)));
}

}  // namespace coop::ctl
