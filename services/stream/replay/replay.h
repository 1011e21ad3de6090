// The core of coop.v1.Subscriptions.Replay (subscriptions.proto): the events recorded in a closed
// time range, read from the event log in (recorded_time, partition, offset) order and ended with
// a summary holding the record digest of audit.proto (ComputeDigestResponse.sha256). No gRPC here:
// the service hands in a sink and passes the returned status on.
//
// How it reads. Each partition starts at its first record recorded at or after the range's start
// (Kafka offsets-for-times, so the wait for the first event does not grow with the log) and is
// read, read_committed, until its first record recorded at or after end + order_window, or its
// end offset as of the call's start, whichever comes first.
//
// Order. A record's timestamp is its event's recorded_time, stamped by the publisher instance that
// accepted it, so within one partition records are almost but not exactly in timestamp order. The
// replay trusts the disorder to stay within `order_window`: a record is delivered only when every
// partition not yet finished has read a record recorded later than its time plus the window.
// Should a record then turn up that sorts before one already delivered, the replay fails with
// FAILED_PRECONDITION naming it; it never delivers out of order.
//
// Reading and memory. Each partition has a queue of its own in the Kafka consumer, and the replay
// always reads the partition that has read the least far in time (the one the oldest buffered
// record waits for); librdkafka stops fetching a partition whose queue holds its prefetch limit
// (queued.max.messages.kbytes=4096, per partition). So no partition runs ahead of the others by
// more than its prefetch, nothing is paused and fetched again, and matching records wait in one
// buffer holding about the records recorded within one order window (which must be held to sort
// them). Memory is bounded by that plus 4 MiB of prefetch per partition (fetch.wait.max.ms=10, as
// a replay never waits for new records; `kafka.properties` may override both).
#ifndef COOP_SERVICES_STREAM_REPLAY_REPLAY_H_
#define COOP_SERVICES_STREAM_REPLAY_REPLAY_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/cursor/cursor_token.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/subscriptions.pb.h"
#include "services/stream/filter/event_filter.h"

namespace coop::stream {

struct ReplayOptions {
  kafka::KafkaConfig kafka;
  // The event log.
  std::string topic = "coop.events";
  // Names the log in position tokens (cluster id and topic).
  cursor::LogId log;
  // How far in the past the end of a range must lie, so that no record of it can still arrive.
  absl::Duration settle_delay = absl::Seconds(60);
  // The largest disorder of recorded times within one partition that the replay sorts out.
  absl::Duration order_window = absl::Seconds(5);
  // A ReplayProgress is sent at least this often while the replay runs.
  absl::Duration progress_interval = absl::Seconds(5);
  // Limit of each metadata and offset query to Kafka.
  absl::Duration kafka_timeout = absl::Seconds(30);
};

// [start, end): compared with recorded_time, which has millisecond precision.
struct ReplayRange {
  absl::Time start;
  absl::Time end;
};

// Streams the events recorded in `range` that `filter` matches and `may_see` allows, in
// (recorded_time, partition, offset) order, to `sink`: one ReplayResponse.event per event (the
// event, its position with the token cursor::EncodePosition(options.log, ...), the exact record
// value), a ReplayResponse.progress at least every options.progress_interval, then one
// ReplayResponse.summary (count, first and last position, the record digest over the delivered
// events). Events the caller may not see are skipped as if they were not in the log: not
// delivered, not in the digest, not named in errors.
//
// `may_see` is the caller's read scope; an empty function means the caller may see every event
// (then, with a filter that matches everything, no per-record facts are computed at all).
// `sink` returns false when the client has gone. Both run on the calling thread, which this
// function blocks until the replay ends; `cancel` may be set from any thread.
//
// Returns OK after the summary was sent, otherwise (nothing more is sent):
// - INVALID_ARGUMENT with a google.rpc.BadRequest on "end_time" when end is not after start;
// - OUT_OF_RANGE when end is less than options.settle_delay in the past;
// - FAILED_PRECONDITION when a partition's log start offset is above 0 and its oldest retained
//   record was not recorded before start (records of the range may have been deleted), or when a
//   record sorts before one already delivered (disorder beyond options.order_window);
// - DATA_LOSS naming partition and offset when a record of the range does not decode as an event
//   (common/events/record_codec.h), or when records were deleted while the replay read them;
// - CANCELLED when `sink` returned false or `cancel` was set;
// - NOT_FOUND for an unknown topic; Kafka errors with their codes (common/kafka/kafka_status.h),
//   e.g. UNAVAILABLE when the log cannot be reached at the start. Once reading, retriable errors
//   (a broker away) are waited out, with progress still sent, until it returns or `cancel`.
absl::Status Replay(const ReplayOptions& options, const ReplayRange& range,
                    const CompiledFilter& filter,
                    const std::function<bool(const EventFacts&)>& may_see,
                    const std::function<bool(coop::v1::ReplayResponse&&)>& sink,
                    const std::atomic<bool>& cancel);

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_REPLAY_REPLAY_H_
