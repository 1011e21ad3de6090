// coop-publisher: the gRPC publish service. Reads flags, starts things, waits for SIGTERM or
// SIGINT, then shuts down gracefully: stops accepting calls, answers every call in flight (ack
// or error), flushes the producer, exits 0. All logic lives in the libraries.
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/security_flags.h"
#include "common/auth/server_security.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "services/publisher/event_publisher.h"
#include "services/publisher/metrics.h"
#include "services/publisher/publisher_service.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "gRPC address to listen on (host:port)");
ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "librdkafka properties name=value,... (e.g. security.protocol=SASL_SSL)");
ABSL_FLAG(std::string, events_topic, "coop.events", "The event log topic");
ABSL_FLAG(std::string, instance_id, "publisher-1",
          "Stable id of this instance, unique among instances (Kafka transactional id)");
ABSL_FLAG(absl::Duration, dedup_window, absl::Hours(24 * 7),
          "Retries of an event id within this window are answered from the log");
ABSL_FLAG(absl::Duration, delivery_timeout, absl::Seconds(30),
          "How long Kafka may take to confirm a record");
ABSL_FLAG(bool, cross_instance_dedup, true,
          "Read the log to its end before answering 'not seen', so that events other instances "
          "acknowledged are duplicates here too; false only when one instance writes the topic");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "HTTP address (host:port) serving Prometheus metrics at /metrics; empty disables");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "How long shutdown waits for calls in flight");

namespace {

int Fail(const absl::Status& status) {
  spdlog::critical("cannot start: {}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("coop-publisher --policy=FILE [flags]: the gRPC publish service");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles, a debugging aid that
  // costs on the hot path; our lock order is simple and covered by the sanitizer build.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  // SIGTERM/SIGINT are handled by sigwait below; block them in every thread started later.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  coop::publisher::EventPublisherConfig config;
  config.kafka.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  config.kafka.client_id = absl::StrCat("coop-publisher-", absl::GetFlag(FLAGS_instance_id));
  if (absl::Status added = config.kafka.AddProperties(absl::GetFlag(FLAGS_kafka_property));
      !added.ok()) {
    return Fail(added);
  }
  config.events_topic = absl::GetFlag(FLAGS_events_topic);
  config.instance_id = absl::GetFlag(FLAGS_instance_id);
  config.dedup_window = absl::GetFlag(FLAGS_dedup_window);
  config.delivery_timeout = absl::GetFlag(FLAGS_delivery_timeout);
  config.cross_instance_dedup = absl::GetFlag(FLAGS_cross_instance_dedup);

  absl::StatusOr<coop::auth::ServerSecurity> security =
      coop::auth::LoadServerSecurity(coop::auth::ServerSecurityOptionsFromFlags());
  if (!security.ok()) return Fail(security.status());

  absl::StatusOr<std::unique_ptr<coop::publisher::EventPublisher>> publisher =
      coop::publisher::EventPublisher::Create(config);
  if (!publisher.ok()) return Fail(publisher.status());

  coop::publisher::EventPublisher* event_publisher = publisher->get();
  coop::publisher::PublisherMetrics metrics({
      .producer_queue_depth = [event_publisher] { return event_publisher->QueueDepth(); },
  });
  // Destroyed before the publisher: its scrapes read the producer's queue depth.
  std::unique_ptr<coop::publisher::MetricsServer> metrics_server;
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    absl::StatusOr<std::unique_ptr<coop::publisher::MetricsServer>> started =
        coop::publisher::MetricsServer::Start(absl::GetFlag(FLAGS_metrics_listen), metrics);
    if (!started.ok()) return Fail(started.status());
    metrics_server = *std::move(started);
    spdlog::info("metrics at http://{}/metrics port={}", absl::GetFlag(FLAGS_metrics_listen),
                 metrics_server->port());
  }

  coop::publisher::PublisherService service(publisher->get(), &security->authenticator, {},
                                            &metrics);
  grpc::EnableDefaultHealthCheckService(true);
  // Links the grpc.health.v1 descriptor in, so reflection (and grpcurl) can describe Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), security->credentials, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen), " (address in use?)")));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("publisher serving listen={} port={} kafka={} topic={} instance={}",
               absl::GetFlag(FLAGS_listen), port, config.kafka.bootstrap_servers,
               config.events_topic, config.instance_id);

  int signal = 0;
  sigwait(&signals, &signal);
  spdlog::info("signal {}: shutting down, answering calls in flight", signal);
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoSeconds(absl::GetFlag(FLAGS_shutdown_grace)));
  server.reset();
  metrics_server.reset();
  publisher->reset();  // Flushes the producers.
  spdlog::info("stopped");
  return 0;
}
