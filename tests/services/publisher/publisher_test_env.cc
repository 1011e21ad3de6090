#include "tests/services/publisher/publisher_test_env.h"

#include <memory>
#include <utility>

#include "absl/synchronization/notification.h"
#include "common/auth/policy.h"
#include "common/kafka/topic_admin.h"
#include "common/status_macros.h"
#include "tests/common/auth/test_policy.h"

namespace coop::publisher::testing {

absl::Status CreateTopic(const kafka::KafkaConfig& kafka, const std::string& topic,
                         int32_t partitions) {
  COOP_ASSIGN_OR_RETURN(std::unique_ptr<kafka::TopicAdmin> admin, kafka::TopicAdmin::Create(kafka));
  return admin->EnsureTopics({kafka::TopicSpec{.name = topic, .partitions = partitions}},
                             absl::Seconds(60));
}

absl::StatusOr<auth::Authenticator> TestAuthenticator() {
  COOP_ASSIGN_OR_RETURN(auth::Policy policy, auth::Policy::Parse(auth::testing::TestPolicyJson()));
  return auth::Authenticator::Create(std::move(policy));
}

absl::StatusOr<coop::v1::PublishAck> PublishAndWait(EventPublisher& publisher,
                                                    coop::v1::Event event,
                                                    absl::Duration deadline) {
  absl::Notification done;
  absl::StatusOr<coop::v1::PublishAck> result;
  publisher.Publish(std::move(event), absl::Now() + deadline,
                    [&](absl::StatusOr<coop::v1::PublishAck> ack) {
                      result = std::move(ack);
                      done.Notify();
                    });
  done.WaitForNotification();
  return result;
}

}  // namespace coop::publisher::testing
