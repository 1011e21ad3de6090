// coop-views-bench: events/s of the views projection into SQLite and PostgreSQL against a raw
// librdkafka consumer reading the same events in the same round, and the latency of the Views
// queries with 1k events of history and with all of them (issue 4; tools/bench/run-views-bench
// starts a broker and PostgreSQL and runs it). Prints a table and the goals to stdout, progress
// to stderr, and with --json the figures to a file.
//
// Exit codes: 0 ran (whether or not the goals were met); 1 a phase failed; 2 bad command line.
#include <fstream>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/bench/views_bench_report.h"
#include "tools/bench/views_bench_runner.h"

ABSL_FLAG(std::string, bootstrap_servers, "", "Kafka brokers, host:port,... (required)");
ABSL_FLAG(std::string, postgres_url, "",
          "PostgreSQL URL (postgresql://user@host:port/db); empty: skip the postgres phase");
ABSL_FLAG(int64_t, events, 1'000'000, "Events in the topic");
ABSL_FLAG(int32_t, rounds, 3, "Rounds of raw, sqlite, raw, postgres; the report gives medians");
ABSL_FLAG(std::string, topic, "",
          "Topic to read; empty: a fresh one (6 partitions), deleted at the end. A named topic is "
          "created and filled when missing, reused when it holds exactly --events records of this "
          "generator (an earlier run with the same --topic, --events and --correction_percent), "
          "and kept");
ABSL_FLAG(std::string, json, "", "Also write the figures as JSON to this file");
ABSL_FLAG(std::string, work_dir, "build/bench-views", "Folder for the SQLite databases");
ABSL_FLAG(int32_t, max_batch_records, 5000, "Records per projection batch (transaction) at most");
ABSL_FLAG(bool, floor, true,
          "After each sqlite phase, also time the SQLite floor: one row per event into a plain "
          "table, and into one with a timeline's two indexes");
ABSL_FLAG(int32_t, correction_percent, 1,
          "Share of generated events that correct an earlier one, in percent (diagnostics)");
ABSL_FLAG(int32_t, query_samples, 2000,
          "Timed calls per query kind and database size; 0 skips the query phase");
ABSL_FLAG(std::string, broker_pid_file, "",
          "The broker's pid file (deploy/kafka: <data-dir>/node-1/kafka.pid) to report its CPU");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "coop-views-bench --bootstrap_servers=HOST:PORT [--postgres_url=URL] [flags]: views "
      "projection and query benchmark");
  absl::ParseCommandLine(argc, argv);

  coop::bench::ViewsBenchConfig config;
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.postgres_url = absl::GetFlag(FLAGS_postgres_url);
  config.events = absl::GetFlag(FLAGS_events);
  config.rounds = absl::GetFlag(FLAGS_rounds);
  config.topic = absl::GetFlag(FLAGS_topic);
  config.work_dir = absl::GetFlag(FLAGS_work_dir);
  config.max_batch_records = absl::GetFlag(FLAGS_max_batch_records);
  config.floor = absl::GetFlag(FLAGS_floor);
  config.correction_percent = absl::GetFlag(FLAGS_correction_percent);
  config.query_samples = absl::GetFlag(FLAGS_query_samples);
  config.broker_pid_file = absl::GetFlag(FLAGS_broker_pid_file);
  if (absl::Status valid = config.Validate(); !valid.ok()) {
    std::cerr << "coop-views-bench: " << valid.message() << "\n";
    return 2;
  }

  absl::StatusOr<coop::bench::ViewsBenchResults> results =
      coop::bench::RunViewsBenchmark(config, std::cerr);
  if (!results.ok()) {
    std::cerr << "coop-views-bench: " << results.status() << "\n";
    return 1;
  }
  std::cout << coop::bench::ViewsTextReport(config, *results);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream file(path);
    file << coop::bench::ViewsJsonReport(config, *results);
    if (!file) {
      std::cerr << "coop-views-bench: cannot write " << path << "\n";
      return 1;
    }
  }
  return 0;
}
