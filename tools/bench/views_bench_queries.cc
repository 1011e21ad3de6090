#include "tools/bench/views_bench_queries.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "consumers/views/view_queries.h"
#include "consumers/views/view_source.h"
#include "tools/bench/measurement.h"

namespace coop::bench {
namespace {

using views::sql::Connection;

// Untimed calls per kind and database first: the service's connections are long-lived, so
// prepared statements and the page cache are warm when it serves.
constexpr int32_t kMaxWarmup = 100;

// One query kind: runs the call on a connection inside the caller's snapshot transaction and
// returns the number of entities or rows the response holds.
struct QueryKind {
  const char* name;
  std::function<absl::StatusOr<int64_t>(Connection&)> call;
};

std::vector<QueryKind> Kinds(const QueryTargets& targets, const cursor::LogId& log) {
  coop::v1::GetAgreementRequest agreement;
  agreement.set_agreement_id(targets.agreement_id);
  coop::v1::GetHubRequest hub;
  hub.set_hub_id(targets.hub_id);
  coop::v1::ListTradeRowsRequest trade_rows;
  trade_rows.mutable_region()->set_code(targets.trade_region);
  coop::v1::ListTimelineRequest timeline;
  timeline.mutable_filter()->add_subjects(targets.timeline_subject);
  coop::v1::GetRegionRequest region;
  region.mutable_region()->set_code(targets.region);
  return {
      {"get_agreement",
       [agreement](Connection& c) -> absl::StatusOr<int64_t> {
         COOP_ASSIGN_OR_RETURN(auto response, views::GetAgreement(c, agreement));
         return response.has_agreement() ? 1 : 0;
       }},
      {"get_hub",
       [hub](Connection& c) -> absl::StatusOr<int64_t> {
         COOP_ASSIGN_OR_RETURN(auto response, views::GetHub(c, hub));
         return response.has_hub() ? 1 : 0;
       }},
      {"list_trade_rows",
       [trade_rows](Connection& c) -> absl::StatusOr<int64_t> {
         COOP_ASSIGN_OR_RETURN(auto response, views::ListTradeRows(c, trade_rows));
         return response.rows_size();
       }},
      {"list_timeline",
       [timeline, log](Connection& c) -> absl::StatusOr<int64_t> {
         COOP_ASSIGN_OR_RETURN(auto response, views::ListTimeline(c, log, timeline));
         return response.entries_size();
       }},
      {"get_region",
       [region](Connection& c) -> absl::StatusOr<int64_t> {
         COOP_ASSIGN_OR_RETURN(auto response, views::GetRegion(c, region));
         const coop::v1::RegionSummary& s = response.region();
         return s.facts_size() + s.agreement_ids_size() + s.hub_ids_size() + s.site_ids_size() +
                s.incentives_size() + s.tourism_flows_size();
       }},
  };
}

// One call as the service makes it; returns its latency in nanoseconds and the item count.
absl::Status TimedCall(Connection& connection, const QueryKind& kind, const cursor::LogId& log,
                       int64_t& latency_ns, int64_t& items) {
  const int64_t start = NowNanos();
  COOP_RETURN_IF_ERROR(connection.Begin(Connection::TxMode::kSnapshot));
  absl::StatusOr<int64_t> answered = kind.call(connection);
  absl::StatusOr<std::string> cursor =
      answered.ok() ? views::AppliedCursor(connection, log) : answered.status();
  connection.Rollback();
  latency_ns = NowNanos() - start;
  if (!answered.ok()) {
    return absl::Status(answered.status().code(),
                        absl::StrCat(kind.name, ": ", answered.status().message()));
  }
  COOP_RETURN_IF_ERROR(cursor.status());
  items = *answered;
  return absl::OkStatus();
}

// Nearest rank, as measurement.cc computes acknowledgement latencies.
double PercentileMs(const std::vector<int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / 1e6;
}

struct Samples {
  std::vector<int64_t> latency_ns;
  int64_t items = 0;

  LatencyStats Stats() const {
    std::vector<int64_t> sorted = latency_ns;
    std::sort(sorted.begin(), sorted.end());
    LatencyStats stats;
    stats.calls = static_cast<int64_t>(sorted.size());
    stats.p50_ms = PercentileMs(sorted, 0.50);
    stats.p99_ms = PercentileMs(sorted, 0.99);
    stats.max_ms = sorted.empty() ? 0 : static_cast<double>(sorted.back()) / 1e6;
    stats.mean_items =
        sorted.empty() ? 0 : static_cast<double>(items) / static_cast<double>(sorted.size());
    return stats;
  }
};

}  // namespace

absl::StatusOr<QueryTargets> PickQueryTargets(absl::Span<const coop::v1::Event> events) {
  QueryTargets targets;
  for (const coop::v1::Event& event : events) {
    if (event.has_agreement_signed() && targets.agreement_id.empty()) {
      targets.agreement_id = event.agreement_signed().agreement_id();
    } else if (event.has_hub_milestone() && targets.hub_id.empty()) {
      targets.hub_id = event.hub_milestone().hub_id();
      targets.timeline_subject = event.subject();
    } else if (event.has_trade_update() && targets.trade_region.empty()) {
      targets.trade_region = event.trade_update().reporting_region().code();
    } else if (event.has_region_profile() && targets.region.empty()) {
      targets.region = event.region_profile().region().code();
    }
  }
  if (targets.agreement_id.empty() || targets.hub_id.empty() || targets.trade_region.empty()) {
    return absl::FailedPreconditionError(
        "the first events hold no agreement, hub milestone or trade update to query");
  }
  if (targets.region.empty()) targets.region = targets.trade_region;
  return targets;
}

absl::StatusOr<QueryResults> RunQueryPhase(Connection& small, int64_t small_events,
                                           Connection& large, int64_t large_events,
                                           const cursor::LogId& log, const QueryTargets& targets,
                                           int32_t samples, std::ostream& progress) {
  QueryResults results;
  results.ran = true;
  results.small_events = small_events;
  results.large_events = large_events;
  results.samples = samples;
  results.warmup = std::min(kMaxWarmup, std::max(1, samples / 10));
  results.targets = targets;
  const std::vector<QueryKind> kinds = Kinds(targets, log);
  std::vector<Samples> on_small(kinds.size());
  std::vector<Samples> on_large(kinds.size());
  Samples all_small;
  Samples all_large;
  for (int32_t i = -results.warmup; i < samples; ++i) {
    for (size_t k = 0; k < kinds.size(); ++k) {
      // Alternate which database goes first, so that neither always runs right after the
      // other's cache misses.
      for (int side = 0; side < 2; ++side) {
        const bool use_small = (side == 0) == (i % 2 == 0);
        int64_t latency_ns = 0;
        int64_t items = 0;
        COOP_RETURN_IF_ERROR(
            TimedCall(use_small ? small : large, kinds[k], log, latency_ns, items));
        if (i < 0) continue;
        for (Samples* s :
             {use_small ? &on_small[k] : &on_large[k], use_small ? &all_small : &all_large}) {
          s->latency_ns.push_back(latency_ns);
          s->items += items;
        }
      }
    }
    if (i >= 0 && (i + 1) % 500 == 0) {
      progress << "  queries: " << (i + 1) << " of " << samples << " rounds of the mix\n";
    }
  }
  for (size_t k = 0; k < kinds.size(); ++k) {
    results.kinds.push_back(QueryKindResult{
        .kind = kinds[k].name, .small = on_small[k].Stats(), .large = on_large[k].Stats()});
  }
  results.kinds.push_back(
      QueryKindResult{.kind = "all", .small = all_small.Stats(), .large = all_large.Stats()});
  return results;
}

}  // namespace coop::bench
