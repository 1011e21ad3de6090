// The stream role of a coopstream server: the shared log tail and the subscription hub behind
// coop.v1.Subscriptions (live subscriptions and audit replay), and its metrics.
#ifndef COOP_SERVICES_STREAM_STREAM_ROLE_H_
#define COOP_SERVICES_STREAM_STREAM_ROLE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/kafka/kafka_config.h"
#include "common/server/role.h"
#include "services/stream/log_tail.h"
#include "services/stream/stream_service.h"
#include "services/stream/subscriptions.h"

namespace coop::stream {

struct StreamRoleOptions {
  kafka::KafkaConfig kafka;
  std::string topic = "coop.events";
  // The shared ring of recent records: bytes and records at most.
  size_t ring_bytes = size_t{64} << 20;
  size_t ring_records = 200000;
  // Kafka readers serving subscriptions that read history, and how long a subscription waits
  // for one before RESOURCE_EXHAUSTED.
  int catchup_slots = 8;
  absl::Duration catchup_wait = absl::Seconds(5);
  int max_streams_per_principal = 2000;
  // How far in the past a replay's end_time must be.
  absl::Duration settle_delay = absl::Seconds(60);
  int max_replays = 4;

  // INVALID_ARGUMENT naming the flag of a value out of range.
  absl::Status Validate() const;
};

class StreamRole final : public server::Role {
 public:
  // Reads the cluster id and starts the tail. `authenticator` must outlive the role.
  static absl::StatusOr<std::unique_ptr<StreamRole>> Create(
      StreamRoleOptions options, const auth::Authenticator& authenticator);
  ~StreamRole() override;

  std::string name() const override { return "stream"; }
  std::vector<HostedService> services() override;
  std::shared_ptr<prometheus::Collectable> metrics() override;
  // Follows the tail: not OK once it has stopped (live delivery would stall).
  absl::Status health() const override;
  std::string Describe() const override;
  // Ends the subscriptions (within 10 s at most) so that the server's grace is not spent on them.
  void BeginShutdown(absl::Time deadline) override;

 private:
  StreamRole(StreamRoleOptions options, std::unique_ptr<LogTail> tail,
             std::unique_ptr<SubscriptionHub> hub, const auth::Authenticator& authenticator,
             const ReplayServiceOptions& replay);

  StreamRoleOptions options_;
  std::unique_ptr<LogTail> tail_;
  std::unique_ptr<SubscriptionHub> hub_;
  StreamService service_;
  std::shared_ptr<prometheus::Collectable> metrics_;
};

}  // namespace coop::stream

#endif  // COOP_SERVICES_STREAM_STREAM_ROLE_H_
