#include "tools/coopctl/health_command.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/kafka/topic_admin.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tools/coopctl/table.h"

namespace coop::ctl {
namespace {

struct PartHealth {
  std::string part;
  std::string address;
  bool healthy = false;
  // SERVING, NOT_SERVING, UNREACHABLE, ... and the detail.
  std::string state;
  std::string detail;
};

PartHealth CheckService(const HealthOptions& options, const HealthTarget& target) {
  PartHealth health{.part = target.role, .address = target.address};
  absl::StatusOr<std::string> service = RoleServiceName(target.role);
  ConnectionOptions connection = options.connection;
  connection.address = target.address;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(connection);
  if (!service.ok() || !channel.ok()) {
    health.state = "ERROR";
    health.detail = std::string((service.ok() ? channel.status() : service.status()).message());
    return health;
  }
  std::unique_ptr<grpc::health::v1::Health::Stub> stub =
      grpc::health::v1::Health::NewStub(*channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(*service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::ClientContext context;
  PrepareContext(connection, context);
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    health.state = status.error_code() == grpc::StatusCode::NOT_FOUND ? "NOT_HOSTED"
                   : status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                       ? "UNREACHABLE"
                       : "ERROR";
    health.detail = status.error_code() == grpc::StatusCode::NOT_FOUND
                        ? absl::StrCat("the server there does not host ", *service)
                        : DescribeRpcError(status);
    return health;
  }
  health.state = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  health.healthy = response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  health.detail = *service;
  return health;
}

PartHealth CheckKafka(const HealthOptions& options) {
  PartHealth health{.part = "kafka", .address = options.kafka.bootstrap_servers};
  absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin =
      kafka::TopicAdmin::Create(options.kafka);
  absl::StatusOr<std::string> cluster =
      admin.ok() ? (*admin)->ClusterId(options.connection.timeout) : admin.status();
  if (!cluster.ok()) {
    health.state = "UNREACHABLE";
    health.detail = std::string(cluster.status().message());
    return health;
  }
  absl::StatusOr<kafka::TopicDescription> topic =
      (*admin)->DescribeTopic(options.events_topic, options.connection.timeout);
  if (!topic.ok()) {
    health.state = "NO_TOPIC";
    health.detail = absl::StrCat("cluster ", *cluster, "; topic ", options.events_topic, ": ",
                                 topic.status().message(), " (run coopctl topics ensure)");
    return health;
  }
  std::vector<std::string> problems;
  for (const kafka::PartitionDescription& partition : topic->partitions) {
    if (partition.leader < 0)
      problems.push_back(absl::StrCat("partition ", partition.id, " has no leader"));
    else if (partition.in_sync_replicas.size() < partition.replicas.size()) {
      problems.push_back(absl::StrCat("partition ", partition.id, " has ",
                                      partition.in_sync_replicas.size(), " of ",
                                      partition.replicas.size(), " replicas in sync"));
    }
  }
  health.healthy = problems.empty();
  health.state = problems.empty() ? "SERVING" : "DEGRADED";
  health.detail =
      absl::StrCat("cluster ", *cluster, "; ", options.events_topic, ": ", topic->partitions.size(),
                   " partitions", problems.empty() ? "" : "; ", absl::StrJoin(problems, "; "));
  return health;
}

}  // namespace

absl::StatusOr<std::string> RoleServiceName(const std::string& role) {
  if (role == "publisher") return "coop.v1.Publisher";
  if (role == "views") return "coop.v1.Views";
  if (role == "stream") return "coop.v1.Subscriptions";
  return absl::InvalidArgumentError(
      absl::StrCat("'", role, "' is not a role (publisher, views, stream)"));
}

absl::Status Health(const HealthOptions& options, std::ostream& out) {
  std::vector<PartHealth> parts;
  if (!options.kafka.bootstrap_servers.empty()) parts.push_back(CheckKafka(options));
  for (const HealthTarget& target : options.services) {
    parts.push_back(CheckService(options, target));
  }
  std::vector<std::string> unhealthy;
  Table table({"PART", "ADDRESS", "STATE", "DETAIL"}, /*max_cell_chars=*/0);
  for (const PartHealth& part : parts) {
    if (!part.healthy) unhealthy.push_back(absl::StrCat(part.part, " (", part.state, ")"));
    if (options.json) {
      nlohmann::ordered_json line = {{"part", part.part},
                                     {"address", part.address},
                                     {"healthy", part.healthy},
                                     {"state", part.state},
                                     {"detail", part.detail}};
      out << line.dump(-1, ' ', /*ensure_ascii=*/false) << "\n";
    } else {
      table.AddRow({part.part, part.address, part.state, part.detail});
    }
  }
  if (!options.json) table.Print(out);
  out.flush();
  if (!unhealthy.empty()) {
    return absl::UnavailableError(absl::StrCat("not healthy: ", absl::StrJoin(unhealthy, ", ")));
  }
  return absl::OkStatus();
}

}  // namespace coop::ctl
