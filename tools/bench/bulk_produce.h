// Loading a benchmark's history into a topic, fast.
#ifndef COOP_TOOLS_BENCH_BULK_PRODUCE_H_
#define COOP_TOOLS_BENCH_BULK_PRODUCE_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/envelope.pb.h"

namespace coop::bench {

// Writes `events` to `topic` as the publisher encodes them, with a producer tuned for bulk
// (acks=all, idempotence, long linger and large batches), and waits for every delivery. Returns
// the seconds from the first record queued to the last acknowledged. Fails on the first record
// that could not be written.
absl::StatusOr<double> ProduceEvents(const kafka::KafkaConfig& kafka, const std::string& topic,
                                     absl::Span<const coop::v1::Event> events,
                                     std::ostream& progress);

}  // namespace coop::bench

#endif  // COOP_TOOLS_BENCH_BULK_PRODUCE_H_
