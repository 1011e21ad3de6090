#include "consumers/views/views_role.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "consumers/views/metrics.h"

namespace coop::views {

absl::StatusOr<std::unique_ptr<ViewsRole>> ViewsRole::Create(
    ViewsEngineOptions options, const auth::Authenticator& authenticator) {
  if (options.consumer.max_batch_records < 1) {
    return absl::InvalidArgumentError("--max_batch_records: must be at least 1");
  }
  options.consumer.kafka.client_id = "coop-views";
  absl::StatusOr<std::unique_ptr<ViewsEngine>> engine = ViewsEngine::Start(options);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<ViewsRole>(
      new ViewsRole(std::move(options), *std::move(engine), authenticator));
}

ViewsRole::ViewsRole(ViewsEngineOptions options, std::unique_ptr<ViewsEngine> engine,
                     const auth::Authenticator& authenticator)
    : options_(std::move(options)),
      engine_(std::move(engine)),
      service_(*engine_, authenticator),
      metrics_(MakeViewsMetrics(*engine_)) {}

ViewsRole::~ViewsRole() = default;

std::vector<server::Role::HostedService> ViewsRole::services() {
  return {{.service = &service_, .full_name = "coop.v1.Views"}};
}

std::string ViewsRole::Describe() const {
  return absl::StrCat(
      "kafka=", options_.consumer.kafka.bootstrap_servers, " topic=", options_.consumer.topic,
      " store=", options_.postgres_url.empty() ? options_.sqlite_dir : "postgresql");
}

}  // namespace coop::views
