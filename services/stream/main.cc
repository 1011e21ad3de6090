// coop-stream: serves coop.v1.Subscriptions (live subscriptions and audit replay). Reads flags,
// starts the shared log tail, the subscription hub and the gRPC server, waits for SIGTERM or
// SIGINT, then stops: subscriptions end with UNAVAILABLE and their resume cursor, replays in
// flight are given the grace period, exit 0. All logic lives in the libraries.
#include <atomic>
#include <csignal>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/security_flags.h"
#include "common/auth/server_security.h"
#include "common/kafka/topic_admin.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "services/stream/log_tail.h"
#include "services/stream/metrics.h"
#include "services/stream/stream_service.h"
#include "services/stream/subscriptions.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50053", "gRPC address to listen on (host:port)");
ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "Extra librdkafka properties, name=value (repeatable or comma-separated)");
ABSL_FLAG(std::string, events_topic, "coop.events", "The event log topic");
ABSL_FLAG(int64_t, ring_mib, 64, "Memory of the shared ring of recent records, in MiB");
ABSL_FLAG(int64_t, ring_records, 200000, "Records the shared ring holds, at most");
ABSL_FLAG(int, catchup_slots, 8, "Kafka readers serving subscriptions that read history");
ABSL_FLAG(absl::Duration, catchup_wait, absl::Seconds(5),
          "How long a subscription waits for a catch-up reader before RESOURCE_EXHAUSTED");
ABSL_FLAG(int, max_streams_per_principal, 2000, "Open subscriptions per principal, at most");
ABSL_FLAG(absl::Duration, settle_delay, absl::Seconds(60),
          "How far in the past a replay's end_time must be");
ABSL_FLAG(int, max_replays, 4, "Replays running at once, at most");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9466",
          "Prometheus /metrics address (host:port); empty: off");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "How long shutdown waits for calls in flight");

namespace {

int Fail(const absl::Status& status) {
  spdlog::critical("cannot start: {}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "coop-stream --policy=FILE [flags]: live subscriptions and audit replay of the event log");
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  coop::kafka::KafkaConfig kafka;
  kafka.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  kafka.client_id = "coop-stream";
  if (absl::Status added = kafka.AddProperties(absl::GetFlag(FLAGS_kafka_property)); !added.ok()) {
    return Fail(added);
  }
  const std::string topic = absl::GetFlag(FLAGS_events_topic);
  if (absl::GetFlag(FLAGS_ring_mib) < 1 || absl::GetFlag(FLAGS_ring_records) < 1000) {
    return Fail(absl::InvalidArgumentError(
        "--ring_mib must be at least 1 and --ring_records at least 1000"));
  }
  if (absl::GetFlag(FLAGS_catchup_slots) < 1 || absl::GetFlag(FLAGS_max_replays) < 1 ||
      absl::GetFlag(FLAGS_max_streams_per_principal) < 1) {
    return Fail(absl::InvalidArgumentError(
        "--catchup_slots, --max_replays and --max_streams_per_principal must be at least 1"));
  }

  absl::StatusOr<coop::auth::ServerSecurity> security =
      coop::auth::LoadServerSecurity(coop::auth::ServerSecurityOptionsFromFlags());
  if (!security.ok()) return Fail(security.status());

  coop::cursor::LogId log{.topic = topic};
  {
    absl::StatusOr<std::unique_ptr<coop::kafka::TopicAdmin>> admin =
        coop::kafka::TopicAdmin::Create(kafka);
    if (!admin.ok()) return Fail(admin.status());
    absl::StatusOr<std::string> cluster = (*admin)->ClusterId(absl::Seconds(30));
    if (!cluster.ok()) return Fail(cluster.status());
    log.cluster_id = *cluster;
  }

  coop::stream::LogTailOptions tail_options;
  tail_options.kafka = kafka;
  tail_options.topic = topic;
  tail_options.max_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_ring_mib)) << 20;
  tail_options.max_entries = static_cast<size_t>(absl::GetFlag(FLAGS_ring_records));
  absl::StatusOr<std::unique_ptr<coop::stream::LogTail>> tail =
      coop::stream::LogTail::Start(tail_options);
  if (!tail.ok()) return Fail(tail.status());

  coop::stream::SubscriptionOptions hub_options;
  hub_options.kafka = kafka;
  hub_options.topic = topic;
  hub_options.log = log;
  hub_options.catchup_slots = absl::GetFlag(FLAGS_catchup_slots);
  hub_options.catchup_wait = absl::GetFlag(FLAGS_catchup_wait);
  hub_options.max_streams_per_principal = absl::GetFlag(FLAGS_max_streams_per_principal);
  auto hub = std::make_unique<coop::stream::SubscriptionHub>(hub_options, **tail);

  coop::stream::ReplayServiceOptions replay;
  replay.kafka = kafka;
  replay.topic = topic;
  replay.log = log;
  replay.settle_delay = absl::GetFlag(FLAGS_settle_delay);
  replay.max_replays = absl::GetFlag(FLAGS_max_replays);
  coop::stream::StreamService service(*hub, security->authenticator, replay);

  std::unique_ptr<coop::stream::StreamMetricsServer> metrics_server;
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    absl::StatusOr<std::unique_ptr<coop::stream::StreamMetricsServer>> started =
        coop::stream::StreamMetricsServer::Start(absl::GetFlag(FLAGS_metrics_listen), **tail, *hub,
                                                 service);
    if (!started.ok()) return Fail(started.status());
    metrics_server = *std::move(started);
    spdlog::info("metrics at http://{}/metrics port={}", absl::GetFlag(FLAGS_metrics_listen),
                 metrics_server->port());
  }

  grpc::EnableDefaultHealthCheckService(true);
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
  spdlog::info("stream serving listen={} port={} kafka={} topic={} partitions={}",
               absl::GetFlag(FLAGS_listen), port, kafka.bootstrap_servers, topic,
               (*tail)->partitions());

  // Health follows the tail: NOT_SERVING once it has stopped (live delivery would stall).
  std::atomic<bool> stopping{false};
  std::thread health_watch([&] {
    bool serving = true;
    while (!stopping.load()) {
      const absl::Status health = (*tail)->health();
      if (health.ok() != serving) {
        serving = health.ok();
        server->GetHealthCheckService()->SetServingStatus(serving);
        if (!serving) spdlog::error("stream: NOT_SERVING: {}", health.ToString());
      }
      absl::SleepFor(absl::Milliseconds(500));
    }
  });

  int signal = 0;
  sigwait(&signals, &signal);
  stopping = true;
  health_watch.join();
  spdlog::info("signal {}: shutting down", signal);
  server->GetHealthCheckService()->SetServingStatus(false);
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  hub->Shutdown(absl::Now() + std::min(grace, absl::Seconds(10)));
  server->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  server.reset();
  metrics_server.reset();
  hub.reset();
  tail->reset();
  spdlog::info("stopped");
  return 0;
}
