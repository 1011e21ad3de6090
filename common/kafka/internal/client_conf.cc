#include "common/kafka/internal/client_conf.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace coop::kafka::internal {
namespace {

absl::Status Set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value,
                 absl::string_view origin) {
  std::array<char, 512> err{};
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err.data(), err.size()) !=
      RD_KAFKA_CONF_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ".", name, ": ", absl::string_view(err.data())));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ConfHandle> MakeConf(const KafkaConfig& config, const PropertyList& defaults) {
  COOP_RETURN_IF_ERROR(config.Validate());
  ConfHandle conf(rd_kafka_conf_new());
  COOP_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", config.bootstrap_servers, "kafka"));
  COOP_RETURN_IF_ERROR(Set(conf.get(), "client.id", config.client_id, "kafka"));
  for (const auto& [name, value] : defaults) {
    COOP_RETURN_IF_ERROR(Set(conf.get(), name, value, "kafka"));
  }
  for (const auto& [name, value] : config.properties) {
    COOP_RETURN_IF_ERROR(Set(conf.get(), name, value, "properties"));
  }
  return conf;
}

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type, ConfHandle conf) {
  std::array<char, 512> err{};
  // On success rd_kafka_new owns the configuration; on failure it stays ours.
  KafkaHandle handle(rd_kafka_new(type, conf.get(), err.data(), err.size()));
  if (handle == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create Kafka client: ", absl::string_view(err.data())));
  }
  conf.release();
  return handle;
}

}  // namespace coop::kafka::internal
