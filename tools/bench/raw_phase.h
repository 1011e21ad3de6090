// The baseline: the benchmark's events written straight to Kafka by a librdkafka producer
// configured as the publisher's (acks=all, idempotence, linger.ms=5), with no gRPC and no
// publisher in between. Latency is produce call -> delivery report.
#ifndef COOP_TOOLS_BENCH_RAW_PHASE_H_
#define COOP_TOOLS_BENCH_RAW_PHASE_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "tools/bench/bench_events.h"
#include "tools/bench/measurement.h"

namespace coop::bench {

struct RawPhaseOptions {
  std::string bootstrap_servers;
  std::string topic;
  int64_t events = 0;
  // Records produced but not yet reported; the producer waits for reports beyond this.
  int32_t max_outstanding = 1000;
  // Events/s, paced open loop (each event is due at start + i / rate and its latency counts
  // from then); 0: as fast as max_outstanding allows.
  double rate = 0;
  pid_t broker_pid = 0;  // 0: broker CPU not measured.
  // librdkafka linger.ms, the same as the publisher's producer is given.
  int32_t linger_ms = 5;
};

// Writes the records the publisher would write for the same events (EncodeRecord of the
// stamped event: same key, value, headers and timestamp). One record is written and confirmed
// before measuring starts, so connection set-up is not measured. UNAVAILABLE when Kafka cannot
// be reached; failed deliveries are counted in the result, not returned.
absl::StatusOr<PhaseResult> RunRawPhase(const RawPhaseOptions& options, const EventFactory& events);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_RAW_PHASE_H_
