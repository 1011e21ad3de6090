// The views benchmark (issue 4): how fast the views consumer projects the event log into SQLite
// and PostgreSQL, against a raw librdkafka consumer reading the same records in the same round,
// and whether read queries slow down as the history grows.
//
// A run generates `events` events (GenerateViewEvents), writes them to one topic, then runs
// `rounds` rounds of, in this order:
//   raw       a librdkafka consumer (assign from the beginning, read_committed) reading every
//             record and touching its value, nothing else: the baseline;
//   sqlite    a ViewConsumer on a fresh SQLite file, run until the end offsets;
//   floor-table, floor-timeline (unless `floor` is false)
//             the least any SQLite projection costs (SqliteFloor): one row per event into a
//             plain table, then into a table with the two indexes a timeline needs, compared
//             with the same raw phase as the sqlite phase;
//   raw       again, so that each projection is compared with its neighbour;
//   postgres  a ViewConsumer on a fresh PostgreSQL schema (when a URL is given).
// Then it times the Views queries on a 1k-event database and on the last round's SQLite
// database (views_bench_queries.h).
#ifndef COOP_TOOLS_BENCH_VIEWS_BENCH_RUNNER_H_
#define COOP_TOOLS_BENCH_VIEWS_BENCH_RUNNER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/bench/views_bench_phases.h"
#include "tools/bench/views_bench_queries.h"

namespace coop::bench {

struct ViewsBenchConfig {
  std::string bootstrap_servers;
  // libpq URL of the PostgreSQL server; empty: no postgres phase.
  std::string postgres_url;
  int64_t events = 1'000'000;
  int32_t rounds = 3;
  // Empty: a fresh topic per run, deleted at the end. Named: created when missing and filled;
  // an existing topic is reused (not written again) when it holds exactly `events` records, which
  // must be this generator's (same count and correction_percent); it is kept.
  std::string topic;
  int32_t partitions = 6;
  // Database files of the sqlite phase and of the query phase.
  std::string work_dir = "build/bench-views";
  int32_t max_batch_records = 5000;
  // Runs the floor phases after each sqlite phase.
  bool floor = true;
  // Share of generated events that correct an earlier one, in percent (the generator's default:
  // 1). A diagnostic knob: each correction re-folds its entity.
  int32_t correction_percent = 1;
  // Calls of each query kind per database size.
  int32_t query_samples = 2000;
  // The broker's pid file (deploy/kafka: <data-dir>/node-1/kafka.pid) to report its CPU; empty:
  // not measured.
  std::string broker_pid_file;

  // INVALID_ARGUMENT naming the field.
  absl::Status Validate() const;
};

struct ViewsBenchResults {
  std::string topic;
  bool produced = false;  // False: an existing topic was reused.
  int64_t produce_records = 0;
  double produce_seconds = 0;
  double mean_record_bytes = 0;       // Value (envelope) bytes per record as stored.
  std::vector<ConsumeResult> phases;  // In the order run.
  QueryResults queries;
};

// Runs everything, printing a line per phase to `progress`. Fails on the first phase that
// cannot run or reads a different number of records than were written; fresh topics are deleted
// in any case.
absl::StatusOr<ViewsBenchResults> RunViewsBenchmark(const ViewsBenchConfig& config,
                                                    std::ostream& progress);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_VIEWS_BENCH_RUNNER_H_
