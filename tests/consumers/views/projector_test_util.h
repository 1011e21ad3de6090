// Helpers shared by the projector tests on SQLite (unit) and PostgreSQL (integration): a fake
// log that places events on partitions, batch application from the stored positions, a dump of
// every table for before/after comparisons, and the events the tests add to the seed data set.
#ifndef COOP_TESTS_CONSUMERS_VIEWS_PROJECTOR_TEST_UTIL_H_
#define COOP_TESTS_CONSUMERS_VIEWS_PROJECTOR_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "consumers/views/projector.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/envelope.pb.h"
#include "google/protobuf/message.h"

namespace coop::views::testing {

inline constexpr char kClusterId[] = "test-cluster";
inline constexpr char kTopic[] = "coop.events";
inline constexpr int32_t kPartitionCount = 6;

// Migrates the generation database and initializes it for kClusterId / kTopic /
// kPartitionCount.
absl::Status SetUpViews(sql::Connection& connection);

// The partition of a subject: FNV-1a (32 bit) of its bytes modulo `partition_count`, stable
// across runs and platforms.
int32_t PartitionOf(absl::string_view subject, int32_t partition_count = kPartitionCount);

// A stand-in for the Kafka topic: each appended event goes to its subject's partition at that
// partition's next offset (from 0).
class TestLog {
 public:
  LogEvent Append(const coop::v1::Event& event);
  std::vector<LogEvent> Append(const std::vector<coop::v1::Event>& events);

 private:
  std::map<int32_t, int64_t> next_offsets_;
};

// The advance that moves every partition with an event in `events` from `positions` (the stored
// next offsets) to one past its last event.
std::map<int32_t, PartitionAdvance> AdvanceOver(absl::Span<const LogEvent> events,
                                                const std::map<int32_t, int64_t>& positions);

// Applies `events` as one batch, moving each partition they touch from its stored position.
absl::StatusOr<BatchResult> ApplyAsOneBatch(Projector& projector,
                                            absl::Span<const LogEvent> events);

// Applies `events` one batch per event; the results are summed.
absl::StatusOr<BatchResult> ApplyOneByOne(Projector& projector, absl::Span<const LogEvent> events);

// Every table of the database except `excluded`, as text that compares equal exactly when the
// contents are equal: per table its name and columns, then its rows ORDER BY every column (NULLS
// FIRST), each value typed (NULL, integer, real, 'text', x'blob hex'). Text sorts bytewise in
// SQLite and in a PostgreSQL database with the C collation (as deploy/postgres creates it), so
// dumps of the two compare equal too.
absl::StatusOr<std::string> DumpTables(sql::Connection& connection,
                                       const std::set<std::string>& excluded = {});

// The one `doc` blob that `select` (with one parameter, `key`) returns, parsed into `doc`.
// NOT_FOUND without a row, DATA_LOSS when it does not parse.
absl::Status LoadDoc(sql::Connection& connection, absl::string_view select, const std::string& key,
                     google::protobuf::Message& doc);

// The single value of a one-row, one-column query.
absl::StatusOr<sql::Value> QueryValue(sql::Connection& connection, absl::string_view sql,
                                      absl::Span<const sql::Value> params = {});

// 00:00 UTC of a day, for recorded times.
absl::Time Day(int year, int month, int day);

// `event` with recorded_time set to `recorded`.
coop::v1::Event RecordedAt(coop::v1::Event event, absl::Time recorded);

// The seed event (tests/testing/seed_events.h) with this id; when there is none, records a test
// failure and returns an empty event.
coop::v1::Event SeedEvent(absl::string_view id);

// Ids of seed events the tests refer to.
inline constexpr char kMemorandumId[] = "mosreg-2025-09-10-memorandum";
inline constexpr char kSelyatinoAgreementId[] = "mosreg-2024-06-spief-selyatino-agreement";
inline constexpr char kSelyatinoPlanId[] = "mosreg-2025-09-10-selyatino-plan";

// A follow-up milestone of the Selyatino hub (phase 0), published by Moscow Oblast and recorded
// at `recorded`. Set the dates and figures the kind needs on the returned event.
coop::v1::Event SelyatinoMilestone(const std::string& id, coop::v1::HubMilestoneKind kind,
                                   absl::Time recorded);

// An EventCorrected of `source` correcting `corrected_id` with the payload of `corrected`
// (subject and payload taken from it), recorded at `recorded`.
coop::v1::Event Correction(const std::string& source, const std::string& id,
                           const std::string& corrected_id, const coop::v1::Event& corrected,
                           absl::Time recorded);

// An AgreementAmended of Moscow Oblast for `agreement_id`, effective on the day it is recorded.
coop::v1::Event Amendment(const std::string& id, const std::string& agreement_id,
                          coop::v1::AgreementStatus status, absl::Time recorded);

// Selyatino after the seed: construction started (November 2025), 40% progress (2026-01-20)
// and the plan revised to June 2026.
std::vector<coop::v1::Event> SelyatinoFollowUps();

// Selyatino completed on 2026-06-25.
coop::v1::Event SelyatinoCompleted();

// The Selyatino plan of the seed as corrected: `jobs` jobs instead of 1,500 and completion
// planned by May 2026 instead of April.
coop::v1::Event CorrectedSelyatinoPlan(int64_t jobs = 1'600);

// The correction of the Selyatino plan to CorrectedSelyatinoPlan(), recorded 2026-03-01.
coop::v1::Event SelyatinoPlanCorrection();

// A log with a bit of everything: the seed, the Selyatino follow-ups and completion,
// amendments (one of an unknown agreement), a second currency for a trade row, corrections
// (of a milestone, of a signing, and one from another source) and a duplicate.
std::vector<coop::v1::Event> EverythingLog();

// A SQLite generation database in a new temporary file, migrated and initialized. Its path
// (plus its -wal and -shm files) is appended to `paths` for RemoveFiles.
absl::StatusOr<std::unique_ptr<sql::Connection>> OpenTempSqlite(std::vector<std::string>& paths);
void RemoveFiles(const std::vector<std::string>& paths);

}  // namespace coop::views::testing

#endif  // COOP_TESTS_CONSUMERS_VIEWS_PROJECTOR_TEST_UTIL_H_
