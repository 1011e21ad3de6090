// coop-stream-bench: coop-stream's Replay against kcat reading the same topic, the time to the
// first replayed event with a short and a long history, and 1,000 concurrent Subscribe streams
// against a plain Kafka consumer, all in one run (issue 5; tools/bench/run-stream-bench starts a
// private broker and runs it). Prints tables and the goals to stdout, progress to stderr, and
// with --json the figures to a file.
//
// Exit codes: 0 ran (whether or not the goals were met); 1 a phase failed; 2 bad command line.
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/bench/stream_bench_report.h"
#include "tools/bench/stream_bench_runner.h"

#ifndef COOP_STREAM_BINARY
#define COOP_STREAM_BINARY ""
#endif

ABSL_FLAG(std::string, bootstrap_servers, "", "Kafka brokers, host:port,... (required)");
ABSL_FLAG(std::string, stream_binary, COOP_STREAM_BINARY,
          "coop-stream to start (default: the one built next to this bench)");
ABSL_FLAG(std::vector<std::string>, stream_flag, {},
          "Extra coop-stream flag, e.g. --stream_flag=--ring_mib=32 (repeatable)");
ABSL_FLAG(std::string, kcat, "kcat", "kcat binary for the replay baseline");
ABSL_FLAG(std::vector<std::string>, phases, std::vector<std::string>({"replay", "seek", "fanout"}),
          "Phases to run: replay, seek, fanout");
ABSL_FLAG(int64_t, events, 1'000'000, "Events of history (replay, and seek's long history)");
ABSL_FLAG(int32_t, replay_events_per_message, 1000,
          "ReplayRequest.max_events_per_message of the replays (0: one event per message)");
ABSL_FLAG(int32_t, rounds, 3, "Replay rounds (kcat, then coop-stream); the report gives medians");
ABSL_FLAG(int64_t, seek_small_events, 1000, "Events of seek's short history");
ABSL_FLAG(int64_t, seek_range_events, 100, "Events in seek's range at the end of history");
ABSL_FLAG(int32_t, seek_calls, 9, "Timed seek calls per history");
ABSL_FLAG(int32_t, subscribers, 1000, "Concurrent Subscribe streams in the fan-out phase");
ABSL_FLAG(int32_t, selective, 500, "Of them, with a filter on types or subject prefixes");
ABSL_FLAG(int32_t, slow, 50, "Of the others, reading slowly");
ABSL_FLAG(absl::Duration, slow_read_interval, absl::Milliseconds(100),
          "A slow subscriber reads one message per this interval");
ABSL_FLAG(double, rate, 1000, "Events/s published during the fan-out phase");
ABSL_FLAG(absl::Duration, fanout_duration, absl::Seconds(30), "How long the fan-out publishes");
ABSL_FLAG(absl::Duration, drain, absl::Seconds(20),
          "After publishing, how long fast subscribers may take to receive their events");
ABSL_FLAG(int32_t, channels, 16, "gRPC connections of the fast subscribers");
ABSL_FLAG(int32_t, fanout_events_per_message, 100,
          "SubscribeRequest.max_events_per_message of the fan-out's fast and selective "
          "subscribers (0: one event per message)");
ABSL_FLAG(std::string, work_dir, "build/bench-stream", "Folder for the policy file and logs");
ABSL_FLAG(std::string, json, "", "Also write the figures as JSON to this file");
ABSL_FLAG(std::string, broker_pid_file, "",
          "The broker's pid file (deploy/kafka: <data-dir>/node-1/kafka.pid) to report its CPU");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "coop-stream-bench --bootstrap_servers=HOST:PORT [flags]: coop-stream replay, seek and "
      "fan-out benchmark");
  absl::ParseCommandLine(argc, argv);

  coop::bench::StreamBenchConfig config;
  config.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.stream_binary = absl::GetFlag(FLAGS_stream_binary);
  config.stream_flags = absl::GetFlag(FLAGS_stream_flag);
  config.kcat = absl::GetFlag(FLAGS_kcat);
  const std::vector<std::string> phases = absl::GetFlag(FLAGS_phases);
  config.phases = std::set<std::string>(phases.begin(), phases.end());
  config.events = absl::GetFlag(FLAGS_events);
  config.rounds = absl::GetFlag(FLAGS_rounds);
  config.replay_events_per_message = absl::GetFlag(FLAGS_replay_events_per_message);
  config.seek_small_events = absl::GetFlag(FLAGS_seek_small_events);
  config.seek_range_events = absl::GetFlag(FLAGS_seek_range_events);
  config.seek_calls = absl::GetFlag(FLAGS_seek_calls);
  config.subscribers = absl::GetFlag(FLAGS_subscribers);
  config.selective = absl::GetFlag(FLAGS_selective);
  config.slow = absl::GetFlag(FLAGS_slow);
  config.slow_read_interval = absl::GetFlag(FLAGS_slow_read_interval);
  config.rate = absl::GetFlag(FLAGS_rate);
  config.fanout_duration = absl::GetFlag(FLAGS_fanout_duration);
  config.drain = absl::GetFlag(FLAGS_drain);
  config.channels = absl::GetFlag(FLAGS_channels);
  config.fanout_events_per_message = absl::GetFlag(FLAGS_fanout_events_per_message);
  config.work_dir = absl::GetFlag(FLAGS_work_dir);
  config.broker_pid_file = absl::GetFlag(FLAGS_broker_pid_file);
  if (absl::Status valid = config.Validate(); !valid.ok()) {
    std::cerr << "coop-stream-bench: " << valid.message() << "\n";
    return 2;
  }

  absl::StatusOr<coop::bench::StreamBenchResults> results =
      coop::bench::RunStreamBenchmark(config, std::cerr);
  if (!results.ok()) {
    std::cerr << "coop-stream-bench: " << results.status() << "\n";
    return 1;
  }
  std::cout << coop::bench::StreamTextReport(config, *results);
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty()) {
    std::ofstream file(path);
    file << coop::bench::StreamJsonReport(config, *results);
    if (!file) {
      std::cerr << "coop-stream-bench: cannot write " << path << "\n";
      return 1;
    }
  }
  return 0;
}
