// The publish path, free of gRPC: deduplicates, writes to Kafka, acknowledges what Kafka stored.
//
// Callers (the gRPC service) have already authenticated the caller, set the event's source
// from that identity and validated the event. EventPublisher sets recorded_time, answers
// retries of recorded events with their original position (see DedupIndex), and writes the
// others: single events through the shared idempotent producer, batches in one Kafka
// transaction.
//
// Delivery guarantee: an acknowledgement means Kafka stored the event with acks=all; an error
// result means it was not written (INVALID_ARGUMENT, ALREADY_EXISTS, RESOURCE_EXHAUSTED) or
// the outcome is unknown (UNAVAILABLE, DEADLINE_EXCEEDED: retry with the same id).
#ifndef COOP_SERVICES_PUBLISHER_EVENT_PUBLISHER_H_
#define COOP_SERVICES_PUBLISHER_EVENT_PUBLISHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/cursor/cursor_token.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/publisher.pb.h"

namespace coop::publisher {

struct EventPublisherConfig {
  kafka::KafkaConfig kafka;
  std::string events_topic = "coop.events";
  // A retry of the same (source, id) within this window is answered from the log, not written.
  absl::Duration dedup_window = absl::Hours(24 * 7);
  // Stable per instance and unique among instances (Kafka transactional id suffix).
  std::string instance_id = "publisher-1";
  // How long Kafka may take to confirm a record before it is failed (librdkafka
  // message.timeout.ms); calls with a shorter deadline answer UNAVAILABLE at their deadline.
  absl::Duration delivery_timeout = absl::Seconds(30);
  // Events waiting for Kafka (in the producer queue, and before it while the log is being read
  // for cross-instance dedup) before Publish answers RESOURCE_EXHAUSTED: bounds memory.
  int32_t max_queued_records = 100000;
  // Before answering "not seen yet", read the log up to its current end, so that an event
  // another publisher instance acknowledged is recognised as a duplicate. Costs one Kafka
  // round trip per group of concurrently arriving events; off only when a single instance
  // writes the topic.
  bool cross_instance_dedup = true;
  // How long start-up may take (connecting, loading the dedup window).
  absl::Duration startup_timeout = absl::Seconds(60);

  absl::Status Validate() const;
};

class EventPublisher {
 public:
  using AckCallback = absl::AnyInvocable<void(absl::StatusOr<coop::v1::PublishAck>) &&>;

  static absl::StatusOr<std::unique_ptr<EventPublisher>> Create(const EventPublisherConfig& config);
  // Waits for outstanding deliveries (each callback runs exactly once) and stops.
  ~EventPublisher();

  // Records one event. `done` runs exactly once, with the ack or an error, by `deadline` at the
  // latest: inside this call when the answer needs no write (a duplicate, a refusal), else
  // later on the producer's or the deadline watcher's thread.
  void Publish(coop::v1::Event event, absl::Time deadline, AckCallback done);

  // Records `events` (ids unique among them) all or nothing. Blocks until done or `deadline`.
  absl::StatusOr<std::vector<coop::v1::PublishAck>> PublishBatch(
      std::vector<coop::v1::Event> events, absl::Time deadline);

  // The log that positions and cursor tokens refer to.
  const cursor::LogId& log() const;
  // Records queued or in flight in the producer.
  int64_t QueueDepth() const;

  // OK while every publish path can write; an error once one cannot any more (the batch
  // producer was fenced by another instance with the same instance_id), which only a restart
  // with a unique --instance_id cures.
  absl::Status health() const;

 private:
  struct Impl;
  explicit EventPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_EVENT_PUBLISHER_H_
