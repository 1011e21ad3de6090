#include "common/server/server_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/server/metrics_endpoint.h"
#include "grpc/health/v1/health.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "spdlog/spdlog.h"

namespace coop::server {
namespace {

// One gRPC server and the roles it carries.
struct HostedServer {
  std::string listen;
  std::vector<Role*> roles;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// Sets each role's services, and the server as a whole (""), to SERVING or NOT_SERVING by the
// roles' health; logs changes.
void UpdateHealth(HostedServer& hosted, std::map<Role*, bool>& last, bool stopping) {
  grpc::HealthCheckServiceInterface* health = hosted.server->GetHealthCheckService();
  bool all = true;
  for (Role* role : hosted.roles) {
    const absl::Status status = stopping ? absl::UnavailableError("stopping") : role->health();
    all = all && status.ok();
    auto [it, first] = last.try_emplace(role, !status.ok());
    if (!first && it->second == status.ok()) continue;
    it->second = status.ok();
    for (const Role::HostedService& service : role->services()) {
      health->SetServingStatus(service.full_name, status.ok());
    }
    if (!status.ok() && !stopping) {
      spdlog::error("{}: NOT_SERVING: {}", role->name(), status.ToString());
    } else if (status.ok() && !first) {
      spdlog::info("{}: SERVING again", role->name());
    }
  }
  health->SetServingStatus("", all);
}

}  // namespace

absl::Status RunServers(const std::vector<Placement>& placements, const RunOptions& options,
                        const sigset_t& signals) {
  // Metrics first: a scrape may come as soon as the servers are up.
  std::map<std::string, std::unique_ptr<MetricsEndpoint>> endpoints;
  for (const Placement& placement : placements) {
    if (placement.metrics_listen.empty()) continue;
    std::unique_ptr<MetricsEndpoint>& endpoint = endpoints[placement.metrics_listen];
    if (endpoint == nullptr) {
      absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started =
          MetricsEndpoint::Start(placement.metrics_listen);
      if (!started.ok()) return started.status();
      endpoint = *std::move(started);
    }
    if (std::shared_ptr<prometheus::Collectable> metrics = placement.role->metrics()) {
      endpoint->Register(metrics);
    }
    spdlog::info("metrics at http://{}/metrics port={} role={}", placement.metrics_listen,
                 endpoint->port(), placement.role->name());
  }

  std::vector<HostedServer> servers;
  for (const Placement& placement : placements) {
    auto it = std::find_if(servers.begin(), servers.end(),
                           [&](const HostedServer& s) { return s.listen == placement.listen; });
    if (it == servers.end()) {
      servers.push_back({.listen = placement.listen});
      it = servers.end() - 1;
    }
    it->roles.push_back(placement.role);
  }

  grpc::EnableDefaultHealthCheckService(true);
  // Links the grpc.health.v1 descriptor in, so reflection (and grpcurl) can describe Health.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  for (HostedServer& hosted : servers) {
    grpc::ServerBuilder builder;
    // Without SO_REUSEPORT: a second server on a port in use must fail, not share it.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    grpc::ResourceQuota quota(absl::StrCat("coop-", hosted.listen));
    quota.SetMaxThreads(options.max_threads);
    builder.SetResourceQuota(quota);
    builder.AddListeningPort(hosted.listen, options.credentials, &hosted.port);
    for (Role* role : hosted.roles) {
      for (const Role::HostedService& service : role->services()) {
        builder.RegisterService(service.service);
      }
    }
    hosted.server = builder.BuildAndStart();
    if (hosted.server == nullptr || hosted.port == 0) {
      for (HostedServer& started : servers) {
        if (started.server != nullptr) started.server->Shutdown();
      }
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", hosted.listen, " (address in use?)"));
    }
  }
  std::vector<std::map<Role*, bool>> health(servers.size());
  for (size_t i = 0; i < servers.size(); ++i) UpdateHealth(servers[i], health[i], false);
  for (const HostedServer& hosted : servers) {
    for (Role* role : hosted.roles) {
      spdlog::info("{} serving listen={} port={} {}", role->name(), hosted.listen, hosted.port,
                   role->Describe());
    }
  }

  // Health follows the roles: NOT_SERVING while one cannot serve (its views would only grow
  // stale, its live delivery would stall), SERVING again when it recovers.
  std::atomic<bool> stopping{false};
  std::thread health_watch([&] {
    while (!stopping.load()) {
      absl::SleepFor(absl::Milliseconds(500));
      for (size_t i = 0; i < servers.size(); ++i) UpdateHealth(servers[i], health[i], false);
    }
  });

  int signal = 0;
  sigwait(&signals, &signal);
  stopping = true;
  health_watch.join();
  spdlog::info("signal {}: shutting down, answering calls in flight", signal);
  for (size_t i = 0; i < servers.size(); ++i) UpdateHealth(servers[i], health[i], true);
  const absl::Time deadline = absl::Now() + options.shutdown_grace;
  for (const Placement& placement : placements) placement.role->BeginShutdown(deadline);
  for (HostedServer& hosted : servers) hosted.server->Shutdown(absl::ToChronoTime(deadline));
  servers.clear();
  endpoints.clear();
  return absl::OkStatus();
}

}  // namespace coop::server
