// coop-views: keeps the materialised views of the event log and serves coop.v1.Views. Reads
// flags, starts the engine (consumer of the serving generation) and the gRPC server, waits for
// SIGTERM or SIGINT, then stops: no new calls, calls in flight answered, the batch in hand
// committed, exit 0. All logic lives in the libraries.
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
#include "consumers/views/metrics.h"
#include "consumers/views/views_engine.h"
#include "consumers/views/views_service.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50052", "gRPC address to listen on (host:port)");
ABSL_FLAG(std::string, bootstrap_servers, "127.0.0.1:9092", "Kafka brokers, host:port,...");
ABSL_FLAG(std::vector<std::string>, kafka_property, {},
          "librdkafka properties name=value,... (e.g. security.protocol=SASL_SSL)");
ABSL_FLAG(std::string, events_topic, "coop.events", "The event log topic");
ABSL_FLAG(std::string, dead_letter_topic, "coop.events.dlq",
          "Where records that cannot be applied go");
ABSL_FLAG(std::string, sqlite_dir, ".data/views",
          "Directory of the SQLite views (used unless --postgres_url is set)");
ABSL_FLAG(std::string, postgres_url, "",
          "PostgreSQL connection string or postgresql:// URL: the shared store for several "
          "instances and for analysts");
ABSL_FLAG(std::string, group_prefix, "coop-views",
          "Kafka consumer groups of the PostgreSQL instances are {prefix}-g{generation}");
ABSL_FLAG(int, max_batch_records, 5000, "Events applied per database transaction, at most");
ABSL_FLAG(bool, skip_missing_records, false,
          "Read on from the first record left when records at a stored position were deleted "
          "from the log (the views then lack them); by default the consumer stops with "
          "DATA_LOSS");
ABSL_FLAG(absl::Duration, settle_delay, absl::Seconds(60),
          "as_of answers for instants older than this are final and cached");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9465",
          "HTTP address (host:port) serving Prometheus metrics at /metrics; empty disables");
ABSL_FLAG(int, max_threads, 64, "Calls served at once, at most (each holds a thread)");
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
      "coop-views --policy=FILE [flags]: materialised views of the event log, over gRPC and SQL");
  absl::ParseCommandLine(argc, argv);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  coop::views::ViewsEngineOptions options;
  options.consumer.kafka.bootstrap_servers = absl::GetFlag(FLAGS_bootstrap_servers);
  options.consumer.kafka.client_id = "coop-views";
  if (absl::Status added =
          options.consumer.kafka.AddProperties(absl::GetFlag(FLAGS_kafka_property));
      !added.ok()) {
    return Fail(added);
  }
  options.consumer.topic = absl::GetFlag(FLAGS_events_topic);
  options.consumer.dead_letter_topic = absl::GetFlag(FLAGS_dead_letter_topic);
  options.consumer.max_batch_records = absl::GetFlag(FLAGS_max_batch_records);
  options.consumer.skip_missing_records = absl::GetFlag(FLAGS_skip_missing_records);
  if (options.consumer.max_batch_records < 1) {
    return Fail(absl::InvalidArgumentError("--max_batch_records: must be at least 1"));
  }
  options.sqlite_dir = absl::GetFlag(FLAGS_sqlite_dir);
  options.postgres_url = absl::GetFlag(FLAGS_postgres_url);
  options.group_prefix = absl::GetFlag(FLAGS_group_prefix);
  options.settle_delay = absl::GetFlag(FLAGS_settle_delay);

  absl::StatusOr<coop::auth::ServerSecurity> security =
      coop::auth::LoadServerSecurity(coop::auth::ServerSecurityOptionsFromFlags());
  if (!security.ok()) return Fail(security.status());

  absl::StatusOr<std::unique_ptr<coop::views::ViewsEngine>> engine =
      coop::views::ViewsEngine::Start(options);
  if (!engine.ok()) return Fail(engine.status());

  std::unique_ptr<coop::views::ViewsMetricsServer> metrics_server;
  if (!absl::GetFlag(FLAGS_metrics_listen).empty()) {
    absl::StatusOr<std::unique_ptr<coop::views::ViewsMetricsServer>> started =
        coop::views::ViewsMetricsServer::Start(absl::GetFlag(FLAGS_metrics_listen), **engine);
    if (!started.ok()) return Fail(started.status());
    metrics_server = *std::move(started);
    spdlog::info("metrics at http://{}/metrics port={}", absl::GetFlag(FLAGS_metrics_listen),
                 metrics_server->port());
  }

  coop::views::ViewsService service(**engine, security->authenticator);
  grpc::EnableDefaultHealthCheckService(true);
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // Each call holds a server thread while it waits for min_position and runs its SQL; bound them.
  grpc::ResourceQuota quota("coop-views");
  quota.SetMaxThreads(absl::GetFlag(FLAGS_max_threads));
  builder.SetResourceQuota(quota);
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), security->credentials, &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return Fail(absl::UnavailableError(
        absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen), " (address in use?)")));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("views serving listen={} port={} kafka={} topic={} store={}",
               absl::GetFlag(FLAGS_listen), port, options.consumer.kafka.bootstrap_servers,
               options.consumer.topic,
               options.postgres_url.empty() ? options.sqlite_dir : "postgresql");

  // Health follows the consumer: NOT_SERVING once it has stopped on an error (the views would
  // only grow stale), SERVING again if a switch to a new generation brings one back.
  std::atomic<bool> stopping{false};
  std::thread health_watch([&] {
    bool serving = true;
    while (!stopping.load()) {
      const absl::Status health = (*engine)->health();
      if (health.ok() != serving) {
        serving = health.ok();
        server->GetHealthCheckService()->SetServingStatus(serving);
        if (!serving) spdlog::error("views: NOT_SERVING: {}", health.ToString());
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
  server->Shutdown(std::chrono::system_clock::now() +
                   absl::ToChronoSeconds(absl::GetFlag(FLAGS_shutdown_grace)));
  server.reset();
  metrics_server.reset();
  engine->reset();  // Commits the batch in hand and stops the consumers.
  spdlog::info("stopped");
  return 0;
}
