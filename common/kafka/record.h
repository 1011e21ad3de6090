// A Kafka record as coopstream reads and writes it, free of librdkafka types.
#ifndef COOP_COMMON_KAFKA_RECORD_H_
#define COOP_COMMON_KAFKA_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace coop::kafka {

struct RecordHeader {
  std::string name;
  std::string value;  // Raw bytes.

  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct KafkaRecord {
  std::string key;    // Raw bytes; records with the same key go to the same partition.
  std::string value;  // Raw bytes.
  std::vector<RecordHeader> headers;  // In order; names may repeat, as Kafka allows.
  // The record's CreateTime; unset lets the producer stamp the time it sends.
  std::optional<absl::Time> timestamp;
};

// Where a record lies in Kafka.
struct RecordPosition {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  absl::Time timestamp = absl::InfinitePast();
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_RECORD_H_
