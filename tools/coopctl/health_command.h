// coopctl health: is each part of the platform up? The Kafka cluster (reachable, the event
// topic present with a leader for every partition, replicas in sync) and each gRPC service
// (grpc.health.v1 Check of its service name).
#ifndef COOP_TOOLS_COOPCTL_HEALTH_COMMAND_H_
#define COOP_TOOLS_COOPCTL_HEALTH_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/kafka/kafka_config.h"
#include "tools/coopctl/connection.h"

namespace coop::ctl {

struct HealthTarget {
  // "publisher", "views" or "stream".
  std::string role;
  // host:port.
  std::string address;
};

struct HealthOptions {
  // TLS, token and timeout for every service; the address comes from each target.
  ConnectionOptions connection;
  std::vector<HealthTarget> services;
  // Checked unless `kafka.bootstrap_servers` is empty.
  kafka::KafkaConfig kafka;
  std::string events_topic = "coop.events";
  // One JSON object per part instead of a line of text.
  bool json = false;
};

// Checks every part, writing one line each ("publisher  127.0.0.1:50051  SERVING"); OK when
// every part is healthy, UNAVAILABLE naming those that are not otherwise.
absl::Status Health(const HealthOptions& options, std::ostream& out);

// The gRPC service a role serves ("coop.v1.Publisher" for "publisher"); INVALID_ARGUMENT for an
// unknown role.
absl::StatusOr<std::string> RoleServiceName(const std::string& role);

}  // namespace coop::ctl

#endif  // COOP_TOOLS_COOPCTL_HEALTH_COMMAND_H_
