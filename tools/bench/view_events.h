// A deterministic stream of valid events with the shape of real traffic, for the views
// benchmark and the crash and rebalance tests: trade updates over many keys, hub progress
// reports, region facts, tourism flows, agreements with amendments, corrections of earlier
// events and exact duplicates (a publisher retrying).
#ifndef COOP_TOOLS_BENCH_VIEW_EVENTS_H_
#define COOP_TOOLS_BENCH_VIEW_EVENTS_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "coop/v1/envelope.pb.h"

namespace coop::bench {

struct ViewEventsOptions {
  int64_t count = 1000;
  uint64_t seed = 1;
  // recorded_time of the first event; each next one is 10 ms later.
  absl::Time first_recorded =
      absl::FromCivil(absl::CivilSecond(2025, 9, 10, 9, 0, 0), absl::UTCTimeZone());
  // Share of events that repeat an earlier event exactly (same source and id), in percent.
  int duplicate_percent = 1;
  // Share of corrections of an earlier trade update or hub milestone, in percent.
  int correction_percent = 1;
  // Distinct hubs and trade categories: the key space the views merge into.
  int hubs = 200;
  int trade_categories = 40;
};

// `options.count` events, each valid by the publisher's rules with source and recorded_time
// stamped. Equal options give equal events.
std::vector<coop::v1::Event> GenerateViewEvents(const ViewEventsOptions& options);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_VIEW_EVENTS_H_
