#include "tests/consumers/views/projector_test_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <variant>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "consumers/views/schema.h"
#include "consumers/views/sql/connection.h"
#include "coop/v1/events.pb.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "tests/testing/seed_events.h"

namespace coop::views::testing {
namespace {

using sql::Value;

std::string Literal(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "NULL";
  if (const int64_t* n = std::get_if<int64_t>(&value)) return absl::StrCat(*n);
  if (const double* d = std::get_if<double>(&value)) return absl::StrFormat("%.17g", *d);
  if (const std::string* s = std::get_if<std::string>(&value)) {
    return absl::StrCat("'", absl::Utf8SafeCEscape(*s), "'");
  }
  return absl::StrCat("x'", absl::BytesToHexString(std::get<sql::Blob>(value).bytes), "'");
}

absl::StatusOr<std::vector<std::string>> Tables(sql::Connection& connection) {
  const char* query = connection.dialect() == sql::Dialect::kSqlite
                          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT "
                            "LIKE 'sqlite_%' ORDER BY name"
                          : "SELECT table_name::text FROM information_schema.tables WHERE "
                            "table_schema = current_schema() AND table_type = 'BASE TABLE' "
                            "ORDER BY table_name";
  COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows, connection.Query(query));
  std::vector<std::string> tables;
  for (const sql::Row& row : rows) tables.push_back(sql::AsString(row[0]));
  return tables;
}

absl::StatusOr<std::vector<std::string>> Columns(sql::Connection& connection,
                                                 const std::string& table) {
  const char* query = connection.dialect() == sql::Dialect::kSqlite
                          ? "SELECT name FROM pragma_table_info($1) ORDER BY cid"
                          : "SELECT column_name::text FROM information_schema.columns WHERE "
                            "table_schema = current_schema() AND table_name = $1 ORDER BY "
                            "ordinal_position";
  COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows, connection.Query(query, {Value(table)}));
  std::vector<std::string> columns;
  for (const sql::Row& row : rows) columns.push_back(sql::AsString(row[0]));
  return columns;
}

}  // namespace

absl::Status SetUpViews(sql::Connection& connection) {
  COOP_RETURN_IF_ERROR(MigrateGeneration(connection));
  return Projector(connection).Initialize(kClusterId, kTopic, kPartitionCount);
}

int32_t PartitionOf(absl::string_view subject, int32_t partition_count) {
  uint32_t hash = 2166136261u;
  for (char c : subject) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return static_cast<int32_t>(hash % static_cast<uint32_t>(partition_count));
}

LogEvent TestLog::Append(const coop::v1::Event& event) {
  LogEvent log_event{.event = event, .partition = PartitionOf(event.subject())};
  log_event.offset = next_offsets_[log_event.partition]++;
  return log_event;
}

std::vector<LogEvent> TestLog::Append(const std::vector<coop::v1::Event>& events) {
  std::vector<LogEvent> log_events;
  for (const coop::v1::Event& event : events) log_events.push_back(Append(event));
  return log_events;
}

std::map<int32_t, PartitionAdvance> AdvanceOver(absl::Span<const LogEvent> events,
                                                const std::map<int32_t, int64_t>& positions) {
  std::map<int32_t, PartitionAdvance> advance;
  for (const LogEvent& event : events) {
    const auto stored = positions.find(event.partition);
    PartitionAdvance& move = advance[event.partition];
    move.from = stored == positions.end() ? 0 : stored->second;
    move.to = std::max(move.to, event.offset + 1);
  }
  return advance;
}

absl::StatusOr<BatchResult> ApplyAsOneBatch(Projector& projector,
                                            absl::Span<const LogEvent> events) {
  COOP_ASSIGN_OR_RETURN(const auto positions, projector.LoadPositions());
  return projector.ApplyBatch(events, AdvanceOver(events, positions));
}

absl::StatusOr<BatchResult> ApplyOneByOne(Projector& projector, absl::Span<const LogEvent> events) {
  BatchResult total;
  for (size_t i = 0; i < events.size(); ++i) {
    COOP_ASSIGN_OR_RETURN(const BatchResult one, ApplyAsOneBatch(projector, events.subspan(i, 1)));
    total.applied += one.applied;
    total.duplicates += one.duplicates;
    total.corrections += one.corrections;
  }
  return total;
}

absl::StatusOr<std::string> DumpTables(sql::Connection& connection,
                                       const std::set<std::string>& excluded) {
  COOP_ASSIGN_OR_RETURN(const std::vector<std::string> tables, Tables(connection));
  std::string dump;
  for (const std::string& table : tables) {
    if (excluded.count(table) != 0) continue;
    COOP_ASSIGN_OR_RETURN(const std::vector<std::string> columns, Columns(connection, table));
    const std::string list = absl::StrJoin(columns, ", ");
    COOP_ASSIGN_OR_RETURN(
        const std::vector<sql::Row> rows,
        connection.Query(absl::StrCat("SELECT ", list, " FROM ", table, " ORDER BY ",
                                      absl::StrJoin(columns, " NULLS FIRST, "), " NULLS FIRST")));
    absl::StrAppend(&dump, "== ", table, " (", list, "): ", rows.size(), " rows\n");
    for (const sql::Row& row : rows) {
      absl::StrAppend(
          &dump,
          absl::StrJoin(row, " | ",
                        [](std::string* out, const Value& value) { out->append(Literal(value)); }),
          "\n");
    }
  }
  return dump;
}

absl::Status LoadDoc(sql::Connection& connection, absl::string_view select, const std::string& key,
                     google::protobuf::Message& doc) {
  COOP_ASSIGN_OR_RETURN(const std::vector<sql::Row> rows, connection.Query(select, {Value(key)}));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("no row for '", key, "'"));
  if (!doc.ParseFromString(sql::AsString(rows[0][0]))) {
    return absl::DataLossError(absl::StrCat("the doc of '", key, "' does not parse"));
  }
  return absl::OkStatus();
}

absl::StatusOr<sql::Value> QueryValue(sql::Connection& connection, absl::string_view sql,
                                      absl::Span<const sql::Value> params) {
  COOP_ASSIGN_OR_RETURN(const std::vector<sql::Row> rows, connection.Query(sql, params));
  if (rows.size() != 1 || rows[0].size() != 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected one row of one column, got ", rows.size(), " rows"));
  }
  return rows[0][0];
}

absl::Time Day(int year, int month, int day) {
  return absl::FromCivil(absl::CivilDay(year, month, day), absl::UTCTimeZone());
}

coop::v1::Event RecordedAt(coop::v1::Event event, absl::Time recorded) {
  const int64_t ms = absl::ToUnixMillis(recorded);
  event.mutable_recorded_time()->set_seconds(ms / 1000);
  event.mutable_recorded_time()->set_nanos(static_cast<int32_t>(ms % 1000) * 1'000'000);
  return event;
}

coop::v1::Event SeedEvent(absl::string_view id) {
  for (coop::v1::Event& event : coop::testing::SeedEvents()) {
    if (event.id() == id) return event;
  }
  ADD_FAILURE() << "no seed event has id " << id;
  return coop::v1::Event();
}

coop::v1::Event SelyatinoMilestone(const std::string& id, coop::v1::HubMilestoneKind kind,
                                   absl::Time recorded) {
  coop::v1::Event event = SeedEvent(kSelyatinoPlanId);
  coop::v1::HubMilestone plan = event.hub_milestone();
  event.set_id(id);
  event.clear_correlation_id();
  coop::v1::HubMilestone& milestone = *event.mutable_hub_milestone();
  milestone.Clear();
  milestone.set_hub_id(plan.hub_id());
  milestone.set_hub_name(plan.hub_name());
  milestone.set_hub_kind(plan.hub_kind());
  *milestone.mutable_location() = plan.location();
  milestone.set_milestone_kind(kind);
  return RecordedAt(std::move(event), recorded);
}

coop::v1::Event Correction(const std::string& source, const std::string& id,
                           const std::string& corrected_id, const coop::v1::Event& corrected,
                           absl::Time recorded) {
  coop::v1::Event event;
  event.set_id(id);
  event.set_source(source);
  event.set_type("coop.v1.EventCorrected");
  event.set_subject(corrected.subject());
  event.set_schema_version(1);
  coop::v1::EventCorrected& correction = *event.mutable_event_corrected();
  correction.set_corrected_event_id(corrected_id);
  correction.set_reason("Исправлены данные исходного события.");
  // EventCorrected.corrected has the field numbers of Event.payload.
  const google::protobuf::FieldDescriptor* from =
      coop::v1::Event::descriptor()->FindFieldByNumber(corrected.payload_case());
  const google::protobuf::FieldDescriptor* to =
      coop::v1::EventCorrected::descriptor()->FindFieldByNumber(corrected.payload_case());
  if (from == nullptr || to == nullptr) {
    ADD_FAILURE() << "cannot correct an event with payload " << corrected.payload_case();
    return event;
  }
  correction.GetReflection()
      ->MutableMessage(&correction, to)
      ->CopyFrom(corrected.GetReflection()->GetMessage(corrected, from));
  return RecordedAt(std::move(event), recorded);
}

coop::v1::Event Amendment(const std::string& id, const std::string& agreement_id,
                          coop::v1::AgreementStatus status, absl::Time recorded) {
  coop::v1::Event event;
  event.set_id(id);
  event.set_source(coop::testing::kMosregSource);
  event.set_type("coop.v1.AgreementAmended");
  event.set_subject(absl::StrCat("agreement/", agreement_id));
  event.set_schema_version(1);
  coop::v1::AgreementAmended& amended = *event.mutable_agreement_amended();
  amended.set_agreement_id(agreement_id);
  amended.set_summary(status == coop::v1::AGREEMENT_STATUS_TERMINATED
                          ? "Соглашение прекращено по взаимному согласию сторон."
                          : "Соглашение вступило в силу.");
  const absl::CivilDay day = absl::ToCivilDay(recorded, absl::UTCTimeZone());
  amended.mutable_effective_on()->set_year(static_cast<int32_t>(day.year()));
  amended.mutable_effective_on()->set_month(day.month());
  amended.mutable_effective_on()->set_day(day.day());
  amended.set_new_status(status);
  return RecordedAt(std::move(event), recorded);
}

std::vector<coop::v1::Event> SelyatinoFollowUps() {
  coop::v1::Event started =
      SelyatinoMilestone("mosreg-2025-11-selyatino-construction",
                         coop::v1::HUB_MILESTONE_KIND_CONSTRUCTION_STARTED, Day(2025, 11, 3));
  started.mutable_hub_milestone()->mutable_actual_on()->set_year(2025);
  started.mutable_hub_milestone()->mutable_actual_on()->set_month(11);
  coop::v1::Event progress =
      SelyatinoMilestone("mosreg-2026-01-selyatino-progress",
                         coop::v1::HUB_MILESTONE_KIND_PROGRESS_REPORTED, Day(2026, 1, 20));
  progress.mutable_hub_milestone()->set_percent_complete(40);
  progress.mutable_hub_milestone()->mutable_actual_on()->set_year(2026);
  progress.mutable_hub_milestone()->mutable_actual_on()->set_month(1);
  progress.mutable_hub_milestone()->mutable_actual_on()->set_day(20);
  coop::v1::Event revised =
      SelyatinoMilestone("mosreg-2026-02-selyatino-plan-revised",
                         coop::v1::HUB_MILESTONE_KIND_PLAN_REVISED, Day(2026, 2, 2));
  revised.mutable_hub_milestone()->mutable_planned_on()->set_year(2026);
  revised.mutable_hub_milestone()->mutable_planned_on()->set_month(6);
  return {started, progress, revised};
}

coop::v1::Event SelyatinoCompleted() {
  coop::v1::Event completed =
      SelyatinoMilestone("mosreg-2026-06-selyatino-completed",
                         coop::v1::HUB_MILESTONE_KIND_COMPLETED, Day(2026, 6, 26));
  completed.mutable_hub_milestone()->mutable_actual_on()->set_year(2026);
  completed.mutable_hub_milestone()->mutable_actual_on()->set_month(6);
  completed.mutable_hub_milestone()->mutable_actual_on()->set_day(25);
  return completed;
}

coop::v1::Event CorrectedSelyatinoPlan(int64_t jobs) {
  coop::v1::Event plan = SeedEvent(kSelyatinoPlanId);
  plan.mutable_hub_milestone()->set_jobs(jobs);
  plan.mutable_hub_milestone()->mutable_planned_on()->set_month(5);
  return plan;
}

coop::v1::Event SelyatinoPlanCorrection() {
  return Correction(coop::testing::kMosregSource, "mosreg-2026-03-selyatino-plan-correction",
                    kSelyatinoPlanId, CorrectedSelyatinoPlan(), Day(2026, 3, 1));
}

std::vector<coop::v1::Event> EverythingLog() {
  std::vector<coop::v1::Event> events = coop::testing::SeedEvents();
  for (coop::v1::Event& event : SelyatinoFollowUps()) events.push_back(std::move(event));
  events.push_back(Amendment("mosreg-2025-10-selyatino-in-force", "selyatino-hub-2024",
                             coop::v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1)));
  events.push_back(Amendment("mosreg-2025-10-unknown-in-force", "no-such-agreement",
                             coop::v1::AGREEMENT_STATUS_IN_FORCE, Day(2025, 10, 1)));
  coop::v1::Event kzt = SeedEvent("mosreg-2025-export-kz-cosmetics");
  kzt.set_id("mosreg-2025-10-cosmetics-kzt");
  kzt.mutable_trade_update()->mutable_value()->set_currency_code("KZT");
  kzt.mutable_trade_update()->mutable_value()->set_units(6'000'000'000);
  events.push_back(RecordedAt(std::move(kzt), Day(2025, 10, 2)));
  events.push_back(SelyatinoPlanCorrection());
  coop::v1::Event memo = SeedEvent(kMemorandumId);
  memo.mutable_memorandum_signed()->set_title("Меморандум о сотрудничестве");
  events.push_back(Correction(coop::testing::kMosregSource, "mosreg-2026-03-memorandum-correction",
                              kMemorandumId, memo, Day(2026, 3, 2)));
  events.push_back(Correction(coop::testing::kAkimatSource, "akimat-2026-03-foreign-correction",
                              kMemorandumId, memo, Day(2026, 3, 3)));
  events.push_back(SeedEvent(kSelyatinoAgreementId));  // A duplicate.
  events.push_back(SelyatinoCompleted());
  return events;
}

absl::StatusOr<std::unique_ptr<sql::Connection>> OpenTempSqlite(std::vector<std::string>& paths) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path =
      absl::StrCat(::testing::TempDir(), "coop_views_", getpid(), "_",
                   info != nullptr ? info->name() : "no_test", "_", paths.size(), ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    paths.push_back(path + suffix);
    std::remove(paths.back().c_str());
  }
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<sql::Connection> connection, sql::OpenSqlite(path));
  COOP_RETURN_IF_ERROR(SetUpViews(*connection));
  return connection;
}

void RemoveFiles(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) std::remove(path.c_str());
}

}  // namespace coop::views::testing
