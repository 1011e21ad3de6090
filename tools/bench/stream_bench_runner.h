// The stream benchmark (issue 5): coop-stream's Replay, the cost of seeking to the end of a long
// history, and Subscribe fan-out, each against a baseline measured in the same run.
//
// A run creates fresh 6-partition topics with the event log's settings (kafka::EventTopicSpecs:
// kept forever), starts one coop-stream child per topic (plain text, anonymous principal
// "local-dev" of a policy file it writes, --settle_delay=1s) and deletes the topics at the end.
//   replay  `events` events (GenerateViewEvents, recorded 10 ms apart from 2025-09-10) in one
//           topic; per round kcat reads the whole topic (the baseline), then one Replay call
//           over the whole time range; events/s of both and their ratio.
//   seek    a second topic with `seek_small_events` of the same events; Replay calls for the
//           time range of the last `seek_range_events` events of each topic, alternating
//           between the two, `seek_calls` each after one untimed call: the time to the first
//           event, and its ratio (long history over short).
//   fanout  a third, empty topic and stream_bench_fanout.h.
#ifndef COOP_TOOLS_BENCH_STREAM_BENCH_RUNNER_H_
#define COOP_TOOLS_BENCH_STREAM_BENCH_RUNNER_H_

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench/stream_bench_fanout.h"

namespace coop::bench {

struct StreamBenchConfig {
  std::string bootstrap_servers;
  std::string stream_binary;  // coop-stream.
  std::string kcat = "kcat";  // Looked up in PATH unless it holds a '/'.
  // The policy file, the children's logs.
  std::string work_dir = "build/bench-stream";
  // The broker's pid file (deploy/kafka: <data-dir>/node-1/kafka.pid) to report its CPU; empty:
  // not measured.
  std::string broker_pid_file;
  std::set<std::string> phases = {"replay", "seek", "fanout"};
  std::vector<std::string> stream_flags;  // Extra coop-stream flags, appended.

  int64_t events = 1'000'000;  // The long history (replay, and seek's long topic).
  int32_t rounds = 3;          // Replay rounds of kcat then coop-stream.
  // ReplayRequest.max_events_per_message of the timed replays (0: one event per message).
  int32_t replay_events_per_message = 1000;
  int64_t seek_small_events = 1000;
  int64_t seek_range_events = 100;
  int32_t seek_calls = 9;

  int32_t subscribers = 1000;
  int32_t selective = 500;
  int32_t slow = 50;
  absl::Duration slow_read_interval = absl::Milliseconds(100);
  double rate = 1000;
  absl::Duration fanout_duration = absl::Seconds(30);
  absl::Duration drain = absl::Seconds(20);
  int32_t channels = 16;
  // SubscribeRequest.max_events_per_message of the fast and selective subscribers.
  int32_t fanout_events_per_message = 100;

  // INVALID_ARGUMENT naming the field.
  absl::Status Validate() const;
};

struct ReplayRound {
  int32_t round = 0;  // 1-based.
  int64_t records = 0;
  double kcat_seconds = 0;
  double kcat_cpu_seconds = 0;
  double kcat_broker_cpu_seconds = -1;
  double stream_seconds = 0;
  double stream_first_event_seconds = 0;
  double stream_server_cpu_seconds = -1;
  double stream_client_cpu_seconds = 0;
  double stream_broker_cpu_seconds = -1;

  double kcat_per_second() const { return records / kcat_seconds; }
  double stream_per_second() const { return records / stream_seconds; }
  double ratio() const { return kcat_seconds / stream_seconds; }
};

struct SeekResult {
  int64_t small_history = 0;
  int64_t large_history = 0;
  int64_t range_events = 0;
  // Per timed call, seconds from the call's start to the first event and to the end.
  std::vector<double> small_first;
  std::vector<double> large_first;
  std::vector<double> small_total;
  std::vector<double> large_total;
};

struct StreamBenchResults {
  int64_t produce_records = 0;
  double produce_seconds = 0;
  double mean_record_bytes = 0;  // Record value (serialized envelope) bytes.
  std::vector<ReplayRound> replay;
  bool seek_ran = false;
  SeekResult seek;
  bool fanout_ran = false;
  FanoutResult fanout;
};

// Runs the phases in `config.phases`, printing a line per step to `progress`. Fails on the
// first phase that cannot run or delivers a different number of events than were written; the
// children are stopped and the topics deleted in any case.
absl::StatusOr<StreamBenchResults> RunStreamBenchmark(const StreamBenchConfig& config,
                                                      std::ostream& progress);

double Median(std::vector<double> values);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_STREAM_BENCH_RUNNER_H_
