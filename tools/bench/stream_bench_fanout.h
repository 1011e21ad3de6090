// The fan-out benchmark: many concurrent Subscribe streams on one coop-stream process while
// events are published at a steady rate, against a plain Kafka consumer reading the same events
// in the same run.
//
// Subscribers (gRPC callback API, so a thousand streams need no thousand threads) start at
// LOG_EDGE_LATEST; publishing begins once every one has received its CaughtUp. Of them,
// `selective` have a filter on payload types or subject prefixes (four kinds, in turn), and
// `slow` of the others read one message per `slow_read_interval`; the rest take every message as
// soon as it arrives ("fast"). Fast subscribers share `channels` connections; the slow ones have
// two of their own, so that their stalled HTTP/2 windows do not throttle fast streams on the
// client side.
//
// Events (GenerateViewEvents, with unique ids "fanout-<n>" and recorded_time the send time) are
// written with kafka::Producer (the publisher's settings: acks=all, idempotence, linger.ms=5) by
// one thread, paced open loop at `rate`. Latency runs from the Produce() call to the moment a
// subscriber (or the plain consumer) has the event; only fast subscribers' deliveries count.
#ifndef COOP_TOOLS_BENCH_STREAM_BENCH_FANOUT_H_
#define COOP_TOOLS_BENCH_STREAM_BENCH_FANOUT_H_

#include <sys/types.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_config.h"

namespace coop::bench {

struct FanoutOptions {
  kafka::KafkaConfig kafka;
  // An empty topic, served by the coop-stream at `server_address` (process `server_pid`).
  std::string topic;
  std::string server_address;
  pid_t server_pid = 0;
  pid_t broker_pid = 0;  // 0: its CPU is not measured.
  int32_t subscribers = 1000;
  int32_t selective = 500;
  int32_t slow = 50;
  absl::Duration slow_read_interval = absl::Milliseconds(100);
  double rate = 1000;  // Events/s published.
  absl::Duration duration = absl::Seconds(30);
  // After publishing, how long fast subscribers may take to receive what they are due.
  absl::Duration drain = absl::Seconds(20);
  int32_t channels = 16;  // Connections of the fast subscribers.
  // SubscribeRequest.max_events_per_message of every subscriber but the slow ones, which take
  // one event per message (so that they stay slow).
  int32_t events_per_message = 100;
};

struct LatencySummary {
  int64_t count = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

struct FanoutResult {
  int64_t published = 0;
  double publish_seconds = 0;  // First to last Produce() call: the window.
  double connect_seconds = 0;  // Until every subscriber had its CaughtUp.
  // Messages with an event received by all subscribers, and by the fast ones, within the window.
  int64_t delivered_in_window = 0;
  int64_t fast_delivered_in_window = 0;
  int64_t fast_expected = 0;   // Sum over fast subscribers of the events matching their filter.
  int64_t fast_delivered = 0;  // By the end of the drain.
  int64_t slow_delivered = 0;  // By the end of the drain.
  int32_t fast_subscribers = 0;
  // Lowest share delivered/expected over fast subscribers at the end of the window (of the
  // events published so far) and after the drain.
  double fast_min_share_at_window_end = 0;
  double fast_min_share_after_drain = 0;
  // Fast subscribers with less than 90 % of their events at the end of the window, or less than
  // all of them after the drain.
  int32_t starved = 0;
  double drain_seconds = 0;  // From the window's end until every fast subscriber had everything.
  LatencySummary stream_latency;   // Fast subscribers' deliveries.
  LatencySummary raw_latency;      // The plain consumer.
  int64_t rss_max_bytes = 0;       // Largest VmRSS sampled every 250 ms during the phase.
  int64_t hwm_bytes = 0;           // VmHWM at the end of the phase.
  double server_cpu_seconds = -1;  // Window plus drain.
  double client_cpu_seconds = 0;
  double broker_cpu_seconds = -1;

  double deliveries_per_second() const {
    return publish_seconds > 0 ? static_cast<double>(delivered_in_window) / publish_seconds : 0;
  }
};

// Runs the phase, printing progress lines to `progress`. Fails when a subscription cannot
// start, ends on its own, or an event cannot be published; the streams are cancelled in any
// case before it returns.
absl::StatusOr<FanoutResult> RunFanout(const FanoutOptions& options, std::ostream& progress);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_STREAM_BENCH_FANOUT_H_
