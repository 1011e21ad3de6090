// What the publisher's integration and fault tests share.
#ifndef COOP_TESTS_SERVICES_PUBLISHER_PUBLISHER_TEST_ENV_H_
#define COOP_TESTS_SERVICES_PUBLISHER_PUBLISHER_TEST_ENV_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/authenticator.h"
#include "common/kafka/kafka_config.h"
#include "coop/v1/publisher.pb.h"
#include "services/publisher/event_publisher.h"

namespace coop::publisher::testing {

// Creates `topic` with `partitions` partitions on the brokers of `kafka`.
absl::Status CreateTopic(const kafka::KafkaConfig& kafka, const std::string& topic,
                         int32_t partitions);

// An authenticator over the policy of tests/common/auth/test_policy.h.
absl::StatusOr<auth::Authenticator> TestAuthenticator();

// Publishes `event` through `publisher` (no gRPC) and waits for the answer.
absl::StatusOr<coop::v1::PublishAck> PublishAndWait(EventPublisher& publisher,
                                                    coop::v1::Event event, absl::Duration deadline);

}  // namespace coop::publisher::testing

#endif  // COOP_TESTS_SERVICES_PUBLISHER_PUBLISHER_TEST_ENV_H_
