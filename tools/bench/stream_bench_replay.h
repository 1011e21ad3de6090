// The client side of the replay and seek benchmarks: one Subscriptions.Replay call, read to its
// summary, timed.
#ifndef COOP_TOOLS_BENCH_STREAM_BENCH_REPLAY_H_
#define COOP_TOOLS_BENCH_STREAM_BENCH_REPLAY_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace coop::bench {

struct ReplayCall {
  int64_t events = 0;              // Events received (single or in batches).
  int64_t messages = 0;            // ReplayResponse messages received.
  double first_event_seconds = 0;  // From the call's start to the first event (or the summary).
  double total_seconds = 0;        // From the call's start to the end of the stream.
};

// Replays [start, end) without a filter over `channel` (which should be connected already, so
// that connection set-up is not timed), reading each message into one reused response, with
// up to `events_per_message` events per message (ReplayRequest.max_events_per_message).
// Fails with the call's status when it does not end OK, and with INTERNAL when the summary is
// missing or its count differs from the events received.
absl::StatusOr<ReplayCall> ReplayOnce(const std::shared_ptr<grpc::Channel>& channel,
                                      absl::Time start, absl::Time end, int32_t events_per_message);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_STREAM_BENCH_REPLAY_H_
