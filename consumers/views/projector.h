// Applies events from the log to the views of one generation database: the write side of the
// materialised views.
//
// Exactly-once effect. A batch of records is applied in one database transaction that first
// moves the stored position of every partition in the batch from the offset the batch starts at
// to the one past its last record (compare-and-set: when another instance moved it meanwhile,
// nothing is applied and the batch fails ABORTED), then inserts each event into the timeline
// keyed by (source, id) (a duplicate changes nothing) and folds it into the entities it
// concerns. Entities touched by the batch are loaded once, updated in memory and written once
// (merge per key within a batch). A crash at any point leaves either the whole batch applied
// with its positions or none of it.
//
// Every entity (agreement, hub, trade row, site, incentive, fact, tourism flow) is a function of
// the events of one subject, in log order. A correction therefore re-folds the corrected
// event's subject from the timeline with the corrected payload in the original's place.
#ifndef COOP_CONSUMERS_VIEWS_PROJECTOR_H_
#define COOP_CONSUMERS_VIEWS_PROJECTOR_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"
#include "coop/v1/views.pb.h"

namespace coop::views {

// One decoded, valid event and where it lies in the log.
struct LogEvent {
  coop::v1::Event event;
  int32_t partition = 0;
  int64_t offset = 0;
};

// How far a batch moves one partition: from `from` (the stored next offset it expects) to `to`.
// A batch may move a partition without any event in it (records that went to the dead-letter
// topic, transaction markers).
struct PartitionAdvance {
  int64_t from = 0;
  int64_t to = 0;
};

struct BatchResult {
  int64_t applied = 0;      // New events (timeline rows written).
  int64_t duplicates = 0;   // Events whose (source, id) was already applied.
  int64_t corrections = 0;  // Corrections applied to an event the views have.
};

// Hub docs are stored without their milestones, which are rows of hub_milestones; this adds
// the latest 100 of them to `hub`, in log order.
absl::Status AddHubMilestones(sql::Connection& connection, coop::v1::Hub& hub);

class Projector {
 public:
  explicit Projector(sql::Connection& connection) : connection_(connection) {}

  // Records the log the generation reads and creates a position row (next offset 0) for each
  // partition that has none. FAILED_PRECONDITION when the database belongs to another log.
  absl::Status Initialize(const std::string& cluster_id, const std::string& topic,
                          int32_t partition_count);

  // The stored next offset of every partition.
  absl::StatusOr<std::map<int32_t, int64_t>> LoadPositions();

  // Applies `events` (in log order per partition) and moves the positions by `advance`, all in
  // one transaction. ABORTED when a position is not at its `from` any more (nothing applied).
  absl::StatusOr<BatchResult> ApplyBatch(absl::Span<const LogEvent> events,
                                         const std::map<int32_t, PartitionAdvance>& advance);

 private:
  sql::Connection& connection_;
};

}  // namespace coop::views

#endif  // COOP_CONSUMERS_VIEWS_PROJECTOR_H_
