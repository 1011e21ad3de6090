// A role of a coopstream server process: publisher, stream or views. A role owns what it needs
// (Kafka clients, stores, its gRPC services) and is hosted by RunServer (server_runner.h), which
// may host several roles in one process, on one gRPC port or on several.
#ifndef COOP_COMMON_SERVER_ROLE_H_
#define COOP_COMMON_SERVER_ROLE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace prometheus {
class Collectable;
}  // namespace prometheus

namespace coop::server {

class Role {
 public:
  virtual ~Role() = default;

  // "publisher", "stream" or "views": the name in logs and in --roles.
  virtual std::string name() const = 0;

  // The gRPC services to register; they must outlive the servers (they do: the role outlives
  // them). Each comes with its full name ("coop.v1.Publisher"), under which the health service
  // reports it.
  struct HostedService {
    grpc::Service* service;
    std::string full_name;
  };
  virtual std::vector<HostedService> services() = 0;

  // Its Prometheus metrics, read at scrape time; null for none.
  virtual std::shared_ptr<prometheus::Collectable> metrics() = 0;

  // Whether it can serve: the health service reports NOT_SERVING for its services while this is
  // not OK (e.g. its Kafka tail stopped). Called every 500 ms from a thread of the runner.
  virtual absl::Status health() const { return absl::OkStatus(); }

  // A line of what it is connected to, for the "serving" log line ("kafka=... topic=...").
  virtual std::string Describe() const = 0;

  // First step of shutdown, after the health service said NOT_SERVING and before the gRPC
  // servers stop: end long calls (subscriptions) so that the servers' grace is not spent on
  // them. Calls in flight must still be answered.
  virtual void BeginShutdown(absl::Time deadline) { (void)deadline; }
};

}  // namespace coop::server

#endif  // COOP_COMMON_SERVER_ROLE_H_
