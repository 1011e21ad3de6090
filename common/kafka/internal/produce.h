// Hands one KafkaRecord to a librdkafka producer. Internal to common/kafka; shared by Producer
// and TransactionalProducer.
#ifndef COOP_COMMON_KAFKA_INTERNAL_PRODUCE_H_
#define COOP_COMMON_KAFKA_INTERNAL_PRODUCE_H_

#include <librdkafka/rdkafka.h>

#include "absl/strings/string_view.h"
#include "common/kafka/record.h"

namespace coop::kafka::internal {

// Copies `record` (key, value, headers, timestamp) into the producer's queue for `topic`, with
// `opaque` as the delivery report's per-message opaque. On an error nothing was queued and no
// delivery report will come.
rd_kafka_resp_err_t ProduceRecord(rd_kafka_t* producer, const std::string& topic,
                                  const KafkaRecord& record, void* opaque);

}  // namespace coop::kafka::internal

#endif  // COOP_COMMON_KAFKA_INTERNAL_PRODUCE_H_
