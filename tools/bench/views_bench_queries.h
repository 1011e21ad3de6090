// The query half of the views benchmark: the latency of the Views read queries on a small
// database and on a large one built from the same event stream, to see whether a call's cost
// grows with the history.
#ifndef COOP_TOOLS_BENCH_VIEWS_BENCH_QUERIES_H_
#define COOP_TOOLS_BENCH_VIEWS_BENCH_QUERIES_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/cursor/cursor_token.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"

namespace coop::bench {

// What the queries ask for, taken from the first events so that both databases hold it.
struct QueryTargets {
  std::string agreement_id;      // GetAgreement.
  std::string hub_id;            // GetHub.
  std::string trade_region;      // ListTradeRows region filter, first page.
  std::string timeline_subject;  // ListTimeline subject filter, first page.
  std::string region;            // GetRegion.
};

// FAILED_PRECONDITION when `events` lacks an agreement, a hub milestone or a trade update.
absl::StatusOr<QueryTargets> PickQueryTargets(absl::Span<const coop::v1::Event> events);

// Latency of one query kind (or "all": every call of the mix) on one database.
struct LatencyStats {
  int64_t calls = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_items = 0;  // Entities or rows per response, to show the work is comparable.
};

struct QueryKindResult {
  std::string kind;  // "get_agreement", ..., "all".
  LatencyStats small;
  LatencyStats large;
  double p99_ratio() const { return small.p99_ms > 0 ? large.p99_ms / small.p99_ms : 0; }
};

struct QueryResults {
  bool ran = false;
  int64_t small_events = 0;
  int64_t large_events = 0;
  int32_t samples = 0;  // Timed calls per kind and database.
  int32_t warmup = 0;   // Untimed calls per kind and database before them.
  QueryTargets targets;
  std::vector<QueryKindResult> kinds;  // The five kinds, then "all".
};

// Calls each query kind `samples` times on both databases, alternating between them call by
// call so that both see the same machine noise, each call timed around its snapshot transaction
// as the Views service runs it: Begin(kSnapshot), the query, the applied cursor, Rollback. Fails
// on the first query error (NOT_FOUND included: the targets must be in both databases).
absl::StatusOr<QueryResults> RunQueryPhase(views::sql::Connection& small, int64_t small_events,
                                           views::sql::Connection& large, int64_t large_events,
                                           const cursor::LogId& log, const QueryTargets& targets,
                                           int32_t samples, std::ostream& progress);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_VIEWS_BENCH_QUERIES_H_
