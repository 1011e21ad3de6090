#include "consumers/views/schema.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace coop::views {
namespace {

struct Migration {
  int64_t version;
  const char* description;
  const char* ddl;  // With the placeholders of sql::ExpandDdl plus {KEY} (byte-ordered text).
};

// Key columns compare bytewise in both databases, so that paging order does not depend on the
// PostgreSQL server's locale.
constexpr Migration kMigrations[] = {
    {1, "views: positions, events (timeline), agreements, hubs, trade, regions", R"sql(
CREATE TABLE log_info (
  id {INT} PRIMARY KEY CHECK (id = 1),
  cluster_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition_count {INT} NOT NULL
);
CREATE TABLE positions (
  kafka_partition {INT} PRIMARY KEY,
  next_offset {INT} NOT NULL
);
CREATE TABLE events (
  source {KEY} NOT NULL,
  id {KEY} NOT NULL,
  type {KEY} NOT NULL,
  subject {KEY} NOT NULL,
  entity {KEY} NOT NULL,
  event_time_ms {INT},
  recorded_time_ms {INT} NOT NULL,
  kafka_partition {INT} NOT NULL,
  kafka_offset {INT} NOT NULL,
  regions TEXT NOT NULL,
  party_ids TEXT NOT NULL,
  corrects_source TEXT,
  corrects_id TEXT,
  corrected_by_source TEXT,
  corrected_by_id TEXT,
  event {BLOB} NOT NULL,
  effective {BLOB},
  PRIMARY KEY (source, id)
);
CREATE INDEX events_by_subject ON events (subject, recorded_time_ms, kafka_partition, kafka_offset);
CREATE INDEX events_by_entity ON events (entity, kafka_partition, kafka_offset);
CREATE INDEX events_by_time ON events (recorded_time_ms, kafka_partition, kafka_offset);
CREATE TABLE agreements (
  agreement_id {KEY} PRIMARY KEY,
  subject TEXT NOT NULL,
  form {INT} NOT NULL,
  laterality {INT} NOT NULL,
  title TEXT NOT NULL,
  status {INT} NOT NULL,
  signed_on TEXT NOT NULL,
  signed_from {KEY} NOT NULL,
  signed_to TEXT NOT NULL,
  place_region TEXT,
  place_locality TEXT,
  place_name TEXT,
  occasion TEXT,
  purpose TEXT,
  areas TEXT NOT NULL,
  hub_ids TEXT NOT NULL,
  parties_json TEXT NOT NULL,
  participants_json TEXT NOT NULL,
  changes_json TEXT NOT NULL,
  corrected {INT} NOT NULL,
  signed_source TEXT NOT NULL,
  signed_id TEXT NOT NULL,
  updated_time_ms {INT} NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX agreements_by_signing ON agreements (signed_from, agreement_id);
CREATE TABLE hubs (
  hub_id {KEY} PRIMARY KEY,
  subject TEXT NOT NULL,
  name TEXT NOT NULL,
  kind {INT} NOT NULL,
  status {INT} NOT NULL,
  region TEXT NOT NULL,
  country TEXT NOT NULL,
  locality TEXT,
  total_area {REAL},
  total_area_unit {INT},
  investment_currency TEXT,
  investment_units {INT},
  investment_nanos {INT},
  jobs {INT},
  baseline_completion TEXT,
  planned_completion TEXT,
  actual_completion TEXT,
  slippage_days {INT},
  percent_complete {REAL},
  parties_json TEXT NOT NULL,
  phases_json TEXT NOT NULL,
  capacities_json TEXT NOT NULL,
  facilities_json TEXT NOT NULL,
  updated_time_ms {INT} NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX hubs_by_region ON hubs (region, hub_id);
CREATE TABLE hub_milestones (
  hub_id {KEY} NOT NULL,
  kafka_partition {INT} NOT NULL,
  kafka_offset {INT} NOT NULL,
  source TEXT NOT NULL,
  id TEXT NOT NULL,
  milestone_kind {INT} NOT NULL,
  phase {INT} NOT NULL,
  planned_on TEXT,
  actual_on TEXT,
  percent_complete {REAL},
  recorded_time_ms {INT} NOT NULL,
  entry {BLOB} NOT NULL,
  PRIMARY KEY (hub_id, kafka_partition, kafka_offset)
);
CREATE INDEX hubs_by_country ON hubs (country, hub_id);
CREATE TABLE facets (
  view {KEY} NOT NULL,
  facet {KEY} NOT NULL,
  value {KEY} NOT NULL,
  entity_id {KEY} NOT NULL,
  PRIMARY KEY (view, facet, value, entity_id)
);
CREATE INDEX facets_by_entity ON facets (view, entity_id);
CREATE TABLE trade_rows (
  row_key {KEY} PRIMARY KEY,
  subject TEXT NOT NULL,
  reporting_region {KEY} NOT NULL,
  reporting_country {KEY} NOT NULL,
  partner_region {KEY} NOT NULL,
  partner_country {KEY} NOT NULL,
  direction {INT} NOT NULL,
  category_key {KEY} NOT NULL,
  category_name TEXT,
  hs_code {KEY},
  period TEXT NOT NULL,
  period_from {KEY} NOT NULL,
  period_to {KEY} NOT NULL,
  values_json TEXT NOT NULL,
  volume {REAL},
  volume_unit {INT},
  growth_ratio {REAL},
  growth_qualifier {INT},
  trend {INT} NOT NULL,
  updated_time_ms {INT} NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX trade_rows_by_series ON trade_rows
  (reporting_region, partner_region, direction, category_key, period_to);
CREATE INDEX trade_rows_by_partner ON trade_rows (partner_region, row_key);
CREATE INDEX trade_rows_by_reporting_country ON trade_rows (reporting_country, row_key);
CREATE INDEX trade_rows_by_partner_country ON trade_rows (partner_country, row_key);
CREATE TABLE region_facts (
  fact_key {KEY} PRIMARY KEY,
  region {KEY} NOT NULL,
  kind {INT} NOT NULL,
  counterpart {KEY} NOT NULL,
  subject TEXT NOT NULL,
  value {REAL} NOT NULL,
  unit {INT} NOT NULL,
  qualifier {INT} NOT NULL,
  valid_on TEXT,
  note TEXT,
  order_key TEXT NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX region_facts_by_region ON region_facts (region, kind, counterpart);
CREATE INDEX region_facts_by_subject ON region_facts (subject);
CREATE TABLE sites (
  site_id {KEY} PRIMARY KEY,
  subject TEXT NOT NULL,
  name TEXT NOT NULL,
  region {KEY} NOT NULL,
  country {KEY} NOT NULL,
  locality TEXT,
  format {INT} NOT NULL,
  order_key TEXT NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX sites_by_region ON sites (region, site_id);
CREATE INDEX sites_by_country ON sites (country, site_id);
CREATE TABLE incentives (
  incentive_id {KEY} PRIMARY KEY,
  subject TEXT NOT NULL,
  region {KEY} NOT NULL,
  country {KEY} NOT NULL,
  hub_id TEXT,
  kind {INT} NOT NULL,
  relief_percent {REAL},
  order_key TEXT NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX incentives_by_region ON incentives (region, incentive_id);
CREATE INDEX incentives_by_country ON incentives (country, incentive_id);
CREATE TABLE tourism_flows (
  flow_key {KEY} PRIMARY KEY,
  destination {KEY} NOT NULL,
  origin {KEY} NOT NULL,
  period {KEY} NOT NULL,
  destination_country {KEY} NOT NULL,
  subject TEXT NOT NULL,
  period_from TEXT NOT NULL,
  period_to TEXT NOT NULL,
  tourists {REAL} NOT NULL,
  tourists_qualifier {INT} NOT NULL,
  order_key TEXT NOT NULL,
  doc {BLOB} NOT NULL
);
CREATE INDEX tourism_flows_by_destination ON tourism_flows (destination, origin, period);
CREATE INDEX tourism_flows_by_country ON tourism_flows (destination_country, destination);
CREATE TABLE regions (
  code {KEY} PRIMARY KEY,
  country {KEY} NOT NULL,
  updated_time_ms {INT} NOT NULL
);
CREATE INDEX regions_by_country ON regions (country, code);
)sql"},
};

std::string Expand(const char* ddl, sql::Dialect dialect) {
  const std::string key = dialect == sql::Dialect::kPostgres ? "TEXT COLLATE \"C\"" : "TEXT";
  return sql::ExpandDdl(absl::StrReplaceAll(ddl, {{"{KEY}", key}}), dialect);
}

}  // namespace

int64_t LatestSchemaVersion() { return std::end(kMigrations)[-1].version; }

absl::Status MigrateGeneration(sql::Connection& connection) {
  COOP_RETURN_IF_ERROR(connection.ExecuteScript(
      sql::ExpandDdl("CREATE TABLE IF NOT EXISTS schema_migrations (version {INT} PRIMARY KEY, "
                     "description TEXT NOT NULL, applied_time_ms {INT} NOT NULL)",
                     connection.dialect())));
  COOP_ASSIGN_OR_RETURN(std::vector<sql::Row> rows,
                        connection.Query("SELECT MAX(version) FROM schema_migrations"));
  const int64_t current = rows.empty() ? 0 : sql::AsInt(rows[0][0]);
  if (current > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the views database has schema version ", current, " but this build knows versions up to ",
        LatestSchemaVersion(), "; run a newer coop-views or rebuild into a fresh database"));
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    COOP_RETURN_IF_ERROR(connection.Begin(sql::Connection::TxMode::kWrite));
    absl::Status status = connection.ExecuteScript(Expand(migration.ddl, connection.dialect()));
    if (status.ok()) {
      status =
          connection
              .Execute(
                  "INSERT INTO schema_migrations (version, description, "
                  "applied_time_ms) VALUES ($1, $2, $3)",
                  {sql::Value(migration.version), sql::Value(std::string(migration.description)),
                   sql::Value(absl::ToUnixMillis(absl::Now()))})
              .status();
    }
    if (status.ok()) status = connection.Commit();
    if (!status.ok()) {
      connection.Rollback();
      return absl::Status(status.code(), absl::StrCat("schema migration ", migration.version, ": ",
                                                      status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace coop::views
