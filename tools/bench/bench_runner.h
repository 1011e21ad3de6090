// The publisher benchmark: rounds of phases, each on a fresh topic (and, for the gRPC phases, a
// fresh coop-publisher child process), against one Kafka cluster.
//
// Phases, in this order within a round:
//   raw         a librdkafka producer in this process, as fast as it goes (the baseline);
//   stream      PublishStream;
//   unary       unary Publish from `unary_callers` concurrent callers;
//   unary_half  unary Publish paced at half the unary rate of the same round (or half_rate),
//               then "raw_half": the raw producer paced at that same rate, so that latency is
//               compared at equal load.
#ifndef COOP_TOOLS_BENCH_BENCH_RUNNER_H_
#define COOP_TOOLS_BENCH_BENCH_RUNNER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench/measurement.h"

namespace coop::bench {

inline constexpr const char* kPhases[] = {"raw", "stream", "unary", "unary_half"};

struct BenchConfig {
  std::string bootstrap_servers = "127.0.0.1:9092";
  std::string publisher_binary;
  int64_t events = 200000;    // Per phase and round (paced phases: see paced_duration).
  int32_t event_bytes = 300;  // Serialized envelope as stored.
  int32_t unary_callers = 64;
  int32_t rounds = 3;
  std::vector<std::string> phases = {"raw", "stream", "unary", "unary_half"};
  int32_t stream_count = 1;
  int32_t stream_window = 1000;
  int32_t raw_max_outstanding = 1000;
  // Rate of the paced phases in events/s; 0: half of the same round's unary rate.
  double half_rate = 0;
  // Paced phases send rate * paced_duration events (at most `events`, at least 1000).
  absl::Duration paced_duration = absl::Seconds(20);
  // The broker's pid file, to measure its CPU; empty: not measured.
  std::string broker_pid_file;
  int32_t partitions = 6;
  // librdkafka linger.ms of both the raw producer and the publisher's producer.
  int32_t linger_ms = 5;
  // Further coop-publisher flags, e.g. --cross_instance_dedup=false.
  std::vector<std::string> publisher_flags;

  // INVALID_ARGUMENT naming the field.
  absl::Status Validate() const;
};

struct RoundResult {
  int32_t round = 0;                // 1-based.
  std::vector<PhaseResult> phases;  // In the order run.

  // nullptr when the phase did not run.
  const PhaseResult* Find(const std::string& phase) const;
};

struct BenchResults {
  size_t event_bytes = 0;  // As built (may differ from the target by a byte).
  std::vector<RoundResult> rounds;
};

// Runs every round, printing a line per phase to `progress`. Fails on the first phase that
// cannot run (Kafka unreachable, the publisher does not start or does not exit cleanly); the
// child process is then killed and the phase's topic deleted.
absl::StatusOr<BenchResults> RunBenchmark(const BenchConfig& config, std::ostream& progress);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_BENCH_RUNNER_H_
