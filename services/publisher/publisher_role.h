// The publisher role of a coopstream server: the event publisher (Kafka producers, dedup
// index) behind the coop.v1.Publisher service, and its metrics.
#ifndef COOP_SERVICES_PUBLISHER_PUBLISHER_ROLE_H_
#define COOP_SERVICES_PUBLISHER_PUBLISHER_ROLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth/authenticator.h"
#include "common/server/role.h"
#include "services/publisher/event_publisher.h"
#include "services/publisher/metrics.h"
#include "services/publisher/publisher_service.h"

namespace coop::publisher {

class PublisherRole final : public server::Role {
 public:
  // Connects to Kafka and loads the dedup window (EventPublisher::Create). `authenticator`
  // must outlive the role.
  static absl::StatusOr<std::unique_ptr<PublisherRole>> Create(
      const EventPublisherConfig& config, const auth::Authenticator& authenticator);
  // Flushes the producers.
  ~PublisherRole() override;

  std::string name() const override { return "publisher"; }
  std::vector<HostedService> services() override;
  std::shared_ptr<prometheus::Collectable> metrics() override;
  // Follows the publisher: not OK once a publish path cannot write any more (fenced).
  absl::Status health() const override { return publisher_->health(); }
  std::string Describe() const override;

 private:
  PublisherRole(EventPublisherConfig config, std::unique_ptr<EventPublisher> publisher,
                const auth::Authenticator& authenticator);

  EventPublisherConfig config_;
  std::unique_ptr<EventPublisher> publisher_;
  PublisherMetrics metrics_;
  PublisherService service_;
};

}  // namespace coop::publisher

#endif  // COOP_SERVICES_PUBLISHER_PUBLISHER_ROLE_H_
