// Builds librdkafka configurations from KafkaConfig. Internal to common/kafka.
#ifndef COOP_COMMON_KAFKA_INTERNAL_CLIENT_CONF_H_
#define COOP_COMMON_KAFKA_INTERNAL_CLIENT_CONF_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/kafka/internal/handles.h"
#include "common/kafka/kafka_config.h"

namespace coop::kafka::internal {

using PropertyList = std::vector<std::pair<std::string, std::string>>;

// Applies, in order: bootstrap.servers and client.id from `config`, then `defaults` (the
// client's own settings), then `config.properties` (the operator's overrides). An unknown
// property or bad value is INVALID_ARGUMENT naming it.
absl::StatusOr<ConfHandle> MakeConf(const KafkaConfig& config, const PropertyList& defaults);

// Creates a client of `type` from `conf` (which it takes over, also on failure).
absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf);

}  // namespace coop::kafka::internal

#endif  // COOP_COMMON_KAFKA_INTERNAL_CLIENT_CONF_H_
