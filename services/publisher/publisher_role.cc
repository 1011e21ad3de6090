#include "services/publisher/publisher_role.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace coop::publisher {

absl::StatusOr<std::unique_ptr<PublisherRole>> PublisherRole::Create(
    const EventPublisherConfig& config, const auth::Authenticator& authenticator) {
  absl::StatusOr<std::unique_ptr<EventPublisher>> publisher = EventPublisher::Create(config);
  if (!publisher.ok()) return publisher.status();
  return std::unique_ptr<PublisherRole>(
      new PublisherRole(config, *std::move(publisher), authenticator));
}

PublisherRole::PublisherRole(EventPublisherConfig config, std::unique_ptr<EventPublisher> publisher,
                             const auth::Authenticator& authenticator)
    : config_(std::move(config)),
      publisher_(std::move(publisher)),
      metrics_({.producer_queue_depth = [p = publisher_.get()] { return p->QueueDepth(); }}),
      service_(publisher_.get(), &authenticator, {}, &metrics_) {}

PublisherRole::~PublisherRole() = default;

std::vector<server::Role::HostedService> PublisherRole::services() {
  return {{.service = &service_, .full_name = "coop.v1.Publisher"}};
}

std::shared_ptr<prometheus::Collectable> PublisherRole::metrics() { return metrics_.collectable(); }

std::string PublisherRole::Describe() const {
  return absl::StrCat("kafka=", config_.kafka.bootstrap_servers, " topic=", config_.events_topic,
                      " instance=", config_.instance_id);
}

}  // namespace coop::publisher
