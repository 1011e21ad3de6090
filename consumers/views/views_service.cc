#include "consumers/views/views_service.h"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/scope.h"
#include "common/rpc/status_conversion.h"
#include "common/status_macros.h"

namespace coop::views {
namespace {

absl::Time DeadlineOf(const grpc::ServerContext& context, absl::Duration fallback) {
  const auto deadline = context.deadline();
  if (deadline == std::chrono::system_clock::time_point::max()) return absl::Now() + fallback;
  return absl::FromChrono(deadline);
}

absl::Status CheckMinPosition(absl::string_view min_position, const cursor::LogId& log) {
  if (min_position.empty()) return absl::OkStatus();
  absl::StatusOr<cursor::Cursor> decoded = cursor::DecodeCursor(min_position, log);
  if (decoded.ok()) return absl::OkStatus();
  return rpc::InvalidArgumentWithViolations(
      absl::StrCat("min_position: ", decoded.status().message()),
      {{"min_position", std::string(decoded.status().message())}});
}

// as_of, when set: a valid instant not after now. Returns the instant, or nullopt when unset.
absl::StatusOr<std::optional<absl::Time>> AsOf(const google::protobuf::Timestamp* as_of) {
  if (as_of == nullptr) return std::nullopt;
  // google.protobuf.Timestamp's range; nanos 0..999,999,999.
  if (as_of->seconds() < -62'135'596'800 || as_of->seconds() > 253'402'300'799 ||
      as_of->nanos() < 0 || as_of->nanos() > 999'999'999) {
    return rpc::InvalidArgumentWithViolations(
        "as_of is not a valid timestamp",
        {{"as_of", absl::StrCat("must be a valid timestamp; got seconds ", as_of->seconds(),
                                " nanos ", as_of->nanos())}});
  }
  const absl::Time time =
      absl::FromUnixSeconds(as_of->seconds()) + absl::Nanoseconds(as_of->nanos());
  const absl::Time now = absl::Now();
  if (time > now) {
    return rpc::InvalidArgumentWithViolations(
        "as_of is in the future",
        {{"as_of", absl::StrCat("must not be in the future; got ",
                                absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone()),
                                ", server time ",
                                absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone()))}});
  }
  return time;
}

}  // namespace

ViewsService::ViewsService(ViewSource& source, const auth::Authenticator& authenticator,
                           ViewsServiceOptions options)
    : source_(source), authenticator_(authenticator), options_(std::move(options)) {}

template <typename Request, typename Response>
absl::Status ViewsService::Answer(
    grpc::ServerContext& context, const Request& request, Response& response,
    absl::FunctionRef<absl::StatusOr<Response>(sql::Connection&)> query) {
  COOP_ASSIGN_OR_RETURN(const auth::Principal principal, authenticator_.Authenticate(context));
  if (!principal.subscribe.has_value()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "principal '", principal.id, "' may not read the views: it has no subscribe scope"));
  }
  // Bad requests fail before the wait for min_position.
  COOP_RETURN_IF_ERROR(Validate(request));
  COOP_RETURN_IF_ERROR(CheckMinPosition(request.min_position(), source_.log()));
  const google::protobuf::Timestamp* as_of_field = nullptr;
  if constexpr (requires { request.as_of(); }) {
    if (request.has_as_of()) as_of_field = &request.as_of();
  }
  COOP_ASSIGN_OR_RETURN(const std::optional<absl::Time> as_of, AsOf(as_of_field));
  return source_.Read(request.min_position(), DeadlineOf(context, options_.default_wait), as_of,
                      [&](sql::Connection& connection) -> absl::Status {
                        COOP_ASSIGN_OR_RETURN(Response answer, query(connection));
                        COOP_ASSIGN_OR_RETURN(std::string cursor,
                                              AppliedCursor(connection, source_.log()));
                        answer.set_cursor(std::move(cursor));
                        response = std::move(answer);
                        return absl::OkStatus();
                      });
}

absl::Status ViewsService::AuthorizeOperator(grpc::ServerContext& context) const {
  COOP_ASSIGN_OR_RETURN(const auth::Principal principal, authenticator_.Authenticate(context));
  if (!principal.is_operator) {
    return absl::PermissionDeniedError(absl::StrCat(
        "principal '", principal.id, "' is not an operator: rebuilds need the operator role"));
  }
  return absl::OkStatus();
}

grpc::Status ViewsService::GetAgreement(grpc::ServerContext* context,
                                        const coop::v1::GetAgreementRequest* request,
                                        coop::v1::GetAgreementResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::GetAgreementRequest, coop::v1::GetAgreementResponse>(
      *context, *request, *response,
      [&](sql::Connection& connection) { return views::GetAgreement(connection, *request); }));
}

grpc::Status ViewsService::ListAgreements(grpc::ServerContext* context,
                                          const coop::v1::ListAgreementsRequest* request,
                                          coop::v1::ListAgreementsResponse* response) {
  return rpc::ToGrpcStatus(
      Answer<coop::v1::ListAgreementsRequest, coop::v1::ListAgreementsResponse>(
          *context, *request, *response, [&](sql::Connection& connection) {
            return views::ListAgreements(connection, *request, options_.limits);
          }));
}

grpc::Status ViewsService::GetHub(grpc::ServerContext* context,
                                  const coop::v1::GetHubRequest* request,
                                  coop::v1::GetHubResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::GetHubRequest, coop::v1::GetHubResponse>(
      *context, *request, *response,
      [&](sql::Connection& connection) { return views::GetHub(connection, *request); }));
}

grpc::Status ViewsService::ListHubs(grpc::ServerContext* context,
                                    const coop::v1::ListHubsRequest* request,
                                    coop::v1::ListHubsResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::ListHubsRequest, coop::v1::ListHubsResponse>(
      *context, *request, *response, [&](sql::Connection& connection) {
        return views::ListHubs(connection, *request, options_.limits);
      }));
}

grpc::Status ViewsService::ListTradeRows(grpc::ServerContext* context,
                                         const coop::v1::ListTradeRowsRequest* request,
                                         coop::v1::ListTradeRowsResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::ListTradeRowsRequest, coop::v1::ListTradeRowsResponse>(
      *context, *request, *response, [&](sql::Connection& connection) {
        return views::ListTradeRows(connection, *request, options_.limits);
      }));
}

grpc::Status ViewsService::GetRegion(grpc::ServerContext* context,
                                     const coop::v1::GetRegionRequest* request,
                                     coop::v1::GetRegionResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::GetRegionRequest, coop::v1::GetRegionResponse>(
      *context, *request, *response,
      [&](sql::Connection& connection) { return views::GetRegion(connection, *request); }));
}

grpc::Status ViewsService::ListRegions(grpc::ServerContext* context,
                                       const coop::v1::ListRegionsRequest* request,
                                       coop::v1::ListRegionsResponse* response) {
  return rpc::ToGrpcStatus(Answer<coop::v1::ListRegionsRequest, coop::v1::ListRegionsResponse>(
      *context, *request, *response,
      [&](sql::Connection& connection) { return views::ListRegions(connection, *request); }));
}

grpc::Status ViewsService::ListTimeline(grpc::ServerContext* context,
                                        const coop::v1::ListTimelineRequest* request,
                                        coop::v1::ListTimelineResponse* response) {
  // The timeline shows events one by one: only those in the caller's subscribe scope.
  absl::StatusOr<auth::Principal> principal = authenticator_.Authenticate(*context);
  if (!principal.ok()) return rpc::ToGrpcStatus(principal.status());
  return rpc::ToGrpcStatus(Answer<coop::v1::ListTimelineRequest, coop::v1::ListTimelineResponse>(
      *context, *request, *response, [&](sql::Connection& connection) {
        return views::ListTimeline(
            connection, source_.log(), *request, options_.limits,
            [&](const coop::v1::Event& event) { return auth::MaySee(*principal, event); });
      }));
}

grpc::Status ViewsService::Rebuild(grpc::ServerContext* context,
                                   const coop::v1::RebuildRequest* /*request*/,
                                   coop::v1::RebuildResponse* response) {
  if (absl::Status allowed = AuthorizeOperator(*context); !allowed.ok()) {
    return rpc::ToGrpcStatus(allowed);
  }
  absl::StatusOr<coop::v1::RebuildStatus> status = source_.StartRebuild();
  if (!status.ok()) return rpc::ToGrpcStatus(status.status());
  *response->mutable_status() = *std::move(status);
  return grpc::Status::OK;
}

grpc::Status ViewsService::GetRebuild(grpc::ServerContext* context,
                                      const coop::v1::GetRebuildRequest* request,
                                      coop::v1::GetRebuildResponse* response) {
  if (absl::Status allowed = AuthorizeOperator(*context); !allowed.ok()) {
    return rpc::ToGrpcStatus(allowed);
  }
  if (request->generation() < 0) {
    return rpc::ToGrpcStatus(rpc::InvalidArgumentWithViolations(
        absl::StrCat("generation must be >= 0; got ", request->generation()),
        {{"generation", absl::StrCat("must be >= 1, or 0 for the most recently started "
                                     "generation; got ",
                                     request->generation())}}));
  }
  absl::StatusOr<coop::v1::RebuildStatus> status = source_.GetRebuild(request->generation());
  if (!status.ok()) return rpc::ToGrpcStatus(status.status());
  *response->mutable_status() = *std::move(status);
  return grpc::Status::OK;
}

}  // namespace coop::views
