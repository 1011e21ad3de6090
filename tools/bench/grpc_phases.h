// The benchmark's gRPC clients of coop.v1.Publisher: PublishStream, unary Publish from many
// concurrent callers, and unary Publish paced at a fixed rate. Every call carries the bench
// principal's API key; latency is send -> acknowledgement as the client sees it.
#ifndef COOP_TOOLS_BENCH_GRPC_PHASES_H_
#define COOP_TOOLS_BENCH_GRPC_PHASES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "coop/v1/publisher.grpc.pb.h"
#include "tools/bench/bench_events.h"
#include "tools/bench/measurement.h"
#include "tools/bench/publisher_process.h"

namespace coop::bench {

struct GrpcClient {
  coop::v1::Publisher::Stub* stub = nullptr;
  std::string api_key;
};

// Publishes probe events until one is acknowledged (so the server's producer is connected
// before measuring starts). UNAVAILABLE with the server's log when it exits,
// DEADLINE_EXCEEDED when no probe succeeds within `timeout`.
absl::Status WaitUntilServing(const GrpcClient& client, const EventFactory& events,
                              PublisherProcess& server, absl::Duration timeout);

struct StreamPhaseOptions {
  int64_t events = 0;
  int32_t streams = 1;  // Events are split evenly among them.
  // Unanswered events per stream; the server's own limit is 1000 (publisher.proto).
  int32_t window = 1000;
};

// Sends the events over `streams` bidirectional PublishStream calls, each with a writer and a
// reader thread. Failed events are counted in the result.
PhaseResult RunStreamPhase(const GrpcClient& client, const EventFactory& events,
                           const StreamPhaseOptions& options, CpuMeter& cpu);

struct UnaryPhaseOptions {
  int64_t events = 0;
  // Closed loop: this many callers, each sending its next Publish when the last is answered.
  int32_t callers = 64;
  // Open loop instead when > 0: one Publish due every 1 / rate seconds, however many are in
  // flight (up to max_outstanding); latency counts from when a call was due.
  double rate = 0;
  int32_t max_outstanding = 10000;
};

// Unary Publish through gRPC's callback API (no thread per caller). Failed calls are counted
// in the result.
PhaseResult RunUnaryPhase(const GrpcClient& client, const EventFactory& events,
                          const UnaryPhaseOptions& options, CpuMeter& cpu);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_GRPC_PHASES_H_
