#include "services/stream/stream_role.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/kafka/topic_admin.h"
#include "services/stream/metrics.h"

namespace coop::stream {

absl::Status StreamRoleOptions::Validate() const {
  if (ring_bytes < (size_t{1} << 20) || ring_records < 1000) {
    return absl::InvalidArgumentError(
        "--ring_mib must be at least 1 and --ring_records at least 1000");
  }
  if (catchup_slots < 1 || max_replays < 1 || max_streams_per_principal < 1) {
    return absl::InvalidArgumentError(
        "--catchup_slots, --max_replays and --max_streams_per_principal must be at least 1");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StreamRole>> StreamRole::Create(
    StreamRoleOptions options, const auth::Authenticator& authenticator) {
  if (absl::Status valid = options.Validate(); !valid.ok()) return valid;
  options.kafka.client_id = "coop-stream";
  cursor::LogId log{.topic = options.topic};
  {
    absl::StatusOr<std::unique_ptr<kafka::TopicAdmin>> admin =
        kafka::TopicAdmin::Create(options.kafka);
    if (!admin.ok()) return admin.status();
    absl::StatusOr<std::string> cluster = (*admin)->ClusterId(absl::Seconds(30));
    if (!cluster.ok()) return cluster.status();
    log.cluster_id = *cluster;
  }

  LogTailOptions tail_options;
  tail_options.kafka = options.kafka;
  tail_options.topic = options.topic;
  tail_options.max_bytes = options.ring_bytes;
  tail_options.max_entries = options.ring_records;
  absl::StatusOr<std::unique_ptr<LogTail>> tail = LogTail::Start(tail_options);
  if (!tail.ok()) return tail.status();

  SubscriptionOptions hub_options;
  hub_options.kafka = options.kafka;
  hub_options.topic = options.topic;
  hub_options.log = log;
  hub_options.catchup_slots = options.catchup_slots;
  hub_options.catchup_wait = options.catchup_wait;
  hub_options.max_streams_per_principal = options.max_streams_per_principal;
  auto hub = std::make_unique<SubscriptionHub>(hub_options, **tail);

  ReplayServiceOptions replay;
  replay.kafka = options.kafka;
  replay.topic = options.topic;
  replay.log = log;
  replay.settle_delay = options.settle_delay;
  replay.max_replays = options.max_replays;
  return std::unique_ptr<StreamRole>(
      new StreamRole(std::move(options), *std::move(tail), std::move(hub), authenticator, replay));
}

StreamRole::StreamRole(StreamRoleOptions options, std::unique_ptr<LogTail> tail,
                       std::unique_ptr<SubscriptionHub> hub,
                       const auth::Authenticator& authenticator, const ReplayServiceOptions& replay)
    : options_(std::move(options)),
      tail_(std::move(tail)),
      hub_(std::move(hub)),
      service_(*hub_, authenticator, replay),
      metrics_(MakeStreamMetrics(*tail_, *hub_, service_)) {}

// The service goes first, then the hub, then the tail the hub reads.
StreamRole::~StreamRole() = default;

std::vector<server::Role::HostedService> StreamRole::services() {
  return {{.service = &service_, .full_name = "coop.v1.Subscriptions"}};
}

std::shared_ptr<prometheus::Collectable> StreamRole::metrics() { return metrics_; }

absl::Status StreamRole::health() const { return tail_->health(); }

std::string StreamRole::Describe() const {
  return absl::StrCat("kafka=", options_.kafka.bootstrap_servers, " topic=", options_.topic,
                      " partitions=", tail_->partitions());
}

void StreamRole::BeginShutdown(absl::Time deadline) {
  hub_->Shutdown(std::min(deadline, absl::Now() + absl::Seconds(10)));
}

}  // namespace coop::stream
