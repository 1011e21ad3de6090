// The process's Kafka producer.
//
// Delivery guarantee: acks=all with idempotence. A delivery callback with an OK result means
// every in-sync replica (at least min.insync.replicas) has stored the record; records of one
// key keep their order and are never duplicated by the producer's own retries. An error result
// means the record is not known to be stored (the caller may retry; the dedup of later layers
// makes that safe).
//
// Threading: Produce() may be called from any thread. One internal thread polls librdkafka and
// runs the delivery callbacks; callbacks must only hand the result back (complete a waiting
// call), never block or do work.
#ifndef COOP_COMMON_KAFKA_PRODUCER_H_
#define COOP_COMMON_KAFKA_PRODUCER_H_

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_config.h"
#include "common/kafka/record.h"

namespace coop::kafka {

class Producer {
 public:
  using DeliveryCallback = absl::AnyInvocable<void(absl::StatusOr<RecordPosition>) &&>;

  // Starts the client and its poll thread. INVALID_ARGUMENT for a bad configuration.
  static absl::StatusOr<std::unique_ptr<Producer>> Create(const KafkaConfig& config);

  // Waits up to 10 s for outstanding records, then fails what is left with UNAVAILABLE (each
  // callback still runs exactly once) and stops the poll thread.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues `record` for `topic`. On OK, `on_delivery` runs exactly once, later, on the poll
  // thread. On error it never runs: RESOURCE_EXHAUSTED when the local queue is full (retry
  // after a short wait), INVALID_ARGUMENT for a record over the size limit.
  absl::Status Produce(absl::string_view topic, const KafkaRecord& record,
                       DeliveryCallback on_delivery);

  // Produce() and wait for the delivery report. DEADLINE_EXCEEDED when it does not come within
  // `timeout`; the record may then still be stored later.
  absl::StatusOr<RecordPosition> ProduceAndWait(absl::string_view topic, const KafkaRecord& record,
                                                absl::Duration timeout);

  // Records queued or in flight, not yet reported.
  int64_t OutstandingRecords() const;

 private:
  struct Impl;
  explicit Producer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_PRODUCER_H_
