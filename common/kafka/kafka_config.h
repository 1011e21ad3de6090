// Connection settings shared by every Kafka client of a process (producer, consumers, admin).
#ifndef COOP_COMMON_KAFKA_KAFKA_CONFIG_H_
#define COOP_COMMON_KAFKA_KAFKA_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace coop::kafka {

struct KafkaConfig {
  // Comma-separated host:port list of brokers to bootstrap from.
  std::string bootstrap_servers = "127.0.0.1:9092";
  // Reported to the brokers; shows up in their logs and quotas.
  std::string client_id = "coopstream";
  // librdkafka properties passed through unchanged and applied after our own defaults, so an
  // operator can reach any cluster (e.g. security.protocol=SASL_SSL, sasl.mechanisms=PLAIN,
  // ssl.ca.location) or tune any client setting without a code change. See librdkafka's
  // CONFIGURATION.md for the names. An unknown name or bad value fails client creation with
  // INVALID_ARGUMENT naming the property.
  std::map<std::string, std::string> properties;

  // Returns INVALID_ARGUMENT naming the first field that is empty or malformed.
  absl::Status Validate() const;

  // Adds "name=value" entries (as the --kafka_property flags give them) to `properties`;
  // INVALID_ARGUMENT naming the first entry that is not name=value, adding nothing.
  absl::Status AddProperties(const std::vector<std::string>& name_values);
};

}  // namespace coop::kafka

#endif  // COOP_COMMON_KAFKA_KAFKA_CONFIG_H_
