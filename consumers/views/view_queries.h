// The read side of the materialised views: one query per Views RPC (views.proto), over the
// tables of one generation database (schema.cc) as the projector writes them (projector.h).
//
// Each function validates its request as views.proto says (INVALID_ARGUMENT with a
// google.rpc.BadRequest naming every offending field, e.g. "region.code", "filter.types[2]"),
// runs its SQL on `connection` and returns the response without `cursor` (the service sets it
// from the same snapshot). The SQL text is the same for SQLite and PostgreSQL. Call inside one
// snapshot transaction (ViewSource::Read) so that every statement of a call sees one state.
//
// Cost. No call grows with the history in the database: every statement seeks an index and
// stops at a LIMIT. List calls read the rows in the documented order from the page token's key
// on. A filter that the list order's index cannot serve (a facet, a status, a type, a region
// inside the timeline's delimited column, ...) is checked on the rows as they are read, and a
// call reads at most QueryLimits::max_scanned_rows of them: when that many rows were read
// without filling the page, the call returns the (possibly short, even empty) page with a
// next_page_token that continues after the last row read. AIP-158 allows such pages; clients
// follow next_page_token until it is empty. Region summaries list every agreement, hub, site,
// incentive and tourism flow of the region, as views.proto defines them; those lists are read
// with index seeks but are as long as the region's history.
//
// Page tokens are base64url text holding the last key returned (or read) and a fingerprint of
// the request without page_token, page_size and min_position: a token used with another request
// is INVALID_ARGUMENT "page_token does not belong to this request", an undecodable one
// INVALID_ARGUMENT too. Tokens are not secret and not signed: a forged token can only select
// rows the caller may read anyway.
//
// Pure functions of the database: thread-safe as long as each thread uses its own connection.
#ifndef COOP_CONSUMERS_VIEWS_VIEW_QUERIES_H_
#define COOP_CONSUMERS_VIEWS_VIEW_QUERIES_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/cursor/cursor_token.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/views.pb.h"

namespace coop::views {

// page_size 0 means kDefaultPageSize; larger values than kMaxPageSize are treated as it.
inline constexpr int32_t kDefaultPageSize = 100;
inline constexpr int32_t kMaxPageSize = 1000;

struct QueryLimits {
  // Rows a list call reads at most when filters the index cannot serve leave its page short;
  // at least 1.
  int64_t max_scanned_rows = 10'000;
};

// Request checks alone (the queries make them too): OK or INVALID_ARGUMENT with one field
// violation per problem. The service calls them before it waits for min_position, so that a bad
// request fails at once. min_position and as_of are the service's and the source's to check.
absl::Status Validate(const coop::v1::GetAgreementRequest& request);
absl::Status Validate(const coop::v1::ListAgreementsRequest& request);
absl::Status Validate(const coop::v1::GetHubRequest& request);
absl::Status Validate(const coop::v1::ListHubsRequest& request);
absl::Status Validate(const coop::v1::ListTradeRowsRequest& request);
absl::Status Validate(const coop::v1::GetRegionRequest& request);
absl::Status Validate(const coop::v1::ListRegionsRequest& request);
absl::Status Validate(const coop::v1::ListTimelineRequest& request);

// NOT_FOUND "agreement 'x' not found" for an unknown id.
absl::StatusOr<coop::v1::GetAgreementResponse> GetAgreement(
    sql::Connection& connection, const coop::v1::GetAgreementRequest& request);

// By signing date (the first day signed_on names), then agreement_id.
absl::StatusOr<coop::v1::ListAgreementsResponse> ListAgreements(
    sql::Connection& connection, const coop::v1::ListAgreementsRequest& request,
    const QueryLimits& limits = {});

// NOT_FOUND "hub 'x' not found" for an unknown id. Hub.agreement_ids holds the agreements its
// milestones name and those naming the hub, sorted and unique.
absl::StatusOr<coop::v1::GetHubResponse> GetHub(sql::Connection& connection,
                                                const coop::v1::GetHubRequest& request);

// By hub_id.
absl::StatusOr<coop::v1::ListHubsResponse> ListHubs(sql::Connection& connection,
                                                    const coop::v1::ListHubsRequest& request,
                                                    const QueryLimits& limits = {});

// By reporting region, partner region, direction, category key and period start (the row key's
// byte order). Each row carries growth_vs_previous against the row of the previous period.
absl::StatusOr<coop::v1::ListTradeRowsResponse> ListTradeRows(
    sql::Connection& connection, const coop::v1::ListTradeRowsRequest& request,
    const QueryLimits& limits = {});

// NOT_FOUND "region 'x' not found" when no event has named the code. For a country code the
// agreements, hubs (and their committed investment), sites, incentives and tourism flows of its
// subdivisions count as its own; facts are the code's own only.
absl::StatusOr<coop::v1::GetRegionResponse> GetRegion(sql::Connection& connection,
                                                      const coop::v1::GetRegionRequest& request);

// By code; summaries as GetRegion's.
absl::StatusOr<coop::v1::ListRegionsResponse> ListRegions(
    sql::Connection& connection, const coop::v1::ListRegionsRequest& request);

// Whether the caller may see an event (its subscribe scope); unset: every event.
using EventVisibility = std::function<bool(const coop::v1::Event&)>;

// In (recorded_time, partition, offset) order; `log` names the log for Position.token. Events
// `visible` refuses are left out, so a page may be shorter than page_size.
absl::StatusOr<coop::v1::ListTimelineResponse> ListTimeline(
    sql::Connection& connection, const cursor::LogId& log,
    const coop::v1::ListTimelineRequest& request, const QueryLimits& limits = {},
    const EventVisibility& visible = nullptr);

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_VIEW_QUERIES_H_
