// coop-publish-bench: throughput, CPU and acknowledgement latency of the publisher against a
// raw librdkafka producer, on one Kafka cluster (docs/benchmarks.md has the figures and how to
// run it). Prints a table and the goals to stdout, progress to stderr, and with --json the
// figures to a file.
//
// Exit codes: 0 ran (whether or not the goals were met); 1 a phase failed or events failed;
// 2 bad command line.
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "tools/bench/bench_runner.h"
#include "tools/bench/report.h"

ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::string, publisher_binary, COOP_PUBLISHER_BINARY,
          "The coop-publisher to start for each gRPC phase (default: the one built beside this)");
ABSL_FLAG(int64_t, events, 200000,
          "Events per phase and round (paced phases: rate x --paced_seconds, at most this)");
ABSL_FLAG(int32_t, event_bytes, 300, "Serialized size of each event as stored in Kafka");
ABSL_FLAG(int32_t, unary_callers, 64, "Concurrent callers of unary Publish");
ABSL_FLAG(int32_t, rounds, 3, "Rounds of all phases; the report gives medians over them");
ABSL_FLAG(std::vector<std::string>, phases,
          std::vector<std::string>({"raw", "stream", "unary", "unary_half"}),
          "Phases to run, of raw,stream,unary,unary_half (unary_half also runs raw_half: the raw "
          "producer at the same rate)");
ABSL_FLAG(int32_t, stream_count, 1, "Concurrent PublishStream calls in the stream phase");
ABSL_FLAG(int32_t, stream_window, 1000,
          "Unanswered events per stream (the server holds at most 1000)");
ABSL_FLAG(int32_t, raw_max_outstanding, 1000,
          "Records the raw producer has in flight at most (default: a stream's window)");
ABSL_FLAG(double, half_rate, 0,
          "Rate of the paced phases in events/s; 0: half the unary rate of the same round");
ABSL_FLAG(int32_t, paced_seconds, 20, "Length of the paced phases (events = rate x this)");
ABSL_FLAG(std::string, broker_pid_file, "",
          "The broker's pid file (deploy/kafka: <data-dir>/node-1/kafka.pid) to report its CPU");
ABSL_FLAG(std::string, json, "", "Also write the figures as JSON to this file");
ABSL_FLAG(int32_t, linger_ms, 5,
          "librdkafka linger.ms of both the raw producer and the publisher (--kafka_property)");
ABSL_FLAG(std::vector<std::string>, publisher_flag, {},
          "Further coop-publisher flags, comma-separated (e.g. --cross_instance_dedup=false)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "coop-publish-bench --bootstrap_servers=HOST:PORT [flags]: publisher benchmark");
  absl::ParseCommandLine(argc, argv);

  coop::bench::BenchConfig config;
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.publisher_binary = absl::GetFlag(FLAGS_publisher_binary);
  config.events = absl::GetFlag(FLAGS_events);
  config.event_bytes = absl::GetFlag(FLAGS_event_bytes);
  config.unary_callers = absl::GetFlag(FLAGS_unary_callers);
  config.rounds = absl::GetFlag(FLAGS_rounds);
  config.phases = absl::GetFlag(FLAGS_phases);
  config.stream_count = absl::GetFlag(FLAGS_stream_count);
  config.stream_window = absl::GetFlag(FLAGS_stream_window);
  config.raw_max_outstanding = absl::GetFlag(FLAGS_raw_max_outstanding);
  config.half_rate = absl::GetFlag(FLAGS_half_rate);
  config.paced_duration = absl::Seconds(absl::GetFlag(FLAGS_paced_seconds));
  config.broker_pid_file = absl::GetFlag(FLAGS_broker_pid_file);
  config.linger_ms = absl::GetFlag(FLAGS_linger_ms);
  config.publisher_flags = absl::GetFlag(FLAGS_publisher_flag);
  if (absl::Status valid = config.Validate(); !valid.ok()) {
    std::cerr << "coop-publish-bench: " << valid.message() << "\n";
    return 2;
  }

  absl::StatusOr<coop::bench::BenchResults> results = coop::bench::RunBenchmark(config, std::cerr);
  if (!results.ok()) {
    std::cerr << "coop-publish-bench: " << results.status() << "\n";
    return 1;
  }
  std::cout << coop::bench::TextReport(config, *results);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream file(path);
    file << coop::bench::JsonReport(config, *results);
    if (!file) {
      std::cerr << "coop-publish-bench: cannot write " << path << "\n";
      return 1;
    }
  }
  for (const coop::bench::RoundResult& round : results->rounds) {
    for (const coop::bench::PhaseResult& phase : round.phases) {
      if (phase.errors > 0) {
        std::cerr << "coop-publish-bench: round " << round.round << " " << phase.phase << ": "
                  << phase.errors << " events failed, first: " << phase.first_error << "\n";
        return 1;
      }
    }
  }
  return 0;
}
