#include "common/kafka/kafka_config.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace coop::kafka {

absl::Status KafkaConfig::Validate() const {
  if (bootstrap_servers.empty()) {
    return absl::InvalidArgumentError("bootstrap_servers: must not be empty");
  }
  for (absl::string_view server : absl::StrSplit(bootstrap_servers, ',')) {
    // Accept an optional scheme-like prefix (SSL://host:port) as librdkafka does.
    if (auto scheme = server.find("://"); scheme != absl::string_view::npos) {
      server.remove_prefix(scheme + 3);
    }
    const size_t colon = server.rfind(':');
    int port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(server.substr(colon + 1), &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("bootstrap_servers: '", server,
                                                     "' is not host:port with a port in 1..65535"));
    }
  }
  if (client_id.empty()) {
    return absl::InvalidArgumentError("client_id: must not be empty");
  }
  for (const auto& [name, value] : properties) {
    if (name.empty()) {
      return absl::InvalidArgumentError("properties: a property has an empty name");
    }
  }
  return absl::OkStatus();
}

absl::Status KafkaConfig::AddProperties(const std::vector<std::string>& name_values) {
  std::map<std::string, std::string> parsed;
  for (const std::string& entry : name_values) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("kafka property '", entry, "' is not name=value"));
    }
    parsed[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (auto& [name, value] : parsed) properties[name] = std::move(value);
  return absl::OkStatus();
}

}  // namespace coop::kafka
