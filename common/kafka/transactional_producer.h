// Writes groups of records all or nothing, in Kafka transactions: read_committed readers see
// every record of a group or none.
//
// One transaction at a time (librdkafka allows one per producer); concurrent callers wait their
// turn, within their own timeout. `transactional_id` must be stable across restarts of one
// publisher instance and unique among instances: a restarted instance then fences its
// predecessor's unfinished transaction.
#ifndef COOP_COMMON_KAFKA_TRANSACTIONAL_PRODUCER_H_
#define COOP_COMMON_KAFKA_TRANSACTIONAL_PRODUCER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/kafka/kafka_config.h"
#include "common/kafka/record.h"

namespace coop::kafka {

class TransactionalProducer {
 public:
  // Registers the transactional id with the cluster (may take a few seconds).
  static absl::StatusOr<std::unique_ptr<TransactionalProducer>> Create(
      const KafkaConfig& config, const std::string& transactional_id, absl::Duration timeout);
  ~TransactionalProducer();
  TransactionalProducer(const TransactionalProducer&) = delete;
  TransactionalProducer& operator=(const TransactionalProducer&) = delete;

  // Writes `records` to `topic` in one transaction and returns their positions, in order. On
  // any error the transaction is aborted (nothing becomes visible) and the error returned:
  // UNAVAILABLE / DEADLINE_EXCEEDED when Kafka did not confirm in time (the caller may retry),
  // others as kafka_status.h maps them.
  absl::StatusOr<std::vector<RecordPosition>> WriteAll(absl::string_view topic,
                                                       const std::vector<KafkaRecord>& records,
                                                       absl::Duration timeout);

  // OK until the producer has hit a fatal error (e.g. fenced: another producer registered the
  // same transactional id), after which no transaction can succeed; that error then.
  absl::Status health() const;

 private:
  struct Impl;
  explicit TransactionalProducer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_TRANSACTIONAL_PRODUCER_H_
